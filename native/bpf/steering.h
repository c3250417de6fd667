// Shared between the XDP program and the addon: the steering map layout.
// Addresses and ports are in network byte order, as they sit in the packet,
// so the XDP program compares without byte swaps.
#pragma once
#include <linux/types.h>

struct ulvs_steer_key {
  __u32 ip;     // services: destination IP; replies: source IP
  __u16 port;   // services: destination port; replies: source port
  __u8 proto;   // IPPROTO_TCP or IPPROTO_UDP
  __u8 pad;     // always 0: hash keys compare every byte
};

// IPv6 (issue 16): its own maps, so the IPv4 key and lookups stay 8 bytes.
struct ulvs_steer_key6 {
  __u32 ip[4];  // services6: destination address; replies6: source address
  __u16 port;
  __u8 proto;
  __u8 pad;     // always 0
};

// Bounds of the maps; setSteering rejects more rules than this.
#define ULVS_MAX_SERVICES 4096
#define ULVS_MAX_REPLIES 16384
// One AF_XDP socket per RX queue.
#define ULVS_MAX_QUEUES 64
