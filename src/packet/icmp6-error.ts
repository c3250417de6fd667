// ICMPv6 errors ulvs sends itself (RFC 4443), in place of the packet that caused them: the
// IPv6 twin of icmp-error.ts's turnIntoIcmpError. No allocation, no throwing.
import { ICMP_CHECKSUM_OFFSET } from './checksum.js';
import { ipv6TransportChecksum } from './checksum6.js';
import { IPPROTO_ICMPV6, IPV6_HEADER_LENGTH, type ParsedIpv6 } from './ipv6.js';

export const ICMPV6_HEADER_LENGTH = 8;
/** RFC 4443 2.4(c): an error carries as much of the packet as fits in the minimum IPv6 MTU. */
export const ICMPV6_ERROR_MAX_LENGTH = 1280;
export const ICMPV6_HOP_LIMIT_EXCEEDED = 0;

/**
 * Rewrites the frame at `frame` (Ethernet at frame, IPv6 at p.l3Offset, untagged) into an
 * ICMPv6 error back to its sender: MACs swapped, source the address the packet was sent to
 * (IPVS answers from the VIP), hop limit 64, then the packet itself, cut at 1280 bytes in all.
 * Returns the new frame length, or -1 when it would not fit the slot (frame untouched). Never
 * call it for an ICMPv6 packet (no error about an error).
 */
export function turnIntoIcmp6Error(u8: Uint8Array, p: ParsedIpv6, frame: number, frameSize: number, type: number, code: number, rest: number): number {
  const l3 = p.l3Offset;
  const overhead = IPV6_HEADER_LENGTH + ICMPV6_HEADER_LENGTH;
  const quoteLength = Math.min(IPV6_HEADER_LENGTH + p.payloadLength, ICMPV6_ERROR_MAX_LENGTH - overhead);
  const icmpLength = ICMPV6_HEADER_LENGTH + quoteLength;
  const slotEnd = frame - (frame % frameSize) + frameSize;
  if (l3 + overhead + quoteLength > slotEnd || l3 + overhead + quoteLength > u8.length) return -1;
  const icmp = l3 + IPV6_HEADER_LENGTH;
  u8.copyWithin(icmp + ICMPV6_HEADER_LENGTH, l3, l3 + quoteLength);
  for (let i = 0; i < 6; i++) {
    const dst = u8[frame + i];
    u8[frame + i] = u8[frame + 6 + i];
    u8[frame + 6 + i] = dst;
  }
  // The quote (now at icmp + 8) holds the original addresses: source <- its destination, destination <- its source.
  const quote = icmp + ICMPV6_HEADER_LENGTH;
  for (let i = 0; i < 16; i++) {
    u8[l3 + 8 + i] = u8[quote + 24 + i];
    u8[l3 + 24 + i] = u8[quote + 8 + i];
  }
  u8[l3] = 0x60; u8[l3 + 1] = 0; u8[l3 + 2] = 0; u8[l3 + 3] = 0;
  u8[l3 + 4] = icmpLength >>> 8; u8[l3 + 5] = icmpLength & 0xff;
  u8[l3 + 6] = IPPROTO_ICMPV6;
  u8[l3 + 7] = 64;
  u8[icmp] = type; u8[icmp + 1] = code; u8[icmp + 2] = 0; u8[icmp + 3] = 0;
  u8[icmp + 4] = rest >>> 24; u8[icmp + 5] = (rest >>> 16) & 0xff; u8[icmp + 6] = (rest >>> 8) & 0xff; u8[icmp + 7] = rest & 0xff;
  const sum = ipv6TransportChecksum(u8, l3, icmp, icmpLength, ICMP_CHECKSUM_OFFSET, IPPROTO_ICMPV6);
  u8[icmp + 2] = sum >>> 8; u8[icmp + 3] = sum & 0xff;
  return l3 - frame + IPV6_HEADER_LENGTH + icmpLength;
}

/**
 * NAT66 of an ICMPv6 error sent to a VIP about a connection's reply (ip_vs_nat_icmp_v6, in):
 * the outer destination and the quoted packet's source become the real server's address
 * (16 bytes at addr[addrAt]), the quoted source port its port; the ICMPv6 checksum is
 * recomputed (it covers the pseudo-header and the whole quote; an error is at most 1280 bytes).
 * The quoted transport checksum stays as quoted, as IPVS leaves it.
 */
export function rewriteIcmp6ErrorForNat66(u8: Uint8Array, p: ParsedIpv6, addr: Uint8Array, addrAt: number, port: number): void {
  const inner = p.icmpInnerL3Offset;
  for (let i = 0; i < 16; i++) {
    u8[p.dstOffset + i] = addr[addrAt + i];
    u8[inner + 8 + i] = addr[addrAt + i];
  }
  u8[p.icmpInnerL4Offset] = port >>> 8; u8[p.icmpInnerL4Offset + 1] = port & 0xff;
  refreshIcmp6Checksum(u8, p);
}

/**
 * NAT66 of a real server's ICMPv6 error about a client's packet (ip_vs_nat_icmp_v6, out): the
 * outer source and the quoted destination become the VIP (16 bytes at addr[addrAt]), the quoted
 * destination port the VIP's port; the ICMPv6 checksum is recomputed.
 */
export function rewriteIcmp6ErrorFromNat66(u8: Uint8Array, p: ParsedIpv6, addr: Uint8Array, addrAt: number, port: number): void {
  const inner = p.icmpInnerL3Offset;
  for (let i = 0; i < 16; i++) {
    u8[p.srcOffset + i] = addr[addrAt + i];
    u8[inner + 24 + i] = addr[addrAt + i];
  }
  u8[p.icmpInnerL4Offset + 2] = port >>> 8; u8[p.icmpInnerL4Offset + 3] = port & 0xff;
  refreshIcmp6Checksum(u8, p);
}

function refreshIcmp6Checksum(u8: Uint8Array, p: ParsedIpv6): void {
  const sum = ipv6TransportChecksum(u8, p.l3Offset, p.l4Offset, p.l4Length, ICMP_CHECKSUM_OFFSET, IPPROTO_ICMPV6);
  u8[p.l4Offset + 2] = sum >>> 8; u8[p.l4Offset + 3] = sum & 0xff;
}
