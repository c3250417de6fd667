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

// Bounds of the maps; setSteering rejects more rules than this.
#define ULVS_MAX_SERVICES 4096
#define ULVS_MAX_REPLIES 16384
// One AF_XDP socket per RX queue.
#define ULVS_MAX_QUEUES 64
