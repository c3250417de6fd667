// In-place rewrites for the three IPVS forwarding methods, over frame memory already parsed by
// parseFrame. No allocation, no throwing: failures are RewriteResult codes the caller counts.
//
// What IPVS does to a forwarded packet, per method (net/netfilter/ipvs/ip_vs_xmit.c):
// - every method goes through __ip_vs_get_out_rt(), which calls decrement_ttl() for a non-local
//   destination: TTL <= 1 is dropped with ICMP time exceeded, else TTL - 1 with the header
//   checksum fixed. So DR, NAT and TUN all decrement the (inner) TTL, contrary to the folklore
//   that DR leaves packets untouched: the dataplane calls decrementTtl() before the rewrites below.
// - DR (ip_vs_dr_xmit): nothing else in the IP packet changes; the frame goes to the real
//   server's MAC -> rewriteForDirectRouting.
// - NAT (ip_vs_nat_xmit + tcp/udp dnat_handler): destination address and port become the real
//   server's, IP and L4 checksums updated -> rewriteForNat; replies get the virtual address and
//   port back as source (snat_handler) -> rewriteNatReply. The replies' TTL is decremented by
//   the kernel's forwarding path, so decrementTtl applies to them too.
// - TUN (ip_vs_tunnel_xmit): a new outer IPv4 header, protocol 4, TOS and TTL copied from the
//   (already decremented) inner header, DF copied from the inner header (pmtu_disc, the default),
//   a fresh IP id -> encapsulateTunnel (tunnels.ts; GRE and GUE too, keepalived's tun_type).
// Where IPVS answers with an ICMP error (TTL expired: time exceeded; too big with DF: frag
// needed) the dataplane answers too (src/packet/icmp-error.ts turnIntoIcmpError, rate-limited
// in src/dataplane/icmp.ts) and counts the packet as dropped.

import {
  TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET,
  udpChecksumForWire, updateChecksum16,
} from './checksum.js';
import { IPPROTO_TCP, IPPROTO_UDP, type ParsedFrame } from './parse.js';

export const RewriteResult = {
  OK: 0,
  /** NAT only translates TCP and UDP (ICMP errors need the quoted header rewritten instead). */
  UNSUPPORTED_PROTOCOL: 1,
  /** TTL was 0 or 1: IPVS drops it and sends ICMP time exceeded. */
  TTL_EXPIRED: 2,
  /** TUN: neither headroom before the frame nor room after it in its slot. */
  NO_ROOM: 3,
  /** TUN: the encapsulated packet would exceed the MTU. */
  MTU_EXCEEDED: 4,
} as const;
export type RewriteResult = (typeof RewriteResult)[keyof typeof RewriteResult];

export const REWRITE_RESULT_NAMES: readonly string[] = Object.freeze(
  Object.entries(RewriteResult).sort((a, b) => a[1] - b[1]).map(([name]) => name),
);

export const DEFAULT_MTU = 1500;

/** Overwrite the Ethernet destination and source addresses of the frame at frameOffset. */
export function writeEthernetAddresses(u8: Uint8Array, frameOffset: number, dstMac: Uint8Array, srcMac: Uint8Array): void {
  for (let i = 0; i < 6; i++) {
    u8[frameOffset + i] = dstMac[i];
    u8[frameOffset + 6 + i] = srcMac[i];
  }
}

/** DR: the IP packet is untouched (after decrementTtl); only the MACs change. */
export function rewriteForDirectRouting(u8: Uint8Array, frameOffset: number, dstMac: Uint8Array, srcMac: Uint8Array): void {
  writeEthernetAddresses(u8, frameOffset, dstMac, srcMac);
}

/**
 * TTL - 1 with an incremental header checksum update, as IPVS's decrement_ttl().
 * Returns TTL_EXPIRED (frame untouched) when the TTL is 0 or 1. Keeps parsed.ttl in step.
 */
export function decrementTtl(u8: Uint8Array, dv: DataView, parsed: ParsedFrame): RewriteResult {
  const l3 = parsed.l3Offset;
  const ttl = u8[l3 + 8];
  if (ttl <= 1) return RewriteResult.TTL_EXPIRED;
  const protocol = u8[l3 + 9];
  const oldWord = (ttl << 8) | protocol;
  u8[l3 + 8] = ttl - 1;
  dv.setUint16(l3 + 10, updateChecksum16(dv.getUint16(l3 + 10), oldWord, oldWord - 0x100));
  parsed.ttl = ttl - 1;
  return RewriteResult.OK;
}

const IP_SRC_FIELD = 12;
const IP_DST_FIELD = 16;
const L4_SRC_PORT_FIELD = 0;
const L4_DST_PORT_FIELD = 2;

/** Replace one address (src or dst) and the matching port, fixing IP and TCP/UDP checksums. */
function translate(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame,
  ipField: number, portField: number, ips: Uint32Array, at: number, newPort: number,
): RewriteResult {
  const protocol = parsed.protocol;
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return RewriteResult.UNSUPPORTED_PROTOCOL;
  const l3 = parsed.l3Offset;
  const l4 = parsed.l4Offset;
  // Addresses as 16-bit halves: small integers, so no call here (inlined or not) boxes a uint32
  // above 2^31 into a heap number.
  const newIp = ips[at];
  const newHi = newIp >>> 16, newLo = newIp & 0xffff;
  const oldHi = dv.getUint16(l3 + ipField), oldLo = dv.getUint16(l3 + ipField + 2);
  const oldPort = dv.getUint16(l4 + portField);
  dv.setUint16(l3 + 10, updateChecksum16(updateChecksum16(dv.getUint16(l3 + 10), oldHi, newHi), oldLo, newLo));
  dv.setUint16(l3 + ipField, newHi);
  dv.setUint16(l3 + ipField + 2, newLo);
  dv.setUint16(l4 + portField, newPort);
  // The L4 checksum covers the pseudo header, so the address change lands there too.
  if (protocol === IPPROTO_TCP) {
    const field = l4 + TCP_CHECKSUM_OFFSET;
    dv.setUint16(field, updateChecksum16(updateChecksum16(updateChecksum16(dv.getUint16(field), oldHi, newHi), oldLo, newLo), oldPort, newPort));
  } else {
    const field = l4 + UDP_CHECKSUM_OFFSET;
    const sum = dv.getUint16(field);
    // 0: the sender sent no checksum, and none is added. Otherwise the three updates chain as
    // plain one's-complement steps: an intermediate 0x0000 is a value (zero), not "no checksum"
    // (updateUdpChecksum16 would read it so and leave 0 on the wire), and only the result is
    // sent as 0xFFFF when it computes to 0.
    if (sum !== 0) dv.setUint16(field, udpChecksumForWire(updateChecksum16(updateChecksum16(updateChecksum16(sum, oldHi, newHi), oldLo, newLo), oldPort, newPort)));
  }
  return RewriteResult.OK;
}

/**
 * NAT towards the real server: destination ip:port -> ips[at]:newDstPort. parsed.dstIp and
 * parsed.dstPort follow. MACs are the caller's (writeEthernetAddresses), as is decrementTtl.
 * The address comes through memory, not as an argument, and the checksums are updated by
 * 16-bit halves: a uint32 above 2^31 passed to a call V8 does not inline is boxed into a heap
 * number (the NAT step allocated 17 bytes a packet that way).
 */
export function rewriteForNat(u8: Uint8Array, dv: DataView, parsed: ParsedFrame, ips: Uint32Array, at: number, newDstPort: number): RewriteResult {
  const result = translate(u8, dv, parsed, IP_DST_FIELD, L4_DST_PORT_FIELD, ips, at, newDstPort);
  if (result === RewriteResult.OK) {
    parsed.dstIp = ips[at];
    parsed.dstPort = newDstPort;
  }
  return result;
}

/** NAT reply from the real server: source ip:port -> the virtual service's ips[at]:newSrcPort (see rewriteForNat). */
export function rewriteNatReply(u8: Uint8Array, dv: DataView, parsed: ParsedFrame, ips: Uint32Array, at: number, newSrcPort: number): RewriteResult {
  const result = translate(u8, dv, parsed, IP_SRC_FIELD, L4_SRC_PORT_FIELD, ips, at, newSrcPort);
  if (result === RewriteResult.OK) {
    parsed.srcIp = ips[at];
    parsed.srcPort = newSrcPort;
  }
  return result;
}

/** Where a rewritten frame now lives; one reusable instance per worker. */
export class FrameSpan {
  offset = 0;
  length = 0;
}
