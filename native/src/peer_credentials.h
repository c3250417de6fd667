// peerCredentials(fd): the credentials of the process at the other end of a connected unix
// socket (SO_PEERCRED), for the control socket's permission checks.
#pragma once
#include <napi.h>

namespace ulvs {
void InitPeerCredentials(Napi::Env env, Napi::Object exports);
}  // namespace ulvs
