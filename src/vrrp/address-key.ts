// An advert source as the state machine compares it (RFC 3768 6.4.3 / RFC 5798 6.4.3: the
// higher primary address wins a priority tie). IPv4: a host-order number, as before. IPv6:
// the 128-bit address as a bigint, so the link-local sources compare numerically as keepalived
// compares them (memcmp of the addresses, big-endian). Pure.
import { ipToNumber, numberToIp } from '../packet/addr.js';
import { formatIpv6, parseIpv6 } from '../packet/addr6.js';

export type AddressKey = number | bigint;

/** Throws TypeError on text that is neither family (the config let only addresses through). */
export function addressKey(text: string): AddressKey {
  if (!text.includes(':')) return ipToNumber(text);
  let key = 0n;
  for (const byte of parseIpv6(text)) key = (key << 8n) | BigInt(byte);
  return key;
}

export function addressKeyText(key: AddressKey): string {
  if (typeof key === 'number') return numberToIp(key);
  const bytes = new Uint8Array(16);
  let rest = key;
  for (let i = 15; i >= 0; i--) { bytes[i] = Number(rest & 0xffn); rest >>= 8n; }
  return formatIpv6(bytes);
}
