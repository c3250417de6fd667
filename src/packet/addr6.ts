// IPv6 address text <-> 16 bytes, for configuration, builders and listings (allocates: never on
// the hot path, where addresses stay bytes in frame memory or in preconfigured Uint8Arrays).
// Validation is node:net's isIPv6 (the platform's parser); the expansion below only runs on
// text it accepted.

import { isIPv6 } from 'node:net';

export const IPV6_ADDRESS_LENGTH = 16;

/** `2001:2::1` -> 16 bytes, or null when not an IPv6 address (a zone `%eth0` is not accepted here). */
export function parseIpv6OrNull(text: string): Uint8Array | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let head = text;
  // An embedded dotted quad (::ffff:198.18.0.1) becomes the last two groups.
  const lastColon = head.lastIndexOf(':');
  const tail = head.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    head = `${head.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const bytes = new Uint8Array(IPV6_ADDRESS_LENGTH);
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const zeros = right === undefined ? 0 : 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...new Array<string>(zeros).fill('0'), ...rightGroups];
  if (groups.length !== 8) return null;
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[2 * i] = v >>> 8;
    bytes[2 * i + 1] = v & 0xff;
  });
  return bytes;
}

export function isIpv6(text: string): boolean {
  return parseIpv6OrNull(text) !== null;
}

export function parseIpv6(text: string): Uint8Array {
  const bytes = parseIpv6OrNull(text);
  if (bytes === null) throw new TypeError(`not an IPv6 address: ${JSON.stringify(text)} (expected e.g. 2001:2::1)`);
  return bytes;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** fe80::/10: link-local unicast, meaningful only with an interface. */
export function isLinkLocalIpv6(bytes: Uint8Array, offset = 0): boolean {
  return bytes[offset] === 0xfe && (bytes[offset + 1] & 0xc0) === 0x80;
}

/** ff00::/8 */
export function isMulticastIpv6(bytes: Uint8Array, offset = 0): boolean {
  return bytes[offset] === 0xff;
}

/** The 4 big-endian 32-bit words of an address (for hashing, tables and the conntrack keys). */
export function ipv6Words(bytes: Uint8Array, offset = 0): [number, number, number, number] {
  const w = (i: number): number =>
    ((bytes[offset + i] << 24) | (bytes[offset + i + 1] << 16) | (bytes[offset + i + 2] << 8) | bytes[offset + i + 3]) >>> 0;
  return [w(0), w(4), w(8), w(12)];
}

/** Keep the first `prefixLength` bits (persistence_granularity for IPv6 is a prefix length, as `ipvsadm -M`). */
export function maskIpv6(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(IPV6_ADDRESS_LENGTH);
  for (let i = 0; i < IPV6_ADDRESS_LENGTH; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - 8 * i));
    out[i] = bytes[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}
