// Address conversions between the text the config uses and the numbers the dataplane uses.
// Inside the dataplane an IPv4 address is an unsigned 32-bit number in host order
// (198.18.0.1 = 0xC6120001) and a MAC is 6 bytes. These functions run at config time, so
// they are strict and may allocate; the `parse*` forms return null, the `*To*` forms throw.

/** Dotted quad, four decimal octets 0..255, no leading zeros (inet_aton would read them as octal). */
const IPV4_PATTERN = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const MAC_PATTERN = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/;

export const MAC_LENGTH = 6;

/** Returns the host-order uint32 for a dotted quad, or null when `text` is not one. */
export function parseIpv4(text: string): number | null {
  const m = IPV4_PATTERN.exec(text);
  if (m === null) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== null;
}

/** '198.18.0.1' -> 0xC6120001. Throws a TypeError naming the bad text. */
export function ipToNumber(text: string): number {
  const value = parseIpv4(text);
  if (value === null) throw new TypeError(`not an IPv4 address: ${JSON.stringify(text)} (expected e.g. 198.18.0.1)`);
  return value;
}

/** 0xC6120001 -> '198.18.0.1'. Accepts any number and uses its low 32 bits. */
export function numberToIp(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Six hex pairs separated consistently by ':' or '-'. Returns null when malformed. */
export function parseMacOrNull(text: string): Uint8Array | null {
  const m = MAC_PATTERN.exec(text);
  if (m === null) return null;
  const mac = new Uint8Array(MAC_LENGTH);
  mac[0] = parseInt(m[1], 16);
  for (let i = 1; i < MAC_LENGTH; i++) mac[i] = parseInt(m[i + 2], 16);
  return mac;
}

/** 'aa:bb:cc:dd:ee:ff' -> 6 bytes. Throws a TypeError naming the bad text. */
export function parseMac(text: string): Uint8Array {
  const mac = parseMacOrNull(text);
  if (mac === null) throw new TypeError(`not a MAC address: ${JSON.stringify(text)} (expected e.g. 02:00:c6:12:00:01)`);
  return mac;
}

/** Lower-case colon form of the 6 bytes at `offset`. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  let out = '';
  for (let i = 0; i < MAC_LENGTH; i++) {
    if (i > 0) out += ':';
    out += bytes[offset + i].toString(16).padStart(2, '0');
  }
  return out;
}

/** Network mask for a prefix length 0..32, host order (24 -> 0xFFFFFF00). */
export function prefixToMask(prefixLength: number): number {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new RangeError(`prefix length must be an integer 0..32, got ${prefixLength}`);
  }
  // `<< 32` is a no-op in JS, so /0 needs its own case.
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export interface Cidr {
  /** The address as written (host bits kept: keepalived writes '198.18.0.100/24' for a VIP). */
  readonly address: number;
  readonly prefixLength: number;
  readonly mask: number;
  /** address & mask. */
  readonly network: number;
}

/**
 * '198.18.0.0/15' -> Cidr. A bare address is a /32 (as keepalived reads virtual_ipaddress).
 * With `requireNetwork`, host bits must be zero (for route-like uses such as allow lists).
 */
export function parseCidrOrNull(text: string, options: { requireNetwork?: boolean } = {}): Cidr | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIpv4(addressText);
  if (address === null) return null;
  let prefixLength = 32;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!/^(0|[1-9]\d?)$/.test(lengthText)) return null;
    prefixLength = Number(lengthText);
    if (prefixLength > 32) return null;
  }
  const mask = prefixToMask(prefixLength);
  const network = (address & mask) >>> 0;
  if (options.requireNetwork === true && network !== address) return null;
  return { address, prefixLength, mask, network };
}

/** Like parseCidrOrNull but throws a TypeError that says what to write instead. */
export function parseCidr(text: string, options: { requireNetwork?: boolean } = {}): Cidr {
  const cidr = parseCidrOrNull(text, options);
  if (cidr === null) {
    const hint = options.requireNetwork === true ? ' with host bits zero' : '';
    throw new TypeError(`not an IPv4 CIDR: ${JSON.stringify(text)} (expected e.g. 198.18.0.0/15${hint})`);
  }
  return cidr;
}
