// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. Node has no
// unix datagram sockets, so the service-manager protocol lives here.
#pragma once
#include <napi.h>

// Adds sdNotify(socketPath: string, message: string): void to `exports`.
void InitSdNotify(Napi::Env env, Napi::Object exports);
