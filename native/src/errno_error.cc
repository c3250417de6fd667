#include "errno_error.h"

#include <string.h>

namespace ulvs {

Napi::Error ErrnoError(Napi::Env env, const SysError& e) {
  std::string msg = e.syscall + ": " + strerror(e.err);
  if (!e.detail.empty()) msg += " (" + e.detail + ")";
  Napi::Error error = Napi::Error::New(env, msg);
  const char* name = strerrorname_np(e.err);
  error.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  error.Set("errno", Napi::Number::New(env, -e.err));
  error.Set("syscall", Napi::String::New(env, e.syscall));
  return error;
}

Napi::Value ThrowSysError(Napi::Env env, const SysError& e) {
  ErrnoError(env, e).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowTypeError(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace ulvs
