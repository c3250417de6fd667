// ICMP errors about ulvs's connections, in place over frame memory parsed by parseFrame:
// - NAT rewrites of an error's outer and quoted headers (IPVS ip_vs_nat_icmp), both ways;
// - turning a packet ulvs cannot forward into the ICMP error IPVS would send about it
//   (time exceeded, fragmentation needed), answered to its sender in the same frame slot.
// No allocation, no throwing. Checksums: the outer IP header and the quoted IP header are
// updated incrementally, the quoted TCP/UDP checksum too when the quote holds it (IPVS leaves
// it stale; nothing verifies it, but a correct one costs nothing), and the ICMP checksum is
// recomputed over the message (IPVS does the same: ip_compute_csum).

import {
  ICMP_CHECKSUM_OFFSET, TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET,
  icmpChecksum, updateChecksum16, updateChecksum32, updateUdpChecksum16, updateUdpChecksum32, writeIpv4HeaderChecksum,
} from './checksum.js';
import { ICMP_HEADER_LENGTH, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HEADER_LENGTH, type ParsedFrame } from './parse.js';

const SRC = 12;
const DST = 16;

/**
 * The new address travels through this array: passed as an argument to a function V8 does not
 * inline, an address above 2^30 would be boxed (allocated) on every call.
 */
const NEW_ADDRESS = new Uint32Array(1);

/** Where the quoted packet's fields sit; the caller checked p.icmpInnerL3Offset >= 0. */
function rewriteQuoted(
  u8: Uint8Array, dv: DataView, p: ParsedFrame,
  outerField: number, innerIpField: number, innerPortField: number, newPort: number,
): void {
  const newIp = NEW_ADDRESS[0];
  const l3 = p.l3Offset;
  const oldOuter = dv.getUint32(l3 + outerField);
  dv.setUint16(l3 + 10, updateChecksum32(dv.getUint16(l3 + 10), oldOuter, newIp));
  dv.setUint32(l3 + outerField, newIp);

  const inner = p.icmpInnerL3Offset;
  const innerHeaderLength = (u8[inner] & 0x0f) << 2;
  const oldInnerIp = dv.getUint32(inner + innerIpField);
  dv.setUint16(inner + 10, updateChecksum32(dv.getUint16(inner + 10), oldInnerIp, newIp));
  dv.setUint32(inner + innerIpField, newIp);
  const l4 = inner + innerHeaderLength;
  const oldPort = dv.getUint16(l4 + innerPortField);
  dv.setUint16(l4 + innerPortField, newPort);
  const quoteEnd = p.l4Offset + p.l4Length;
  const protocol = u8[inner + 9];
  if (protocol === IPPROTO_UDP && l4 + UDP_CHECKSUM_OFFSET + 2 <= quoteEnd) {
    const f = l4 + UDP_CHECKSUM_OFFSET;
    dv.setUint16(f, updateUdpChecksum16(updateUdpChecksum32(dv.getUint16(f), oldInnerIp, newIp), oldPort, newPort));
  } else if (protocol === IPPROTO_TCP && l4 + TCP_CHECKSUM_OFFSET + 2 <= quoteEnd) {
    const f = l4 + TCP_CHECKSUM_OFFSET;
    dv.setUint16(f, updateChecksum16(updateChecksum32(dv.getUint16(f), oldInnerIp, newIp), oldPort, newPort));
  }
  dv.setUint16(p.l4Offset + ICMP_CHECKSUM_OFFSET, icmpChecksum(u8, p.l4Offset, p.l4Length));
}

/**
 * NAT, towards the real server: an error about a reply the director sent from VIP:vport to the
 * client. Outer destination VIP -> rsIp; quoted source VIP:vport -> rsIp:rsPort.
 */
export function rewriteIcmpErrorForNat(u8: Uint8Array, dv: DataView, p: ParsedFrame, rsIp: number, rsPort: number): void {
  NEW_ADDRESS[0] = rsIp;
  rewriteQuoted(u8, dv, p, DST, SRC, 0, rsPort);
  p.dstIp = NEW_ADDRESS[0];
}

/**
 * NAT, towards the client: a real server's error about a client's packet it was sent as
 * rsIp:rsPort. Outer source rsIp -> VIP; quoted destination rsIp:rsPort -> VIP:vport.
 */
export function rewriteIcmpErrorFromNat(u8: Uint8Array, dv: DataView, p: ParsedFrame, vip: number, vport: number): void {
  NEW_ADDRESS[0] = vip;
  rewriteQuoted(u8, dv, p, SRC, DST, 2, vport);
  p.srcIp = NEW_ADDRESS[0];
}

export const ICMP_TIME_EXCEEDED_TYPE = 11;
export const ICMP_DEST_UNREACH_TYPE = 3;
export const ICMP_FRAG_NEEDED = 4;

/**
 * Replaces the parsed packet by an ICMP error about it, addressed to its sender, in the same
 * frame slot: Ethernet addresses swapped (VLAN tag kept), a new IPv4 header from `srcIp`
 * (IPVS answers from the address the packet was sent to, the VIP), the ICMP header with `rest`
 * (frag needed: the next-hop MTU in its low 16 bits), then the packet's IP header plus its
 * first 8 bytes as RFC 792 asks. Returns the new frame length, or -1 when the quote would not
 * fit the slot (frame untouched). Never call it for an ICMP error (no error about an error).
 */
export function turnIntoIcmpError(
  u8: Uint8Array, dv: DataView, p: ParsedFrame, frameSize: number,
  type: number, code: number, rest: number, srcIp: number, ipId: number,
): number {
  const frame = p.frameOffset;
  const l3 = p.l3Offset;
  const quoteLength = Math.min(p.ipHeaderLength + 8, p.totalLength);
  const icmpLength = ICMP_HEADER_LENGTH + quoteLength;
  const ipLength = IPV4_MIN_HEADER_LENGTH + icmpLength;
  const slotEnd = frame - (frame % frameSize) + frameSize;
  if (l3 + ipLength > slotEnd || l3 + ipLength > u8.length) return -1;
  const sender = dv.getUint32(l3 + SRC);
  const icmp = l3 + IPV4_MIN_HEADER_LENGTH;
  u8.copyWithin(icmp + ICMP_HEADER_LENGTH, l3, l3 + quoteLength);
  for (let i = 0; i < 6; i++) {
    const dst = u8[frame + i];
    u8[frame + i] = u8[frame + 6 + i];
    u8[frame + 6 + i] = dst;
  }
  u8[l3] = 0x45;
  u8[l3 + 1] = 0xc0; // internetwork control, as Linux's icmp_send
  dv.setUint16(l3 + 2, ipLength);
  dv.setUint16(l3 + 4, ipId & 0xffff);
  dv.setUint16(l3 + 6, 0);
  u8[l3 + 8] = 64;
  u8[l3 + 9] = IPPROTO_ICMP;
  dv.setUint16(l3 + 10, 0);
  dv.setUint32(l3 + SRC, srcIp);
  dv.setUint32(l3 + DST, sender);
  writeIpv4HeaderChecksum(u8, l3, IPV4_MIN_HEADER_LENGTH);
  u8[icmp] = type;
  u8[icmp + 1] = code;
  dv.setUint16(icmp + 2, 0);
  dv.setUint32(icmp + 4, rest >>> 0);
  dv.setUint16(icmp + 2, icmpChecksum(u8, icmp, icmpLength));
  return l3 - frame + ipLength;
}

/**
 * Full NAT's addresses for rewriteIcmpErrorForFullNat, written by the caller just before the
 * call (through a typed array: addresses as arguments would be boxed by V8):
 * [outer source, outer destination, quoted source, quoted destination].
 */
export const FULL_NAT_ICMP_ADDRESSES = new Uint32Array(4);

/**
 * Full NAT, either way: every address of the error and both ports of the quoted packet change
 * (DPVS's FNAT ICMP handling). Towards the real server an error about VIP:vport -> client:cport
 * becomes one from the local address about rs:rsport -> laddr:lport; towards the client an
 * error about laddr:lport -> rs:rsport becomes one from the VIP about client:cport ->
 * VIP:vport. Both IP header checksums are recomputed (a header is at most 60 bytes), the quoted
 * TCP/UDP checksum updated when the quote holds it, the ICMP checksum recomputed.
 */
export function rewriteIcmpErrorForFullNat(u8: Uint8Array, dv: DataView, p: ParsedFrame, quotedSrcPort: number, quotedDstPort: number): void {
  const a = FULL_NAT_ICMP_ADDRESSES;
  const l3 = p.l3Offset;
  dv.setUint32(l3 + SRC, a[0]);
  dv.setUint32(l3 + DST, a[1]);
  writeIpv4HeaderChecksum(u8, l3, p.ipHeaderLength);

  const inner = p.icmpInnerL3Offset;
  const innerHeaderLength = (u8[inner] & 0x0f) << 2;
  const oldSrc = dv.getUint32(inner + SRC), oldDst = dv.getUint32(inner + DST);
  dv.setUint32(inner + SRC, a[2]);
  dv.setUint32(inner + DST, a[3]);
  writeIpv4HeaderChecksum(u8, inner, innerHeaderLength);
  const l4 = inner + innerHeaderLength;
  const oldSrcPort = dv.getUint16(l4), oldDstPort = dv.getUint16(l4 + 2);
  dv.setUint16(l4, quotedSrcPort);
  dv.setUint16(l4 + 2, quotedDstPort);
  const quoteEnd = p.l4Offset + p.l4Length;
  const protocol = u8[inner + 9];
  if (protocol === IPPROTO_UDP && l4 + UDP_CHECKSUM_OFFSET + 2 <= quoteEnd) {
    const f = l4 + UDP_CHECKSUM_OFFSET;
    let c = updateUdpChecksum32(dv.getUint16(f), oldSrc, a[2]);
    c = updateUdpChecksum32(c, oldDst, a[3]);
    c = updateUdpChecksum16(c, oldSrcPort, quotedSrcPort);
    dv.setUint16(f, updateUdpChecksum16(c, oldDstPort, quotedDstPort));
  } else if (protocol === IPPROTO_TCP && l4 + TCP_CHECKSUM_OFFSET + 2 <= quoteEnd) {
    const f = l4 + TCP_CHECKSUM_OFFSET;
    let c = updateChecksum32(dv.getUint16(f), oldSrc, a[2]);
    c = updateChecksum32(c, oldDst, a[3]);
    c = updateChecksum16(c, oldSrcPort, quotedSrcPort);
    dv.setUint16(f, updateChecksum16(c, oldDstPort, quotedDstPort));
  }
  dv.setUint16(p.l4Offset + ICMP_CHECKSUM_OFFSET, icmpChecksum(u8, p.l4Offset, p.l4Length));
  p.srcIp = a[0];
  p.dstIp = a[1];
}
