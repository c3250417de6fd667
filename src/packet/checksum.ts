// The Internet checksum (RFC 1071) over frame memory, and its incremental update (RFC 1624).
// Everything here is arithmetic on numbers: no allocation, no throwing, safe per packet.
//
// Sums are kept "unfolded" (a plain integer sum of 16-bit big-endian words) until the end:
// an IPv4 packet has at most 32768 words, so sum + pseudo header stays below 2^32 and `>>>` is exact.

/** Integer sum of the big-endian 16-bit words in u8[offset, offset+length), plus `initial`.
 *  An odd trailing byte counts as the high byte of a zero-padded word (RFC 1071). */
export function sumWords(u8: Uint8Array, offset: number, length: number, initial: number): number {
  let sum = initial;
  const end = offset + (length & ~1);
  let i = offset;
  for (; i < end; i += 2) sum += (u8[i] << 8) | u8[i + 1];
  if ((length & 1) !== 0) sum += u8[i] << 8;
  return sum;
}

/** One's-complement fold to 16 bits with end-around carry. Non-zero sums never fold to 0. */
export function foldSum(sum: number): number {
  let s = (sum & 0xffff) + (sum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The checksum field value for data whose word sum is `sum`. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** Full Internet checksum over a range (the range's checksum field must read as zero). */
export function internetChecksum(u8: Uint8Array, offset: number, length: number, initial = 0): number {
  return finishChecksum(sumWords(u8, offset, length, initial));
}

/** IPv4 header checksum computed as if the checksum field (bytes 10-11) were zero. */
export function ipv4HeaderChecksum(u8: Uint8Array, l3Offset: number, headerLength: number): number {
  const sum = sumWords(u8, l3Offset, headerLength, 0) - ((u8[l3Offset + 10] << 8) | u8[l3Offset + 11]);
  return finishChecksum(sum);
}

export function writeIpv4HeaderChecksum(u8: Uint8Array, l3Offset: number, headerLength: number): void {
  const checksum = ipv4HeaderChecksum(u8, l3Offset, headerLength);
  u8[l3Offset + 10] = checksum >>> 8;
  u8[l3Offset + 11] = checksum & 0xff;
}

/** True when the header sums (checksum included) to 0xFFFF, i.e. it verifies. Runs per packet. */
export function ipv4HeaderChecksumValid(u8: Uint8Array, l3Offset: number, headerLength: number): boolean {
  if (headerLength !== 20) return foldSum(sumWords(u8, l3Offset, headerLength, 0)) === 0xffff;
  // Unrolled for the option-less header: measured ~3x faster than the loop on Node 20.
  const o = l3Offset;
  const sum = ((u8[o] << 8) | u8[o + 1]) + ((u8[o + 2] << 8) | u8[o + 3]) + ((u8[o + 4] << 8) | u8[o + 5])
    + ((u8[o + 6] << 8) | u8[o + 7]) + ((u8[o + 8] << 8) | u8[o + 9]) + ((u8[o + 10] << 8) | u8[o + 11])
    + ((u8[o + 12] << 8) | u8[o + 13]) + ((u8[o + 14] << 8) | u8[o + 15]) + ((u8[o + 16] << 8) | u8[o + 17])
    + ((u8[o + 18] << 8) | u8[o + 19]);
  return foldSum(sum) === 0xffff;
}

/** Word sum of the TCP/UDP pseudo header (RFC 793 / RFC 768). */
export function pseudoHeaderSum(srcIp: number, dstIp: number, protocol: number, l4Length: number): number {
  return (srcIp >>> 16) + (srcIp & 0xffff) + (dstIp >>> 16) + (dstIp & 0xffff) + protocol + l4Length;
}

/** Offset of the checksum field inside each L4 header. */
export const TCP_CHECKSUM_OFFSET = 16;
export const UDP_CHECKSUM_OFFSET = 6;
export const ICMP_CHECKSUM_OFFSET = 2;

/**
 * Full TCP/UDP checksum (pseudo header included) of the segment at l4Offset, computed as if the
 * checksum field were zero. For UDP use `udpChecksumForWire` on the result (0 goes out as 0xFFFF).
 */
export function transportChecksum(
  u8: Uint8Array, l4Offset: number, l4Length: number, checksumFieldOffset: number,
  srcIp: number, dstIp: number, protocol: number,
): number {
  const field = l4Offset + checksumFieldOffset;
  const sum = sumWords(u8, l4Offset, l4Length, pseudoHeaderSum(srcIp, dstIp, protocol, l4Length))
    - ((u8[field] << 8) | u8[field + 1]);
  return finishChecksum(sum);
}

/** ICMP checksum (no pseudo header) computed as if the field were zero. */
export function icmpChecksum(u8: Uint8Array, l4Offset: number, l4Length: number): number {
  const field = l4Offset + ICMP_CHECKSUM_OFFSET;
  return finishChecksum(sumWords(u8, l4Offset, l4Length, 0) - ((u8[field] << 8) | u8[field + 1]));
}

/** UDP sends a computed checksum of 0 as 0xFFFF, because 0 on the wire means "no checksum". */
export function udpChecksumForWire(computed: number): number {
  return computed === 0 ? 0xffff : computed;
}

/** True when a TCP/UDP segment including its checksum field verifies. UDP checksum 0 = none = valid. */
export function transportChecksumValid(
  u8: Uint8Array, l4Offset: number, l4Length: number, srcIp: number, dstIp: number, protocol: number,
): boolean {
  if (protocol === 17 && u8[l4Offset + 6] === 0 && u8[l4Offset + 7] === 0) return true;
  return foldSum(sumWords(u8, l4Offset, l4Length, pseudoHeaderSum(srcIp, dstIp, protocol, l4Length))) === 0xffff;
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from m to m'.
 * Eqn. 3 rather than RFC 1141's HC' = HC + m - m' because the latter can produce 0xFFFF
 * ("-0") where a full recomputation gives 0x0000; eqn. 3 matches a full recomputation bit
 * for bit whenever HC was correct (property-tested in test/packet/checksum.test.ts).
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  const sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/** RFC 1624 for a 32-bit field (an IPv4 address): both halves at once. */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const sum = (~checksum & 0xffff)
    + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff)
    + (newValue >>> 16) + (newValue & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/** UDP flavour of updateChecksum16: a zero (absent) checksum stays zero; a 0 result goes out as 0xFFFF. */
export function updateUdpChecksum16(checksum: number, oldWord: number, newWord: number): number {
  if (checksum === 0) return 0;
  return udpChecksumForWire(updateChecksum16(checksum, oldWord, newWord));
}

/** UDP flavour of updateChecksum32. */
export function updateUdpChecksum32(checksum: number, oldValue: number, newValue: number): number {
  if (checksum === 0) return 0;
  return udpChecksumForWire(updateChecksum32(checksum, oldValue, newValue));
}
