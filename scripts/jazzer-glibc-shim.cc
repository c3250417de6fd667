// Lets Jazzer.js's prebuilt fuzzer.node load on Debian 12 (glibc 2.36, GCC 12's libstdc++).
// The prebuilt was linked against glibc 2.38 and GCC 13, which added three symbols it uses;
// on this glibc they mean exactly these (C23 only adds 0b prefixes to strtol, which no
// libFuzzer flag uses). scripts/jazzer-prebuilt.sh links the addon against this library.
#include <cstdlib>
#include <iostream>  // its static std::ios_base::Init sets up cout/cerr, as GCC 13's hook does

extern "C" long __isoc23_strtol(const char *s, char **end, int base) { return std::strtol(s, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return std::strtoul(s, end, base); }
namespace std { void ios_base_library_init() {} }
