// sdNotify(path, message): sends `message` as one SOCK_DGRAM datagram to the
// unix socket `path` ('@name' is the abstract namespace, as systemd writes it).
// Slow path (start-up, reload, watchdog pings): a socket per call is fine.
#include "sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "errno_error.h"

namespace {

using ulvs::SysError;
using ulvs::ThrowSysError;
using ulvs::ThrowTypeError;

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) {
    return ThrowTypeError(env, "sdNotify(socketPath: string, message: string)");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  std::string message = info[1].As<Napi::String>().Utf8Value();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@')) {
    return ThrowTypeError(env, "sdNotify: NOTIFY_SOCKET must be an absolute path or @abstract, shorter than 108 bytes");
  }
  memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowSysError(env, SysError{errno, "socket", path});
  ssize_t sent = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int saved = sent < 0 ? errno : 0;
  close(fd);
  if (sent < 0) {
    return ThrowSysError(env, SysError{saved, "sendto", path});
  }
  return env.Undefined();
}

}  // namespace

void InitSdNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
}
