// VRRPv3 over IPv6 (RFC 5798): the advertisement as raw IPv6 sockets send and receive it
// (no IPv6 header: the kernel builds it, and gives source, destination and hop limit beside
// the payload, src/os/raw-sockets.ts). The checksum covers the IPv6 pseudo-header (RFC 5798
// 5.2.8, RFC 8200 8.1). Slow path: clarity over zero-allocation. Never throws on input.
import { formatIpv6, parseIpv6, parseIpv6OrNull, IPV6_ADDRESS_LENGTH } from '../packet/addr6.js';
import { finishChecksum, MAX_V3_INTERVAL_CS, onesComplementSum, VRRP_PROTOCOL, VRRP_TTL, VRRP_TYPE_ADVERTISEMENT, type DropReason } from './codec.js';

/** RFC 5798 5.1.2.2: the IPv6 multicast group of VRRP (keepalived's vrrp_mcast_group6 default). */
export const VRRP_MCAST_GROUP6 = 'ff02::12';
/** RFC 5798 5.1.2.3: adverts leave with hop limit 255 and receivers drop any other. */
export const VRRP_HOP_LIMIT = VRRP_TTL;
const HEADER_LENGTH = 8;

export interface Advertisement6 {
  vrid: number;
  priority: number;
  /** Max advert interval in centiseconds (12 bits). */
  intervalCs: number;
  /** Virtual IPv6 addresses, as text. */
  addresses: readonly string[];
}

export interface ReceivedAdvert6 extends Advertisement6 {
  source: string;
  destination: string;
  hopLimit: number;
}

export type Decode6Result = { ok: true; advert: ReceivedAdvert6 } | { ok: false; reason: DropReason };

export function vrrp6Length(addressCount: number): number {
  return HEADER_LENGTH + IPV6_ADDRESS_LENGTH * addressCount;
}

/** Partial sum of the IPv6 pseudo-header: source, destination, upper-layer length, next header. */
function pseudoHeaderSum6(source: Uint8Array, destination: Uint8Array, length: number): number {
  let sum = onesComplementSum(source, 0, IPV6_ADDRESS_LENGTH);
  sum = onesComplementSum(destination, 0, IPV6_ADDRESS_LENGTH, sum);
  return sum + (length >>> 16) + (length & 0xffff) + VRRP_PROTOCOL;
}

/**
 * The VRRPv3 message for IPv6. Throws TypeError on addresses that are not IPv6 (a
 * programming error: the config only lets IPv6 through here).
 */
export function encodeAdvert6(advert: Advertisement6, source: string, destination: string): Uint8Array {
  const src = parseIpv6(source);
  const dst = parseIpv6(destination);
  const length = vrrp6Length(advert.addresses.length);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = (3 << 4) | VRRP_TYPE_ADVERTISEMENT;
  out[1] = advert.vrid;
  out[2] = advert.priority;
  out[3] = advert.addresses.length;
  view.setUint16(4, Math.min(MAX_V3_INTERVAL_CS, advert.intervalCs) & 0x0fff);
  advert.addresses.forEach((a, i) => out.set(parseIpv6(a), HEADER_LENGTH + IPV6_ADDRESS_LENGTH * i));
  view.setUint16(6, finishChecksum(onesComplementSum(out, 0, length, pseudoHeaderSum6(src, dst, length))));
  return out;
}

/**
 * Checks what needs no configuration (RFC 5798 7.1): hop limit 255 first, then version 3,
 * type, length and the checksum over the pseudo-header built from what the kernel reported.
 * `anyHopLimit`: the hop limit is left to the caller, who knows the instance (unicast takes any).
 */
export function decodeAdvert6(payload: Uint8Array, source: string, destination: string, hopLimit: number, anyHopLimit = false): Decode6Result {
  if (payload.length < HEADER_LENGTH) return { ok: false, reason: 'truncated' };
  if (!anyHopLimit && hopLimit !== VRRP_HOP_LIMIT) return { ok: false, reason: 'bad_ttl' };
  const src = parseIpv6OrNull(source);
  const dst = parseIpv6OrNull(destination);
  if (src === null || dst === null) return { ok: false, reason: 'bad_ip_header' };
  if (payload[0] >> 4 !== 3) return { ok: false, reason: 'bad_version' };
  if ((payload[0] & 0x0f) !== VRRP_TYPE_ADVERTISEMENT) return { ok: false, reason: 'bad_type' };
  const count = payload[3];
  if (payload.length < vrrp6Length(count)) return { ok: false, reason: 'bad_length' };
  if (onesComplementSum(payload, 0, payload.length, pseudoHeaderSum6(src, dst, payload.length)) !== 0xffff) {
    return { ok: false, reason: 'bad_checksum' };
  }
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(formatIpv6(payload, HEADER_LENGTH + IPV6_ADDRESS_LENGTH * i));
  const intervalCs = ((payload[4] << 8) | payload[5]) & 0x0fff;
  return {
    ok: true,
    advert: { vrid: payload[1], priority: payload[2], intervalCs, addresses, source: formatIpv6(src), destination: formatIpv6(dst), hopLimit },
  };
}
