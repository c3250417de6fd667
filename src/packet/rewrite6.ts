// In-place rewrites for IPv6 forwarding, over packets parsed by parseIpv6Packet; the IPv6 twin
// of rewrite.ts (same RewriteResult codes, same IPVS behaviour, ip_vs_xmit.c's *_v6 functions):
// - every method decrements the hop limit (ip_vs_xmit's decrement_ttl for AF_INET6): <= 1 is
//   dropped (IPVS sends ICMPv6 time exceeded). IPv6 has no header checksum to fix.
// - DR: only the MACs change (rewriteForDirectRouting in rewrite.ts serves both families).
// - NAT66: destination address and port become the real server's; replies get the VIP back as
//   source. Only the TCP/UDP checksum changes (it covers the pseudo header).
// - TUN: IPv6-in-IPv6 (next header 41), outer traffic class and hop limit from the inner packet.
// No allocation, no throwing.

import { TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET, updateChecksum16 } from './checksum.js';
import { updateChecksum128 } from './checksum6.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './parse.js';
import { IPPROTO_IPV6, IPV6_HEADER_LENGTH, type ParsedIpv6 } from './ipv6.js';
import { RewriteResult, writeEthernetAddresses, type FrameSpan } from './rewrite.js';

export const IP6IP6_OVERHEAD = IPV6_HEADER_LENGTH;

/** Hop limit - 1; HOP_LIMIT_EXPIRED is rewrite.ts's TTL_EXPIRED (frame untouched). */
export function decrementHopLimit(u8: Uint8Array, parsed: ParsedIpv6): RewriteResult {
  const at = parsed.l3Offset + 7;
  const hopLimit = u8[at];
  if (hopLimit <= 1) return RewriteResult.TTL_EXPIRED;
  u8[at] = hopLimit - 1;
  parsed.hopLimit = hopLimit - 1;
  return RewriteResult.OK;
}

function translate6(
  u8: Uint8Array, dv: DataView, parsed: ParsedIpv6, addressOffset: number, portField: number,
  newAddress: Uint8Array, newAddressOffset: number, newPort: number,
): RewriteResult {
  const protocol = parsed.protocol;
  if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return RewriteResult.UNSUPPORTED_PROTOCOL;
  const l4 = parsed.l4Offset;
  const field = l4 + (protocol === IPPROTO_TCP ? TCP_CHECKSUM_OFFSET : UDP_CHECKSUM_OFFSET);
  const oldPort = dv.getUint16(l4 + portField);
  let checksum = updateChecksum128(dv.getUint16(field), u8, addressOffset, newAddress, newAddressOffset);
  checksum = updateChecksum16(checksum, oldPort, newPort);
  // UDP over IPv6 never carries 0: a computed 0 goes out as 0xFFFF (RFC 8200 8.1).
  if (protocol === IPPROTO_UDP && checksum === 0) checksum = 0xffff;
  dv.setUint16(field, checksum);
  // A whole 16-byte array copies with one set() (no allocation); an offset into a table byte by byte.
  if (newAddressOffset === 0 && newAddress.length === 16) u8.set(newAddress, addressOffset);
  else for (let i = 0; i < 16; i++) u8[addressOffset + i] = newAddress[newAddressOffset + i];
  dv.setUint16(l4 + portField, newPort);
  return RewriteResult.OK;
}

/** NAT66 towards the real server: destination -> the 16 bytes at newDst[newDstOffset], port newDstPort. */
export function rewriteForNat66(
  u8: Uint8Array, dv: DataView, parsed: ParsedIpv6, newDst: Uint8Array, newDstOffset: number, newDstPort: number,
): RewriteResult {
  const result = translate6(u8, dv, parsed, parsed.dstOffset, 2, newDst, newDstOffset, newDstPort);
  if (result === RewriteResult.OK) {
    const a = parsed.dstOffset;
    parsed.dst0 = dv.getUint32(a); parsed.dst1 = dv.getUint32(a + 4); parsed.dst2 = dv.getUint32(a + 8); parsed.dst3 = dv.getUint32(a + 12);
    parsed.dstPort = newDstPort;
  }
  return result;
}

/** NAT66 reply from the real server: source -> the virtual address and port. */
export function rewriteNat66Reply(
  u8: Uint8Array, dv: DataView, parsed: ParsedIpv6, newSrc: Uint8Array, newSrcOffset: number, newSrcPort: number,
): RewriteResult {
  const result = translate6(u8, dv, parsed, parsed.srcOffset, 0, newSrc, newSrcOffset, newSrcPort);
  if (result === RewriteResult.OK) {
    const a = parsed.srcOffset;
    parsed.src0 = dv.getUint32(a); parsed.src1 = dv.getUint32(a + 4); parsed.src2 = dv.getUint32(a + 8); parsed.src3 = dv.getUint32(a + 12);
    parsed.srcPort = newSrcPort;
  }
  return result;
}

/**
 * TUN over IPv6: a 40-byte outer header (next header 41) before the inner packet, as
 * ip_vs_tunnel_xmit_v6. Headroom/slot rules and MTU_EXCEEDED as encapsulateTunnel (tunnels.ts);
 * the IPv6 path never fragments, so a too-big packet is a counted drop (IPVS: ICMPv6 too big).
 * `frameOffset` is the Ethernet header's offset (parsed.l3Offset - 14, or - 18 with a VLAN tag).
 */
export function encapsulateIp6ip6(
  u8: Uint8Array, dv: DataView, parsed: ParsedIpv6, frameOffset: number, frameSize: number,
  outerSrc: Uint8Array, outerDst: Uint8Array, hopLimit: number,
  dstMac: Uint8Array, srcMac: Uint8Array, mtu: number, out: FrameSpan,
): RewriteResult {
  const l3 = parsed.l3Offset;
  const ethernetLength = l3 - frameOffset;
  const innerLength = IPV6_HEADER_LENGTH + parsed.payloadLength;
  const outerLength = innerLength + IP6IP6_OVERHEAD;
  if (outerLength > mtu) return RewriteResult.MTU_EXCEEDED;
  const headroom = frameOffset % frameSize;
  let newOffset: number;
  if (headroom >= IP6IP6_OVERHEAD) {
    newOffset = frameOffset - IP6IP6_OVERHEAD;
    u8.copyWithin(newOffset, frameOffset, l3);
  } else {
    const slotEnd = frameOffset - headroom + frameSize;
    if (l3 + outerLength > slotEnd || l3 + outerLength > u8.length) return RewriteResult.NO_ROOM;
    newOffset = frameOffset;
    u8.copyWithin(l3 + IP6IP6_OVERHEAD, l3, l3 + innerLength);
  }
  writeEthernetAddresses(u8, newOffset, dstMac, srcMac);
  const outer = newOffset + ethernetLength;
  dv.setUint32(outer, ((6 << 28) | (parsed.trafficClass << 20)) >>> 0);
  dv.setUint16(outer + 4, innerLength);
  u8[outer + 6] = IPPROTO_IPV6;
  u8[outer + 7] = hopLimit;
  for (let i = 0; i < 16; i++) {
    u8[outer + 8 + i] = outerSrc[i];
    u8[outer + 24 + i] = outerDst[i];
  }
  out.offset = newOffset;
  out.length = ethernetLength + outerLength;
  return RewriteResult.OK;
}
