/**
 * Dotted-quad IPv4 helpers for configuration values (strings in, numbers out).
 * Kept here rather than src/packet/addr.ts so the config room validates without the dataplane.
 */

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** `198.18.0.1` -> 0xC6120001 (unsigned, host order), or null when not a dotted quad. */
export function parseIpv4(text: string): number | null {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    // Leading zeros are refused: `010` is octal to inet_aton and decimal to others.
    if (part.length > 1 && part.startsWith('0')) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== null;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** A netmask has contiguous leading ones (255.255.255.0 yes, 255.0.255.0 no). */
export function isNetmask(text: string): boolean {
  const value = parseIpv4(text);
  if (value === null) return false;
  const inverted = ~value >>> 0;
  return (inverted & (inverted + 1)) === 0;
}

export interface Cidr {
  ip: string;
  prefix: number;
}

/** `a.b.c.d/nn` or bare `a.b.c.d` (prefix 32, as keepalived defaults it). */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  if (!isIpv4(ip)) return null;
  if (slash < 0) return { ip, prefix: 32 };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= 32 ? { ip, prefix } : null;
}
