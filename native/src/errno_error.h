// JS errors from errno: { message, code: 'ENODEV', errno, syscall }.
#pragma once
#include <napi.h>

#include <string>

namespace ulvs {

// A failed system call: errno value, the call's name, and optional detail
// (e.g. libbpf's last message) appended to the message.
struct SysError {
  int err = 0;
  std::string syscall;
  std::string detail;
  bool failed() const { return err != 0; }
};

Napi::Error ErrnoError(Napi::Env env, const SysError& e);
Napi::Value ThrowSysError(Napi::Env env, const SysError& e);
Napi::Value ThrowTypeError(Napi::Env env, const char* message);

}  // namespace ulvs
