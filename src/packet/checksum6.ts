// Checksums over the IPv6 pseudo header (RFC 8200 8.1): TCP, UDP and ICMPv6 all cover source,
// destination, the upper-layer length and the next header. IPv6 itself has no header checksum,
// so decrementing the hop limit touches no checksum. No allocation, no throwing.
//
// Word sums stay below 2^32: at most 32768 payload words + 16 address words + 3, each < 2^16.

import { finishChecksum, foldSum, sumWords } from './checksum.js';

/** Word sum of the pseudo header of the IPv6 packet at l3 (addresses read from frame memory). */
export function ipv6PseudoHeaderSum(u8: Uint8Array, l3: number, upperLength: number, nextHeader: number): number {
  return sumWords(u8, l3 + 8, 32, 0) + (upperLength >>> 16) + (upperLength & 0xffff) + nextHeader;
}

/** Full checksum of the transport segment at l4 as if its checksum field were zero. */
export function ipv6TransportChecksum(
  u8: Uint8Array, l3: number, l4: number, l4Length: number, checksumFieldOffset: number, nextHeader: number,
): number {
  const field = l4 + checksumFieldOffset;
  const sum = sumWords(u8, l4, l4Length, ipv6PseudoHeaderSum(u8, l3, l4Length, nextHeader))
    - ((u8[field] << 8) | u8[field + 1]);
  return finishChecksum(sum);
}

/** True when the segment, its checksum field included, verifies. */
export function ipv6TransportChecksumValid(u8: Uint8Array, l3: number, l4: number, l4Length: number, nextHeader: number): boolean {
  return foldSum(sumWords(u8, l4, l4Length, ipv6PseudoHeaderSum(u8, l3, l4Length, nextHeader))) === 0xffff;
}

/**
 * RFC 1624 eqn. 3 for a 128-bit field (an IPv6 address) changing from the 16 bytes at
 * oldBytes[oldOffset] to newBytes[newOffset]: one fold over all eight word changes, which equals
 * a full recomputation bit for bit when the old checksum was right (property-tested).
 * Call before overwriting the old address.
 */
export function updateChecksum128(
  checksum: number, oldBytes: Uint8Array, oldOffset: number, newBytes: Uint8Array, newOffset: number,
): number {
  // sum(~old_i) = 8 * 0xffff - sum(old_i): one subtraction instead of eight complements.
  let oldSum = 0;
  let newSum = 0;
  for (let i = 0; i < 16; i += 2) {
    oldSum += (oldBytes[oldOffset + i] << 8) | oldBytes[oldOffset + i + 1];
    newSum += (newBytes[newOffset + i] << 8) | newBytes[newOffset + i + 1];
  }
  return ~foldSum((~checksum & 0xffff) + 8 * 0xffff - oldSum + newSum) & 0xffff;
}

/** UDP over IPv6: never 0 on the wire (0xFFFF instead); the parser already dropped a zero checksum. */
export function updateUdp6Checksum128(
  checksum: number, oldBytes: Uint8Array, oldOffset: number, newBytes: Uint8Array, newOffset: number,
): number {
  const updated = updateChecksum128(checksum, oldBytes, oldOffset, newBytes, newOffset);
  return updated === 0 ? 0xffff : updated;
}
