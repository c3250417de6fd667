// VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 over IPv4 (RFC 5798).
// Slow path (a few packets per second per instance): clarity over zero-allocation.
// Receive side takes the whole IPv4 packet, because validation needs the TTL
// and the source address (RFC 3768 7.1, RFC 5798 7.1).

export const VRRP_PROTOCOL = 112;
export const VRRP_MCAST_GROUP = '224.0.0.18';
export const VRRP_TTL = 255;
export const VRRP_TYPE_ADVERTISEMENT = 1;
/** v2 authentication data is always 8 bytes, zero when no authentication (RFC 3768 5.3.10). */
export const AUTH_DATA_LENGTH = 8;
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
/** v3 max advert interval is 12 bits of centiseconds (RFC 5798 5.2.7). */
export const MAX_V3_INTERVAL_CS = 0xfff;

export type VrrpVersion = 2 | 3;

export interface Advertisement {
  version: VrrpVersion;
  vrid: number;
  priority: number;
  /** Advert interval in centiseconds (v2 carries whole seconds; stored x100). */
  intervalCs: number;
  /** v2 only: AUTH_NONE or AUTH_PASS. */
  authType: number;
  /** v2 only: the 8 bytes of auth data, as text with trailing NULs removed. */
  authPass: string;
  /** Virtual addresses, host-order uint32. */
  addresses: number[];
}

export interface ReceivedAdvert extends Advertisement {
  srcIp: number;
  dstIp: number;
  ttl: number;
}

/** Why a received packet was not acted on; each is a counter. */
export type DropReason =
  | 'truncated'
  | 'not_ipv4'
  | 'bad_ip_header'
  | 'not_vrrp'
  | 'bad_ttl'
  | 'bad_version'
  | 'bad_type'
  | 'bad_checksum'
  | 'bad_length'
  | 'unknown_vrid'
  | 'auth_type_mismatch'
  | 'auth_failure'
  | 'interval_mismatch'
  | 'own_advert'
  | 'bad_ah_header'
  | 'ah_replay';

export type DecodeResult = { ok: true; advert: ReceivedAdvert } | { ok: false; reason: DropReason };

/** Internet checksum (RFC 1071) over bytes, starting from a partial sum. */
export function onesComplementSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function finishChecksum(sum: number): number {
  return ~sum & 0xffff;
}

/** Partial sum of the IPv4 pseudo-header for VRRPv3 (RFC 5798 5.2.8). */
function pseudoHeaderSum(srcIp: number, dstIp: number, length: number): number {
  return (srcIp >>> 16) + (srcIp & 0xffff) + (dstIp >>> 16) + (dstIp & 0xffff) + VRRP_PROTOCOL + length;
}

export function vrrpLength(version: VrrpVersion, addressCount: number): number {
  return 8 + 4 * addressCount + (version === 2 ? AUTH_DATA_LENGTH : 0);
}

/**
 * The VRRP message (no IP header). v3's checksum covers the pseudo-header, so it needs the
 * source and destination addresses that the IP header will carry.
 */
export function encodeAdvert(advert: Advertisement, srcIp: number, dstIp: number): Uint8Array {
  const length = vrrpLength(advert.version, advert.addresses.length);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out[0] = (advert.version << 4) | VRRP_TYPE_ADVERTISEMENT;
  out[1] = advert.vrid;
  out[2] = advert.priority;
  out[3] = advert.addresses.length;
  if (advert.version === 2) {
    out[4] = advert.authType;
    out[5] = Math.max(1, Math.round(advert.intervalCs / 100));
  } else {
    view.setUint16(4, Math.min(MAX_V3_INTERVAL_CS, advert.intervalCs) & 0x0fff);
  }
  for (let i = 0; i < advert.addresses.length; i++) view.setUint32(8 + 4 * i, advert.addresses[i] >>> 0);
  if (advert.version === 2 && advert.authType === AUTH_PASS) {
    const pass = new TextEncoder().encode(advert.authPass).subarray(0, AUTH_DATA_LENGTH);
    out.set(pass, 8 + 4 * advert.addresses.length);
  }
  const initial = advert.version === 3 ? pseudoHeaderSum(srcIp, dstIp, length) : 0;
  view.setUint16(6, finishChecksum(onesComplementSum(out, 0, length, initial)));
  return out;
}

/**
 * The whole IPv4 packet (for IP_HDRINCL): TTL 255, protocol 112, the given source.
 * The kernel fills id; we fill the header checksum ourselves so the bytes are complete
 * for pcaps and tests too.
 */
export function encodeAdvertPacket(advert: Advertisement, srcIp: number, dstIp: number): Uint8Array {
  const vrrp = encodeAdvert(advert, srcIp, dstIp);
  const out = new Uint8Array(20 + vrrp.length);
  const view = new DataView(out.buffer);
  out[0] = 0x45;
  // DSCP CS6 (network control), as keepalived sends (RFC 3768 doesn't fix it; 0xc0).
  out[1] = 0xc0;
  view.setUint16(2, out.length);
  out[8] = VRRP_TTL;
  out[9] = VRRP_PROTOCOL;
  view.setUint32(12, srcIp >>> 0);
  view.setUint32(16, dstIp >>> 0);
  view.setUint16(10, finishChecksum(onesComplementSum(out, 0, 20)));
  out.set(vrrp, 20);
  return out;
}

/**
 * Parses and checks what needs no configuration: IP header, TTL, version, type, checksum, length.
 * `anyTtl`: the TTL is left to the caller, who knows the instance (unicast takes any TTL).
 */
export function decodePacket(packet: Uint8Array, anyTtl = false): DecodeResult {
  if (packet.length < 20) return { ok: false, reason: 'truncated' };
  if (packet[0] >> 4 !== 4) return { ok: false, reason: 'not_ipv4' };
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const ihl = (packet[0] & 0x0f) * 4;
  const totalLength = view.getUint16(2);
  if (ihl < 20 || totalLength < ihl || totalLength > packet.length) return { ok: false, reason: 'bad_ip_header' };
  if (packet[9] !== VRRP_PROTOCOL) return { ok: false, reason: 'not_vrrp' };
  const ttl = packet[8];
  const srcIp = view.getUint32(12);
  const dstIp = view.getUint32(16);
  const vrrpStart = ihl;
  const vrrpLen = totalLength - ihl;
  if (vrrpLen < 8) return { ok: false, reason: 'truncated' };
  // TTL first: RFC 3768 7.1 / RFC 5798 7.1 list it before everything else.
  if (!anyTtl && ttl !== VRRP_TTL) return { ok: false, reason: 'bad_ttl' };
  const version = packet[vrrpStart] >> 4;
  if (version !== 2 && version !== 3) return { ok: false, reason: 'bad_version' };
  if ((packet[vrrpStart] & 0x0f) !== VRRP_TYPE_ADVERTISEMENT) return { ok: false, reason: 'bad_type' };
  const count = packet[vrrpStart + 3];
  const needed = vrrpLength(version, count);
  if (vrrpLen < needed) return { ok: false, reason: 'bad_length' };
  const initial = version === 3 ? pseudoHeaderSum(srcIp, dstIp, vrrpLen) : 0;
  if (onesComplementSum(packet, vrrpStart, vrrpStart + vrrpLen, initial) !== 0xffff) {
    return { ok: false, reason: 'bad_checksum' };
  }
  const addresses: number[] = [];
  for (let i = 0; i < count; i++) addresses.push(view.getUint32(vrrpStart + 8 + 4 * i));
  let authType = AUTH_NONE;
  let authPass = '';
  let intervalCs: number;
  if (version === 2) {
    authType = packet[vrrpStart + 4];
    intervalCs = packet[vrrpStart + 5] * 100;
    if (authType === AUTH_PASS) {
      const authStart = vrrpStart + 8 + 4 * count;
      let end = authStart + AUTH_DATA_LENGTH;
      while (end > authStart && packet[end - 1] === 0) end--;
      authPass = new TextDecoder().decode(packet.subarray(authStart, end));
    }
  } else {
    intervalCs = view.getUint16(vrrpStart + 4) & 0x0fff;
  }
  return {
    ok: true,
    advert: {
      version, vrid: packet[vrrpStart + 1], priority: packet[vrrpStart + 2], intervalCs,
      authType, authPass, addresses, srcIp, dstIp, ttl,
    },
  };
}

/** What an instance checks against its own configuration (RFC 3768 7.1, RFC 5798 7.1). */
export interface AdvertExpectation {
  version: VrrpVersion;
  vrid: number;
  intervalCs: number;
  authType: number;
  authPass: string;
  /** Our own addresses, to drop adverts we sent ourselves (unicast to ourselves, loops); IPv6 as bigint. */
  ownIps: readonly (number | bigint)[];
}

/** Null when the advert is for this instance and acceptable, else the drop reason. */
/** The fields checked; an IPv6 advert (codec6) gives them too, with a bigint source. */
export type CheckedAdvert = Pick<ReceivedAdvert, 'version' | 'vrid' | 'authType' | 'authPass' | 'intervalCs'> & { srcIp: number | bigint };

export function checkAdvert(advert: CheckedAdvert, expect: AdvertExpectation): DropReason | null {
  if (advert.version !== expect.version) return 'bad_version';
  if (advert.vrid !== expect.vrid) return 'unknown_vrid';
  if (expect.ownIps.includes(advert.srcIp)) return 'own_advert';
  if (advert.version === 2) {
    if (advert.authType !== expect.authType) return 'auth_type_mismatch';
    // keepalived compares the 8 bytes, so a password is significant only to 8 characters.
    if (expect.authType === AUTH_PASS && advert.authPass !== truncatePass(expect.authPass)) return 'auth_failure';
    // v2: a Backup MUST drop adverts whose interval differs from its own (RFC 3768 7.1).
    if (advert.intervalCs !== Math.max(100, Math.round(expect.intervalCs / 100) * 100)) return 'interval_mismatch';
  }
  // v3: a Backup adopts the Master's interval (RFC 5798 6.4.2), so no interval check, except
  // that 0 is none at all: adopted, it would make the Master_Down_Interval 0 and the Backup
  // take over right after every advert (found by fuzz/targets/vrrp.ts).
  if (advert.intervalCs === 0) return 'interval_mismatch';
  return null;
}

function truncatePass(pass: string): string {
  const bytes = new TextEncoder().encode(pass).subarray(0, AUTH_DATA_LENGTH);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
