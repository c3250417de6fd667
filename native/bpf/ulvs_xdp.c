// ulvs's XDP program: takes to the AF_XDP socket only what the balancer owns,
// everything else goes on to the kernel (XDP_PASS). Steered packets with no socket are dropped.
//  - services: packets whose (dst ip, dst port, proto) is a virtual service
//  - replies:  packets whose (src ip, src port, proto) is a NAT real server
// IPv4 fragments (MF set or offset != 0) are always passed: a non-first
// fragment has no ports to match, and steering only the first one would split
// the datagram between ulvs and the kernel. ulvs does not balance fragmented
// datagrams (IPVS reassembles them in netfilter first; we cannot here).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "steering.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, ULVS_MAX_SERVICES);
  __type(key, struct ulvs_steer_key);
  __type(value, __u8);
} services SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, ULVS_MAX_REPLIES);
  __type(key, struct ulvs_steer_key);
  __type(value, __u8);
} replies SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, ULVS_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

#define IP_FRAGMENT_BITS 0x3fff  // MF flag + 13-bit fragment offset

SEC("xdp")
int ulvs_xdp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;

  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_PASS;
  if (ip->version != 4 || ip->ihl < 5) return XDP_PASS;
  if (ip->frag_off & bpf_htons(IP_FRAGMENT_BITS)) return XDP_PASS;
  if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) return XDP_PASS;

  // Ports sit at the same place in TCP and UDP: source then destination.
  __u16 *ports = (void *)ip + ip->ihl * 4;
  if ((void *)(ports + 2) > data_end) return XDP_PASS;

  struct ulvs_steer_key key = {};
  key.proto = ip->protocol;
  key.ip = ip->daddr;
  key.port = ports[1];
  if (!bpf_map_lookup_elem(&services, &key)) {
    key.ip = ip->saddr;
    key.port = ports[0];
    if (!bpf_map_lookup_elem(&replies, &key)) return XDP_PASS;
  }
  // No socket on this queue (the director died, or has no worker for it): drop, do not pass.
  // The kernel holds the VIP and would answer a mid-flow segment with a RST, breaking a
  // connection the other director is about to pick up; a dropped one is retransmitted.
  return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);
}

char LICENSE[] SEC("license") = "GPL";
