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
//   a fresh IP id -> encapsulateIpip. Too big with DF -> ICMP frag needed (buildIcmpFragNeeded);
//   TTL expired -> ICMP time exceeded (buildIcmpTimeExceeded).

import {
  ICMP_CHECKSUM_OFFSET, TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET,
  updateChecksum16, updateChecksum32, updateUdpChecksum16, updateUdpChecksum32, writeIpv4HeaderChecksum, icmpChecksum,
} from './checksum.js';
import {
  IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED_CODE,
  ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED,
  IPV4_MIN_HEADER_LENGTH, ICMP_HEADER_LENGTH, type ParsedFrame,
} from './parse.js';

export const RewriteResult = {
  OK: 0,
  /** NAT only translates TCP and UDP (ICMP errors need the quoted header rewritten instead). */
  UNSUPPORTED_PROTOCOL: 1,
  /** TTL was 0 or 1: IPVS drops it and sends ICMP time exceeded. */
  TTL_EXPIRED: 2,
  /** IPIP: neither headroom before the frame nor room after it in its slot. */
  NO_ROOM: 3,
  /** IPIP: the encapsulated packet would exceed the MTU. */
  MTU_EXCEEDED: 4,
} as const;
export type RewriteResult = (typeof RewriteResult)[keyof typeof RewriteResult];

export const REWRITE_RESULT_NAMES: readonly string[] = Object.freeze(
  Object.entries(RewriteResult).sort((a, b) => a[1] - b[1]).map(([name]) => name),
);

export const IPIP_OVERHEAD = IPV4_MIN_HEADER_LENGTH;
export const DEFAULT_MTU = 1500;
/** TTL of packets the director originates (ICMP errors), as Linux's default ip_default_ttl. */
export const DEFAULT_TTL = 64;

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
  ipField: number, portField: number, newIp: number, newPort: number,
): RewriteResult {
  const protocol = parsed.protocol;
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return RewriteResult.UNSUPPORTED_PROTOCOL;
  const l3 = parsed.l3Offset;
  const l4 = parsed.l4Offset;
  const oldIp = dv.getUint32(l3 + ipField);
  const oldPort = dv.getUint16(l4 + portField);
  dv.setUint16(l3 + 10, updateChecksum32(dv.getUint16(l3 + 10), oldIp, newIp));
  dv.setUint32(l3 + ipField, newIp);
  dv.setUint16(l4 + portField, newPort);
  // The L4 checksum covers the pseudo header, so the address change lands there too.
  if (protocol === IPPROTO_TCP) {
    const field = l4 + TCP_CHECKSUM_OFFSET;
    dv.setUint16(field, updateChecksum16(updateChecksum32(dv.getUint16(field), oldIp, newIp), oldPort, newPort));
  } else {
    const field = l4 + UDP_CHECKSUM_OFFSET;
    dv.setUint16(field, updateUdpChecksum16(updateUdpChecksum32(dv.getUint16(field), oldIp, newIp), oldPort, newPort));
  }
  return RewriteResult.OK;
}

/**
 * NAT towards the real server: destination ip:port -> newDstIp:newDstPort. parsed.dstIp and
 * parsed.dstPort follow. MACs are the caller's (writeEthernetAddresses), as is decrementTtl.
 */
export function rewriteForNat(u8: Uint8Array, dv: DataView, parsed: ParsedFrame, newDstIp: number, newDstPort: number): RewriteResult {
  const result = translate(u8, dv, parsed, IP_DST_FIELD, L4_DST_PORT_FIELD, newDstIp, newDstPort);
  if (result === RewriteResult.OK) {
    parsed.dstIp = newDstIp;
    parsed.dstPort = newDstPort;
  }
  return result;
}

/** NAT reply from the real server: source ip:port -> the virtual service's newSrcIp:newSrcPort. */
export function rewriteNatReply(u8: Uint8Array, dv: DataView, parsed: ParsedFrame, newSrcIp: number, newSrcPort: number): RewriteResult {
  const result = translate(u8, dv, parsed, IP_SRC_FIELD, L4_SRC_PORT_FIELD, newSrcIp, newSrcPort);
  if (result === RewriteResult.OK) {
    parsed.srcIp = newSrcIp;
    parsed.srcPort = newSrcPort;
  }
  return result;
}

/**
 * NAT for an ICMP error about a NAT connection, as IPVS's ip_vs_nat_icmp(). Towards the real
 * server (`toRealServer`, e.g. a client's frag-needed about a reply from VIP:vport): outer
 * destination, quoted source address and quoted source port become the real server's. From the
 * real server (e.g. port unreachable for a UDP reply): outer source, quoted destination address
 * and quoted destination port become the virtual service's. The quoted IP header checksum and
 * the ICMP checksum are recomputed in full (ICMP errors are small); the quoted TCP/UDP checksum
 * is left alone, as IPVS does (the quote is truncated anyway).
 * UNSUPPORTED_PROTOCOL when the frame is not an ICMP error with a parsed quote.
 */
export function rewriteIcmpErrorForNat(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, toRealServer: boolean, newIp: number, newPort: number,
): RewriteResult {
  const inner = parsed.icmpInnerL3Offset;
  if (parsed.protocol !== IPPROTO_ICMP || inner < 0) return RewriteResult.UNSUPPORTED_PROTOCOL;
  const l3 = parsed.l3Offset;
  const outerField = toRealServer ? IP_DST_FIELD : IP_SRC_FIELD;
  const innerField = toRealServer ? IP_SRC_FIELD : IP_DST_FIELD;
  dv.setUint16(l3 + 10, updateChecksum32(dv.getUint16(l3 + 10), dv.getUint32(l3 + outerField), newIp));
  dv.setUint32(l3 + outerField, newIp);
  const innerHeaderLength = (u8[inner] & 0x0f) << 2;
  dv.setUint32(inner + innerField, newIp);
  writeIpv4HeaderChecksum(u8, inner, innerHeaderLength);
  const innerProtocol = u8[inner + 9];
  const hasPorts = innerProtocol === IPPROTO_TCP || innerProtocol === IPPROTO_UDP;
  if (hasPorts) dv.setUint16(inner + innerHeaderLength + (toRealServer ? L4_SRC_PORT_FIELD : L4_DST_PORT_FIELD), newPort);
  const icmp = parsed.l4Offset;
  dv.setUint16(icmp + ICMP_CHECKSUM_OFFSET, icmpChecksum(u8, icmp, parsed.l4Length));
  if (toRealServer) {
    parsed.dstIp = newIp;
    parsed.icmpInnerSrcIp = newIp;
    if (hasPorts) parsed.icmpInnerSrcPort = newPort;
  } else {
    parsed.srcIp = newIp;
    parsed.icmpInnerDstIp = newIp;
    if (hasPorts) parsed.icmpInnerDstPort = newPort;
  }
  return RewriteResult.OK;
}

/** Where a rewritten frame now lives; one reusable instance per worker. */
export class FrameSpan {
  offset = 0;
  length = 0;
}

/**
 * TUN: put a 20-byte outer IPv4 header (protocol 4) between the Ethernet header and the inner
 * IPv4 packet, and address the frame to dstMac from srcMac (VLAN tag kept).
 * - headroom (frameOffset % frameSize >= 20): the Ethernet header moves 20 bytes back;
 *   otherwise the inner packet moves 20 bytes forward within its slot (NO_ROOM if it won't fit).
 * - the result is refused with MTU_EXCEEDED when inner total length + 20 > mtu. IPVS then sends
 *   ICMP frag needed reporting mtu - 20 when DF is set (see buildIcmpFragNeeded) and would
 *   fragment otherwise; ulvs does not fragment, so the caller drops without DF.
 * Ethernet padding after the inner packet is not carried over. On OK, `out` holds the new
 * offset and length; `parsed` still describes the inner packet's fields but not its offsets.
 */
export function encapsulateIpip(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, frameSize: number,
  outerSrc: number, outerDst: number, ttl: number, ipId: number,
  dstMac: Uint8Array, srcMac: Uint8Array, mtu: number, out: FrameSpan,
): RewriteResult {
  const frameOffset = parsed.frameOffset;
  const l3 = parsed.l3Offset;
  const ethernetLength = l3 - frameOffset;
  const innerLength = parsed.totalLength;
  const outerLength = innerLength + IPIP_OVERHEAD;
  if (outerLength > mtu) return RewriteResult.MTU_EXCEEDED;
  const headroom = frameOffset % frameSize;
  let newOffset: number;
  if (headroom >= IPIP_OVERHEAD) {
    newOffset = frameOffset - IPIP_OVERHEAD;
    u8.copyWithin(newOffset, frameOffset, l3);
  } else {
    const slotEnd = frameOffset - headroom + frameSize;
    if (l3 + outerLength > slotEnd || l3 + outerLength > u8.length) return RewriteResult.NO_ROOM;
    newOffset = frameOffset;
    u8.copyWithin(l3 + IPIP_OVERHEAD, l3, l3 + innerLength);
  }
  writeEthernetAddresses(u8, newOffset, dstMac, srcMac);
  const outer = newOffset + ethernetLength;
  u8[outer] = 0x45;
  u8[outer + 1] = parsed.tos;
  dv.setUint16(outer + 2, outerLength);
  dv.setUint16(outer + 4, ipId & 0xffff);
  dv.setUint16(outer + 6, parsed.dontFragment ? 0x4000 : 0);
  u8[outer + 8] = ttl;
  u8[outer + 9] = IPPROTO_IPIP;
  dv.setUint16(outer + 10, 0);
  dv.setUint32(outer + 12, outerSrc);
  dv.setUint32(outer + 16, outerDst);
  writeIpv4HeaderChecksum(u8, outer, IPV4_MIN_HEADER_LENGTH);
  out.offset = newOffset;
  out.length = ethernetLength + outerLength;
  return RewriteResult.OK;
}

/**
 * Turn the frame in place into an ICMP error about it (RFC 792), sent back to its sender:
 * MACs swapped, VLAN kept, from `srcIp` (the director's address), quoting the original IP
 * header + 8 bytes. `rest` is the 32-bit word after the checksum (RFC 1191 next-hop MTU for
 * frag needed, 0 otherwise). Returns the new frame length, or 0 (frame untouched) when the
 * frame's slot has no room for the reply or the packet is itself an ICMP error (RFC 1122
 * 3.2.2: never answer an error with an error).
 */
export function buildIcmpError(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, frameSize: number,
  type: number, code: number, rest: number, srcIp: number, ipId: number,
): number {
  if (parsed.protocol === IPPROTO_ICMP && parsed.icmpType !== ICMP_ECHO_REQUEST && parsed.icmpType !== ICMP_ECHO_REPLY) return 0;
  const frameOffset = parsed.frameOffset;
  const l3 = parsed.l3Offset;
  const quoteLength = Math.min(parsed.ipHeaderLength + 8, parsed.totalLength);
  const icmpLength = ICMP_HEADER_LENGTH + quoteLength;
  const totalLength = IPV4_MIN_HEADER_LENGTH + icmpLength;
  const frameLength = l3 - frameOffset + totalLength;
  if ((frameOffset % frameSize) + frameLength > frameSize || frameOffset + frameLength > u8.length) return 0;
  const originalSender = parsed.srcIp;
  const icmp = l3 + IPV4_MIN_HEADER_LENGTH;
  // memmove semantics: the quote may overlap its source.
  u8.copyWithin(icmp + ICMP_HEADER_LENGTH, l3, l3 + quoteLength);
  for (let i = 0; i < 6; i++) {
    const t = u8[frameOffset + i];
    u8[frameOffset + i] = u8[frameOffset + 6 + i];
    u8[frameOffset + 6 + i] = t;
  }
  u8[l3] = 0x45;
  u8[l3 + 1] = 0xc0; // precedence "internetwork control", as Linux's icmp_send
  dv.setUint16(l3 + 2, totalLength);
  dv.setUint16(l3 + 4, ipId & 0xffff);
  dv.setUint16(l3 + 6, 0);
  u8[l3 + 8] = DEFAULT_TTL;
  u8[l3 + 9] = IPPROTO_ICMP;
  dv.setUint16(l3 + 10, 0);
  dv.setUint32(l3 + 12, srcIp);
  dv.setUint32(l3 + 16, originalSender);
  writeIpv4HeaderChecksum(u8, l3, IPV4_MIN_HEADER_LENGTH);
  u8[icmp] = type;
  u8[icmp + 1] = code;
  dv.setUint16(icmp + 2, 0);
  dv.setUint32(icmp + 4, rest >>> 0);
  dv.setUint16(icmp + ICMP_CHECKSUM_OFFSET, icmpChecksum(u8, icmp, icmpLength));
  return frameLength;
}

/**
 * ICMP destination unreachable / fragmentation needed with the next-hop MTU, as IPVS sends when
 * a DF packet won't fit (for TUN it reports the route MTU minus the 20-byte outer header).
 */
export function buildIcmpFragNeeded(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, frameSize: number, nextHopMtu: number, srcIp: number, ipId: number,
): number {
  return buildIcmpError(u8, dv, parsed, frameSize, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED_CODE, nextHopMtu & 0xffff, srcIp, ipId);
}

/** ICMP time exceeded in transit, as IPVS's decrement_ttl() sends for TTL <= 1. */
export function buildIcmpTimeExceeded(
  u8: Uint8Array, dv: DataView, parsed: ParsedFrame, frameSize: number, srcIp: number, ipId: number,
): number {
  return buildIcmpError(u8, dv, parsed, frameSize, ICMP_TIME_EXCEEDED, 0, 0, srcIp, ipId);
}
