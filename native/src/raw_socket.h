// Raw IPv4 sockets (VRRP, ICMP) and AF_PACKET sockets (gratuitous ARP) for the
// control plane. Node has neither; these are slow-path sockets, one JS callback
// per readable batch, never used by the dataplane.
#pragma once
#include <napi.h>

// Adds RawSocket and PacketSocket classes to `exports`. Context-aware: no
// static JS handles, safe in worker threads.
Napi::Object InitRawSocket(Napi::Env env, Napi::Object exports);
