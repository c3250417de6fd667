#!/usr/bin/env bash
# Makes @jazzer.js/fuzzer's prebuilt libFuzzer addon load on Debian 12. Its 4.0.0 prebuild
# needs glibc 2.38 and GCC 13's libstdc++ for three symbols; the package ships no C++ sources
# and older majors download prebuilds from GitHub at install time (no internet on CI). So we
# keep the prebuild (Jazzer.js's own libFuzzer fork) and point those symbols at a small shim:
# patchelf drops their version tags and adds the shim as a NEEDED library found via $ORIGIN,
# and elf-weaken-version.py marks the two version requirements weak (glibc then only warns
# in LD_DEBUG). Idempotent: does nothing when the addon already loads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=node_modules/@jazzer.js/fuzzer/prebuilds
addon=$dir/fuzzer-linux-x64.node
[ "$(uname -m)" = x86_64 ] || exit 0
[ -f "$addon" ] || { echo "jazzer-prebuilt: $addon missing (npm install first)" >&2; exit 1; }
loads() { node -e "require('./$addon')" 2>/dev/null; }
loads && exit 0
echo "setup: patching Jazzer.js's prebuilt fuzzer.node for this glibc"
[ -f "$addon.orig" ] || cp "$addon" "$addon.orig"
cp "$addon.orig" "$addon"
g++ -O2 -shared -fPIC -o "$dir/libglibc238-shim.so" scripts/jazzer-glibc-shim.cc
# patchelf 0.14 corrupts the file when given several operations at once: one per call.
for sym in __isoc23_strtol __isoc23_strtoul _ZSt21ios_base_library_initv; do
  patchelf --clear-symbol-version "$sym" "$addon"
done
patchelf --add-needed libglibc238-shim.so "$addon"
patchelf --force-rpath --set-rpath '$ORIGIN' "$addon"
python3 scripts/elf-weaken-version.py "$addon" GLIBC_2.38 >/dev/null
python3 scripts/elf-weaken-version.py "$addon" GLIBCXX_3.4.32 >/dev/null
loads || { node -e "require('./$addon')"; echo "jazzer-prebuilt: the patched addon still does not load" >&2; exit 1; }
