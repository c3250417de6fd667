// SO_PEERCRED gives the pid, uid and gid the peer had when it called connect() (the kernel
// records them then): the control socket decides on them, not on anything the peer sends.
#include "peer_credentials.h"

#include <errno.h>
#include <sys/socket.h>

#include "errno_error.h"

namespace ulvs {
namespace {

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return ThrowTypeError(env, "peerCredentials(fd): fd of a connected unix socket");
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return ThrowSysError(env, SysError{errno, "getsockopt(SO_PEERCRED)", ""});
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, cred.pid));
  o.Set("uid", Napi::Number::New(env, cred.uid));
  o.Set("gid", Napi::Number::New(env, cred.gid));
  return o;
}

}  // namespace

void InitPeerCredentials(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
}

}  // namespace ulvs
