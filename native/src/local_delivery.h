// LOCAL descriptors: one connection of a service goes to a real server on the director itself
// (127/8, its own address, the VIP) while the service's other servers are remote, so the XDP
// program (or tc filter) cannot simply pass the whole VIP:port to the kernel. The frame's IPv4
// packet is sent, unchanged, on a raw IPPROTO_RAW socket (IP_HDRINCL): its destination is a
// local address, so the kernel routes it over loopback into its own stack, where the socket
// listening on VIP:port takes it, as IPVS's ip_vs_null_xmit does. The reply leaves through the
// kernel's routes, like any packet of the director's own. One socket per process (sendto is
// thread safe); a failure is counted, never thrown.
#pragma once
#include <stdint.h>

#include "backend.h"

namespace ulvs {

void DeliverLocally(const uint8_t* frame, uint32_t length, PortStats& stats);

}  // namespace ulvs
