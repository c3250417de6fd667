// ulvs's XDP program: takes to the AF_XDP socket only what the balancer owns,
// everything else goes on to the kernel (XDP_PASS). Steered packets with no socket are dropped.
//  - services: packets whose (dst ip, dst port, proto) is a virtual service
//  - replies:  packets whose (src ip, src port, proto) is a NAT real server
//  - ICMP errors (unreachable, source quench, time exceeded, parameter
//    problem) whose quoted packet came from a service (quoted src ip/port in
//    `services`) or went to a NAT real server (quoted dst ip/port in
//    `replies`): ulvs sends them to the connection's real server. Echo
//    requests and every other ICMP message go on to the kernel.
//  - IPv4 fragments whose (dst ip, port 0, proto) or (src ip, port 0, proto)
//    is in the maps: steering.ts adds that "whole address" key for every VIP
//    and NAT real server, so every fragment of a datagram (a non-first one has
//    no ports) reaches ulvs, which follows the first fragment's choice.
//    Fragments of other addresses still go to the kernel.
//  - IPv6 (services6, replies6): TCP/UDP after at most ULVS_MAX_EXT_HEADERS
//    hop-by-hop/routing/destination-options headers, by the same rules; a
//    fragment by its "whole address" key (port 0), as IPv4. ICMPv6 errors
//    (unreachable, packet too big, time exceeded, parameter problem) right
//    after the fixed header, quoting TCP/UDP right after the quoted fixed
//    header, by the IPv4 errors' rules; NDP, echo and the rest of ICMPv6 go
//    to the kernel.
//  - 802.1Q tags: on veth (and NICs with rx VLAN offload) the kernel moves a
//    frame's tag into metadata before XDP runs, so the frame looks untagged.
//    ulvs_xdp_vlan (loaded device-bound, for native mode) reads the tag with
//    the bpf_xdp_metadata_rx_vlan_tag kfunc (Linux 6.8+) and puts it back in
//    the frame before steering, so the dataplane sees it and drops it as
//    drop_vlan_tagged, as it does a tag left in the frame (screen.ts says
//    why). ulvs_xdp (generic mode, older kernels) cannot see a moved tag.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
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
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, ULVS_MAX_SERVICES);
  __type(key, struct ulvs_steer_key6);
  __type(value, __u8);
} services6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, ULVS_MAX_REPLIES);
  __type(key, struct ulvs_steer_key6);
  __type(value, __u8);
} replies6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, ULVS_MAX_QUEUES);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

#define IP_FRAGMENT_BITS 0x3fff  // MF flag + 13-bit fragment offset

// The verdicts of the steering functions below: the AF_XDP socket or the kernel.
#define STEER_PASS 0
#define STEER_ULVS 1

// Linux 6.8+: the 802.1Q tag the driver took out of the frame (veth: skb->vlan_tci).
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
                                        __u16 *vlan_tci) __ksym;

// linux/icmp.h drags in libc headers that the bpf target lacks: the few ICMP words we read.
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
struct icmphdr {
  __u8 type;
  __u8 code;
  __u16 checksum;
  __u32 rest;
};

static __always_inline int to_socket(struct xdp_md *ctx) {
  // No socket on this queue (the director died, or has no worker for it): drop, do not pass.
  // The kernel holds the VIP and would answer a mid-flow segment with a RST, breaking a
  // connection the other director is about to pick up; a dropped one is retransmitted.
  return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);
}

// A fragment of a datagram to a VIP or from a NAT real server (port 0 = "any port" key).
static __always_inline int steer_fragment(struct iphdr *ip) {
  if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) return STEER_PASS;
  struct ulvs_steer_key key = {};
  key.proto = ip->protocol;
  key.ip = ip->daddr;
  if (bpf_map_lookup_elem(&services, &key)) return STEER_ULVS;
  key.ip = ip->saddr;
  if (bpf_map_lookup_elem(&replies, &key)) return STEER_ULVS;
  return STEER_PASS;
}

// An ICMP error about a packet of ulvs's connections: the quoted header names them.
static __always_inline int steer_icmp_error(struct iphdr *ip, void *data_end) {
  struct icmphdr *icmp = (void *)ip + ip->ihl * 4;
  if ((void *)(icmp + 1) > data_end) return STEER_PASS;
  if (icmp->type != ICMP_DEST_UNREACH && icmp->type != ICMP_SOURCE_QUENCH &&
      icmp->type != ICMP_TIME_EXCEEDED && icmp->type != ICMP_PARAMETERPROB) return STEER_PASS;
  struct iphdr *inner = (void *)(icmp + 1);
  if ((void *)(inner + 1) > data_end) return STEER_PASS;
  if (inner->version != 4 || inner->ihl < 5) return STEER_PASS;
  if (inner->protocol != IPPROTO_TCP && inner->protocol != IPPROTO_UDP) return STEER_PASS;
  __u16 *ports = (void *)inner + inner->ihl * 4;
  if ((void *)(ports + 2) > data_end) return STEER_PASS;
  struct ulvs_steer_key key = {};
  key.proto = inner->protocol;
  // Quoted packet sent from VIP:vport (a reply the client's path refused).
  key.ip = inner->saddr;
  key.port = ports[0];
  if (bpf_map_lookup_elem(&services, &key)) return STEER_ULVS;
  // Quoted packet sent to a NAT real server (the real server refuses a client's packet).
  key.ip = inner->daddr;
  key.port = ports[1];
  if (bpf_map_lookup_elem(&replies, &key)) return STEER_ULVS;
  return STEER_PASS;
}

// The walk over IPv6 extension headers stops after this many (the dataplane's parser allows
// 8, src/packet/ipv6.ts; a longer chain goes to the kernel, which applies its own limits).
#define ULVS_MAX_EXT_HEADERS 4
#define IPV6_NEXTHDR_HOP 0
#define IPV6_NEXTHDR_ROUTING 43
#define IPV6_NEXTHDR_FRAGMENT 44
#define IPV6_NEXTHDR_DEST 60

static __always_inline void copy6(__u32 *to, const struct in6_addr *from) {
  to[0] = from->in6_u.u6_addr32[0];
  to[1] = from->in6_u.u6_addr32[1];
  to[2] = from->in6_u.u6_addr32[2];
  to[3] = from->in6_u.u6_addr32[3];
}

#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PARAMPROB 4

// An ICMPv6 error about a packet of ulvs's IPv6 connections (steer_icmp_error's twin).
static __always_inline int steer_icmp6_error(void *icmp, void *data_end) {
  __u8 *type = icmp;
  if ((void *)(type + 8) > data_end) return STEER_PASS;
  if (type[0] < ICMPV6_DEST_UNREACH || type[0] > ICMPV6_PARAMPROB) return STEER_PASS;
  struct ipv6hdr *inner = icmp + 8;
  if ((void *)(inner + 1) > data_end) return STEER_PASS;
  if (inner->version != 6) return STEER_PASS;
  if (inner->nexthdr != IPPROTO_TCP && inner->nexthdr != IPPROTO_UDP) return STEER_PASS;
  __u16 *ports = (void *)(inner + 1);
  if ((void *)(ports + 2) > data_end) return STEER_PASS;
  struct ulvs_steer_key6 key = {};
  key.proto = inner->nexthdr;
  // Quoted packet sent from VIP:vport (a reply the client's path refused).
  copy6(key.ip, &inner->saddr);
  key.port = ports[0];
  if (bpf_map_lookup_elem(&services6, &key)) return STEER_ULVS;
  // Quoted packet sent to a NAT66 real server (the real server refuses a client's packet).
  copy6(key.ip, &inner->daddr);
  key.port = ports[1];
  if (bpf_map_lookup_elem(&replies6, &key)) return STEER_ULVS;
  return STEER_PASS;
}

static __always_inline int steer_ipv6(struct ipv6hdr *ip6, void *data_end) {
  if ((void *)(ip6 + 1) > data_end) return STEER_PASS;
  if (ip6->nexthdr == IPPROTO_ICMPV6) return steer_icmp6_error((void *)(ip6 + 1), data_end);
  __u8 next = ip6->nexthdr;
  void *at = (void *)(ip6 + 1);
  int fragment = 0;
#pragma unroll
  for (int i = 0; i < ULVS_MAX_EXT_HEADERS; i++) {
    if (next != IPV6_NEXTHDR_HOP && next != IPV6_NEXTHDR_ROUTING && next != IPV6_NEXTHDR_DEST &&
        next != IPV6_NEXTHDR_FRAGMENT) break;
    __u8 *ext = at;
    if ((void *)(ext + 8) > data_end) return STEER_PASS;
    if (next == IPV6_NEXTHDR_FRAGMENT) {
      fragment = 1;
      next = ext[0];
      break;
    }
    next = ext[0];
    at += ((__u32)ext[1] + 1) * 8;
  }
  if (next != IPPROTO_TCP && next != IPPROTO_UDP) return STEER_PASS;
  struct ulvs_steer_key6 key = {};
  key.proto = next;
  if (fragment) {
    // Every fragment of a datagram to a VIP or from a NAT real server (port 0 key).
    copy6(key.ip, &ip6->daddr);
    if (bpf_map_lookup_elem(&services6, &key)) return STEER_ULVS;
    copy6(key.ip, &ip6->saddr);
    if (bpf_map_lookup_elem(&replies6, &key)) return STEER_ULVS;
    return STEER_PASS;
  }
  __u16 *ports = at;
  if ((void *)(ports + 2) > data_end) return STEER_PASS;
  copy6(key.ip, &ip6->daddr);
  key.port = ports[1];
  if (bpf_map_lookup_elem(&services6, &key)) return STEER_ULVS;
  copy6(key.ip, &ip6->saddr);
  key.port = ports[0];
  if (bpf_map_lookup_elem(&replies6, &key)) return STEER_ULVS;
  return STEER_PASS;
}

// Whether the frame is the balancer's (a service, a NAT reply, an ICMP error or fragment of theirs).
static __always_inline int steer(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return STEER_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) {
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) return steer_ipv6((void *)(eth + 1), data_end);
    return STEER_PASS;
  }

  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return STEER_PASS;
  if (ip->version != 4 || ip->ihl < 5) return STEER_PASS;
  if (ip->frag_off & bpf_htons(IP_FRAGMENT_BITS)) return steer_fragment(ip);
  if (ip->protocol == IPPROTO_ICMP) return steer_icmp_error(ip, data_end);
  if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) return STEER_PASS;

  // Ports sit at the same place in TCP and UDP: source then destination.
  __u16 *ports = (void *)ip + ip->ihl * 4;
  if ((void *)(ports + 2) > data_end) return STEER_PASS;

  struct ulvs_steer_key key = {};
  key.proto = ip->protocol;
  key.ip = ip->daddr;
  key.port = ports[1];
  if (!bpf_map_lookup_elem(&services, &key)) {
    key.ip = ip->saddr;
    key.port = ports[0];
    if (!bpf_map_lookup_elem(&replies, &key)) return STEER_PASS;
  }
  return STEER_ULVS;
}

// Puts a tag the driver moved to metadata back between the MACs and the EtherType.
static __always_inline int push_vlan_tag(struct xdp_md *ctx, __be16 proto, __u16 tci) {
  if (bpf_xdp_adjust_head(ctx, -4)) return -1;
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + ETH_HLEN + 4 > data_end) return -1;
  __u8 macs[12];
  __builtin_memcpy(macs, data + 4, 12);
  __builtin_memcpy(data, macs, 12);
  __be16 *tag = data + 12;
  tag[0] = proto;
  tag[1] = bpf_htons(tci);
  return 0;
}

// Generic (SKB) mode and kernels without the kfunc: steering only.
SEC("xdp")
int ulvs_xdp(struct xdp_md *ctx) {
  return steer(ctx) == STEER_ULVS ? to_socket(ctx) : XDP_PASS;
}

// Native mode, loaded bound to the interface (BPF_F_XDP_DEV_BOUND_ONLY): a frame of the
// balancer's whose tag the driver moved to metadata reaches ulvs with its tag, to be dropped
// there and counted. Tagged frames that are not the balancer's go on to the kernel (its VLAN
// devices) as before.
SEC("xdp")
int ulvs_xdp_vlan(struct xdp_md *ctx) {
  if (steer(ctx) != STEER_ULVS) return XDP_PASS;
  __be16 proto = 0;
  __u16 tci = 0;
  // -ENODATA: no tag (or no metadata: a frame redirected from another XDP program).
  if (bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci) == 0 && push_vlan_tag(ctx, proto, tci) < 0) return XDP_DROP;
  return to_socket(ctx);
}

char LICENSE[] SEC("license") = "GPL";
