// TUN encapsulation, the three tunnel types of IPVS (ip_vs_xmit.c ip_vs_tunnel_xmit) and
// keepalived (tun_type): IPIP (RFC 2003), GRE (RFC 2784, protocol 0x0800, optional checksum)
// and GUE (draft-ietf-intarea-gue as Linux's fou: UDP to tun_port, GUE version 0 carrying
// IPPROTO_IPIP). No allocation, no throwing: the result is a RewriteResult the caller counts.
//
// What each type puts between the Ethernet header and the inner IPv4 packet:
//   IPIP      outer IPv4 (proto 4)                                        20 bytes
//   GRE       outer IPv4 (proto 47) + GRE flags/version, protocol         24 bytes
//   GRE csum  ... + checksum, reserved1 (C bit set)                       28 bytes
//   GUE       outer IPv4 (proto 17) + UDP + GUE header (v0, hlen 0)       32 bytes
// The outer IPv4 header takes the inner TOS and (decremented) TTL, DF from the inner header
// (IPVS with pmtu_disc, the default) and a fresh IP id.

import { UDP_CHECKSUM_OFFSET, internetChecksum, transportChecksum, udpChecksumForWire, writeIpv4HeaderChecksum } from './checksum.js';
import { IPPROTO_IPIP, IPPROTO_UDP, IPV4_MIN_HEADER_LENGTH, UDP_HEADER_LENGTH, type ParsedFrame } from './parse.js';
import { FrameSpan, RewriteResult, writeEthernetAddresses } from './rewrite.js';

export const IPPROTO_GRE = 47;
export const ETHERTYPE_IP_IN_GRE = 0x0800;
export const GRE_FLAG_CSUM = 0x8000;
export const GUE_HEADER_LENGTH = 4;

/** A real server's tunnel: type and flags in one number, chosen at config time (tun_type, tun_flags). */
export const TunnelKind = {
  IPIP: 0,
  GRE: 1,
  /** GRE with tun_flags csum: the GRE checksum over GRE header and inner packet. */
  GRE_CSUM: 2,
  /** GUE with tun_flags nocsum (keepalived's default) or remcsum: outer UDP checksum 0. */
  GUE: 3,
  /** GUE with tun_flags csum: the outer UDP checksum computed. */
  GUE_CSUM: 4,
} as const;
export type TunnelKind = (typeof TunnelKind)[keyof typeof TunnelKind];

/** Bytes each kind adds in front of the inner packet, indexed by TunnelKind. */
export const TUNNEL_OVERHEAD: readonly number[] = Object.freeze([
  IPV4_MIN_HEADER_LENGTH,
  IPV4_MIN_HEADER_LENGTH + 4,
  IPV4_MIN_HEADER_LENGTH + 8,
  IPV4_MIN_HEADER_LENGTH + UDP_HEADER_LENGTH + GUE_HEADER_LENGTH,
  IPV4_MIN_HEADER_LENGTH + UDP_HEADER_LENGTH + GUE_HEADER_LENGTH,
]);
export const IPIP_OVERHEAD = TUNNEL_OVERHEAD[TunnelKind.IPIP];
export const MAX_TUNNEL_OVERHEAD = Math.max(...TUNNEL_OVERHEAD);

/** The inner MTU of a tunnel over a link of `mtu`: what frag needed reports (IPVS: mtu - tunnel header). */
export function tunnelMtu(mtu: number, kind: number): number {
  return mtu - TUNNEL_OVERHEAD[kind];
}

/** Linux's default ip_local_port_range: udp_flow_src_port picks GUE source ports in it. */
export const GUE_SOURCE_PORT_MIN = 32768;
export const GUE_SOURCE_PORT_MAX = 60999;

/**
 * GUE's UDP source port from the inner flow, so ECMP routers between director and real server
 * spread flows (Linux's udp_flow_src_port). Fragments hash on addresses and protocol only, so
 * all fragments of a datagram (the first has ports, the later ones not) take one path.
 */
export function gueSourcePort(p: ParsedFrame): number {
  let h = Math.imul(p.srcIp ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ p.dstIp, 0xc2b2ae35);
  h ^= p.protocol;
  if (!p.moreFragments && p.fragmentOffset === 0) h = Math.imul(h ^ ((p.srcPort << 16) | p.dstPort), 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  const range = GUE_SOURCE_PORT_MAX - GUE_SOURCE_PORT_MIN + 1;
  return GUE_SOURCE_PORT_MIN + Math.floor(((h >>> 0) * range) / 4294967296);
}

/**
 * Put the tunnel headers of `kind` between the Ethernet header and the inner IPv4 packet and
 * address the frame to dstMac from srcMac (VLAN tag kept). `udpPort` is GUE's tun_port.
 * - headroom (frameOffset % frameSize >= overhead): the Ethernet header moves back; otherwise
 *   the inner packet moves forward within its slot (NO_ROOM if it won't fit).
 * - MTU_EXCEEDED when inner total length + overhead > mtu, frame untouched. IPVS then sends
 *   ICMP frag needed reporting tunnelMtu() when DF is set, and fragments the outer packet
 *   otherwise; the dataplane sends that frag needed (DF) or drops, counted (no DF: one frame
 *   per descriptor, ulvs does not fragment).
 * Ethernet padding after the inner packet is not carried over. On OK, `out` holds the new
 * offset and length; `parsed` still describes the inner packet's fields but not its offsets.
 * outerSrc/outerDst as uint32 or as `ip | 0` (the same bits on the wire): the dataplane passes
 * `| 0`, which V8 never boxes into a heap number (FlowRecords.rsIp32).
 */
export function encapsulateTunnel(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, frameSize: number,
  kind: number, udpPort: number, outerSrc: number, outerDst: number, ttl: number, ipId: number,
  dstMac: Uint8Array, srcMac: Uint8Array, mtu: number, out: FrameSpan,
): RewriteResult {
  const overhead = TUNNEL_OVERHEAD[kind];
  const frameOffset = parsed.frameOffset;
  const l3 = parsed.l3Offset;
  const ethernetLength = l3 - frameOffset;
  const innerLength = parsed.totalLength;
  const outerLength = innerLength + overhead;
  if (outerLength > mtu) return RewriteResult.MTU_EXCEEDED;
  const headroom = frameOffset % frameSize;
  let newOffset: number;
  if (headroom >= overhead) {
    newOffset = frameOffset - overhead;
    u8.copyWithin(newOffset, frameOffset, l3);
  } else {
    const slotEnd = frameOffset - headroom + frameSize;
    if (l3 + outerLength > slotEnd || l3 + outerLength > u8.length) return RewriteResult.NO_ROOM;
    newOffset = frameOffset;
    u8.copyWithin(l3 + overhead, l3, l3 + innerLength);
  }
  writeEthernetAddresses(u8, newOffset, dstMac, srcMac);
  const outer = newOffset + ethernetLength;
  const l4 = outer + IPV4_MIN_HEADER_LENGTH;
  const l4Length = outerLength - IPV4_MIN_HEADER_LENGTH;
  let protocol: number = IPPROTO_IPIP;
  if (kind === TunnelKind.GRE || kind === TunnelKind.GRE_CSUM) {
    protocol = IPPROTO_GRE;
    dv.setUint16(l4, kind === TunnelKind.GRE_CSUM ? GRE_FLAG_CSUM : 0);
    dv.setUint16(l4 + 2, ETHERTYPE_IP_IN_GRE);
    if (kind === TunnelKind.GRE_CSUM) {
      dv.setUint32(l4 + 4, 0);
      dv.setUint16(l4 + 4, internetChecksum(u8, l4, l4Length));
    }
  } else if (kind === TunnelKind.GUE || kind === TunnelKind.GUE_CSUM) {
    protocol = IPPROTO_UDP;
    dv.setUint16(l4, gueSourcePort(parsed));
    dv.setUint16(l4 + 2, udpPort);
    dv.setUint16(l4 + 4, l4Length);
    dv.setUint16(l4 + 6, 0);
    // GUE version 0, no control bit, hlen 0 (no options), proto_ctype IPIP, flags 0.
    dv.setUint32(l4 + UDP_HEADER_LENGTH, IPPROTO_IPIP << 16);
    if (kind === TunnelKind.GUE_CSUM) {
      dv.setUint16(l4 + UDP_CHECKSUM_OFFSET,
        udpChecksumForWire(transportChecksum(u8, l4, l4Length, UDP_CHECKSUM_OFFSET, outerSrc, outerDst, IPPROTO_UDP)));
    }
  }
  u8[outer] = 0x45;
  u8[outer + 1] = parsed.tos;
  dv.setUint16(outer + 2, outerLength);
  dv.setUint16(outer + 4, ipId & 0xffff);
  dv.setUint16(outer + 6, parsed.dontFragment ? 0x4000 : 0);
  u8[outer + 8] = ttl;
  u8[outer + 9] = protocol;
  dv.setUint16(outer + 10, 0);
  dv.setUint32(outer + 12, outerSrc);
  dv.setUint32(outer + 16, outerDst);
  writeIpv4HeaderChecksum(u8, outer, IPV4_MIN_HEADER_LENGTH);
  out.offset = newOffset;
  out.length = ethernetLength + outerLength;
  return RewriteResult.OK;
}

/** IPIP, keepalived's default tun_type: encapsulateTunnel with TunnelKind.IPIP. */
export function encapsulateIpip(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, frameSize: number,
  outerSrc: number, outerDst: number, ttl: number, ipId: number,
  dstMac: Uint8Array, srcMac: Uint8Array, mtu: number, out: FrameSpan,
): RewriteResult {
  return encapsulateTunnel(u8, dv, parsed, frameSize, TunnelKind.IPIP, 0, outerSrc, outerDst, ttl, ipId, dstMac, srcMac, mtu, out);
}

/**
 * Config time: keepalived's tun_type + tun_flags as a TunnelKind. remcsum is GUE without an
 * outer checksum, as IPVS sends every forwarded packet (it adds the remote checksum option
 * only to CHECKSUM_PARTIAL packets, which a director forwarding received packets never has).
 */
export function tunnelKindOf(type: 'ipip' | 'gre' | 'gue', flags: 'nocsum' | 'csum' | 'remcsum' | undefined): TunnelKind {
  if (type === 'gre') return flags === 'csum' ? TunnelKind.GRE_CSUM : TunnelKind.GRE;
  if (type === 'gue') return flags === 'csum' ? TunnelKind.GUE_CSUM : TunnelKind.GUE;
  return TunnelKind.IPIP;
}
