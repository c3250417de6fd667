// `auth_type AH`: VRRPv2 inside an IPsec Authentication Header (RFC 2402) as keepalived builds
// it (vrrp.c vrrp_build_ipsecah, vrrp_update_pkt, vrrp_in_chk_ipsecah): next header 112,
// payload length 4, SPI = the sender's IPv4 address, a sequence number, and a 96-bit
// HMAC-MD5 (RFC 2403) keyed with the 8-byte, NUL-padded auth_pass over the IP header (mutable
// fields tos, frag_off, checksum zeroed, and the TTL too when unicast), the AH header (its ICV
// zeroed) and the VRRP message. Pure: the caller keeps the sequence counter.
import { createHmac, timingSafeEqual } from 'node:crypto';

import { AUTH_DATA_LENGTH, encodeAdvert, VRRP_PROTOCOL, VRRP_TTL, type Advertisement } from './codec.js';

export const AH_PROTOCOL = 51;
export const AUTH_AH = 2;
/** next header, payload len, reserved (4) + SPI (4) + sequence (4) + ICV (12). */
export const AH_HEADER_LENGTH = 24;
/** RFC 2402 2.2: the header length in 32-bit words minus 2 (24 / 4 - 2). */
const AH_PAYLOAD_LENGTH = 4;
const ICV_LENGTH = 12;
const ICV_OFFSET = 12;

/** The HMAC key: auth_pass truncated to 8 bytes and NUL-padded, as keepalived stores it. */
export function ahKey(pass: string): Buffer {
  const key = Buffer.alloc(AUTH_DATA_LENGTH);
  Buffer.from(pass, 'utf8').copy(key, 0, 0, AUTH_DATA_LENGTH);
  return key;
}

/** The ICV over a whole packet (IP + AH + VRRP) whose mutable fields are zeroed here on a copy. */
function icvOf(packet: Uint8Array, ihl: number, key: Buffer, unicast: boolean): Buffer {
  const copy = Buffer.from(packet);
  copy[1] = 0; // tos
  copy.writeUInt16BE(0, 6); // flags + fragment offset
  copy.writeUInt16BE(0, 10); // header checksum
  if (unicast) copy[8] = 0; // a routed unicast advert may arrive with a lower TTL
  copy.fill(0, ihl + ICV_OFFSET, ihl + ICV_OFFSET + ICV_LENGTH);
  return createHmac('md5', key).update(copy).digest().subarray(0, ICV_LENGTH);
}

export interface AhSend {
  key: Buffer;
  /** The sequence number this advert carries (the caller increments it per advert). */
  seq: number;
  /** IP id: part of the ICV, so it is ours to choose (a zero would be replaced by the kernel). */
  ipId: number;
  unicast: boolean;
}

/** The whole IPv4 packet (protocol 51) for IP_HDRINCL; the kernel fills the header checksum. */
export function encodeAhAdvertPacket(advert: Advertisement, srcIp: number, dstIp: number, ah: AhSend): Uint8Array {
  const vrrp = encodeAdvert({ ...advert, authType: AUTH_AH, authPass: '' }, srcIp, dstIp);
  const out = Buffer.alloc(20 + AH_HEADER_LENGTH + vrrp.length);
  out[0] = 0x45;
  out[1] = 0xc0;
  out.writeUInt16BE(out.length, 2);
  out.writeUInt16BE(ah.ipId & 0xffff || 1, 4);
  out[8] = VRRP_TTL;
  out[9] = AH_PROTOCOL;
  out.writeUInt32BE(srcIp >>> 0, 12);
  out.writeUInt32BE(dstIp >>> 0, 16);
  out[20] = VRRP_PROTOCOL;
  out[21] = AH_PAYLOAD_LENGTH;
  out.writeUInt32BE(srcIp >>> 0, 24); // SPI: the sender's address (keepalived's choice)
  out.writeUInt32BE(ah.seq >>> 0, 28);
  out.set(vrrp, 20 + AH_HEADER_LENGTH);
  icvOf(out, 20, ah.key, ah.unicast).copy(out, 20 + ICV_OFFSET);
  return out;
}

export type AhUnwrap =
  | { ok: true; vrrpPacket: Uint8Array; seq: number; verify(key: Buffer, unicast: boolean): boolean }
  | { ok: false; reason: 'truncated' | 'bad_ah_header' };

/**
 * A received protocol-51 packet as the VRRP packet inside it (the IP header with protocol
 * 112 and the AH removed, so the ordinary decoder reads it), its sequence number, and a check
 * of its ICV and SPI for the key of the instance it turns out to be for.
 */
export function unwrapAh(packet: Uint8Array): AhUnwrap {
  if (packet.length < 20) return { ok: false, reason: 'truncated' };
  const ihl = (packet[0] & 0x0f) * 4;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const total = Math.min(view.getUint16(2), packet.length);
  if (ihl < 20 || total < ihl + AH_HEADER_LENGTH + 8) return { ok: false, reason: 'truncated' };
  if (packet[ihl] !== VRRP_PROTOCOL || packet[ihl + 1] !== AH_PAYLOAD_LENGTH) return { ok: false, reason: 'bad_ah_header' };
  const whole = packet.subarray(0, total);
  const inner = Buffer.alloc(total - AH_HEADER_LENGTH);
  inner.set(whole.subarray(0, ihl));
  inner.set(whole.subarray(ihl + AH_HEADER_LENGTH), ihl);
  inner[9] = VRRP_PROTOCOL;
  inner.writeUInt16BE(inner.length, 2);
  const spi = view.getUint32(ihl + 4);
  const src = view.getUint32(12);
  return {
    ok: true,
    vrrpPacket: inner,
    seq: view.getUint32(ihl + 8),
    verify(key, unicast) {
      const got = Buffer.from(whole.subarray(ihl + ICV_OFFSET, ihl + ICV_OFFSET + ICV_LENGTH));
      return timingSafeEqual(got, icvOf(whole, ihl, key, unicast)) && spi === src;
    },
  };
}
