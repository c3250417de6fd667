// IPv6 frame builders for fixture tables, benches and e2e tests (allocates; never on the hot
// path). Checksums come out right unless an override asks for a broken one, so the same builder
// gives the good input and every malformed variant.

import { parseIpv6 } from './addr6.js';
import { ICMP_CHECKSUM_OFFSET, TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET } from './checksum.js';
import { ipv6TransportChecksum } from './checksum6.js';
import { DEFAULT_DST_MAC, DEFAULT_SRC_MAC, type IcmpOptions, type Mac, type TcpOptions, type UdpOptions } from './build.js';
import { parseMac } from './addr.js';
import { ETHERTYPE_IPV6, ETHERTYPE_VLAN, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_SYN } from './parse.js';
import { IPPROTO_ICMPV6, IPV6_HEADER_LENGTH } from './ipv6.js';

export interface ExtensionHeader {
  /** The header's own protocol number (0 hop-by-hop, 43 routing, 44 fragment, 60 dest opts, 51 AH). */
  type: number;
  /** The bytes after next-header/length, zero-padded to the header's size. */
  body?: Uint8Array;
  /** Overrides the length byte. */
  lengthByte?: number;
  /** Fragment header: offset in bytes and the M flag. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** Fragment header: the 32-bit identification (default 0x12345678). */
  fragmentId?: number;
}

export interface Frame6Options {
  dstMac?: Mac;
  srcMac?: Mac;
  vlanId?: number;
  src: string | Uint8Array;
  dst: string | Uint8Array;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensions?: ExtensionHeader[];
  tcp?: TcpOptions;
  udp?: UdpOptions;
  icmp?: IcmpOptions;
  /** Raw bytes after the extension headers when no tcp/udp/icmp is given (protocol: nextHeader). */
  l4?: Uint8Array;
  nextHeader?: number;
  payload?: Uint8Array | string;
  /** Overrides the payload length field; version nibble override. */
  payloadLength?: number;
  version?: number;
  padTo?: number;
}

function toBytes(payload: Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
}

function extensionBytes(ext: ExtensionHeader, next: number): Uint8Array {
  if (ext.type === 44) {
    const b = new Uint8Array(8);
    b[0] = next;
    const v = ((ext.fragmentOffset ?? 0) & 0xfff8) | (ext.moreFragments ? 1 : 0);
    b[2] = v >>> 8; b[3] = v & 0xff;
    new DataView(b.buffer).setUint32(4, (ext.fragmentId ?? 0x12345678) >>> 0);
    return b;
  }
  const body = ext.body ?? new Uint8Array(6);
  const unit = ext.type === 51 ? 4 : 8;
  const size = Math.max(8, Math.ceil((body.length + 2) / unit) * unit);
  const b = new Uint8Array(size);
  b[0] = next;
  b[1] = ext.lengthByte ?? (ext.type === 51 ? size / 4 - 2 : size / 8 - 1);
  b.set(body, 2);
  return b;
}

/** Ethernet + IPv6 + extension headers + TCP/UDP/ICMPv6 (or raw) + payload. */
export function buildFrame6(o: Frame6Options): Uint8Array {
  const payload = toBytes(o.payload);
  let protocol: number;
  let l4HeaderLength: number;
  const tcpOptions = o.tcp?.options ?? new Uint8Array(0);
  if (o.tcp) { protocol = IPPROTO_TCP; l4HeaderLength = 20 + ((tcpOptions.length + 3) & ~3); }
  else if (o.udp) { protocol = IPPROTO_UDP; l4HeaderLength = 8; }
  else if (o.icmp) { protocol = IPPROTO_ICMPV6; l4HeaderLength = 8; }
  else { protocol = o.nextHeader ?? 59; l4HeaderLength = o.l4?.length ?? 0; }
  const exts = o.extensions ?? [];
  const extChunks: Uint8Array[] = [];
  for (let i = exts.length - 1; i >= 0; i--) extChunks.unshift(extensionBytes(exts[i], i === exts.length - 1 ? protocol : exts[i + 1].type));
  const extLength = extChunks.reduce((n, c) => n + c.length, 0);
  const l4Length = l4HeaderLength + payload.length;
  const ethLength = o.vlanId !== undefined ? 18 : 14;
  const frame = new Uint8Array(Math.max(ethLength + IPV6_HEADER_LENGTH + extLength + l4Length, o.padTo ?? 0));
  const dv = new DataView(frame.buffer);
  frame.set(typeof o.dstMac === 'object' ? o.dstMac : parseMac(o.dstMac ?? DEFAULT_DST_MAC), 0);
  frame.set(typeof o.srcMac === 'object' ? o.srcMac : parseMac(o.srcMac ?? DEFAULT_SRC_MAC), 6);
  if (o.vlanId !== undefined) { dv.setUint16(12, ETHERTYPE_VLAN); dv.setUint16(14, o.vlanId & 0xfff); }
  dv.setUint16(ethLength - 2, ETHERTYPE_IPV6);
  const l3 = ethLength;
  dv.setUint32(l3, ((((o.version ?? 6) & 15) << 28) | ((o.trafficClass ?? 0) << 20) | ((o.flowLabel ?? 0) & 0xfffff)) >>> 0);
  dv.setUint16(l3 + 4, o.payloadLength ?? extLength + l4Length);
  frame[l3 + 6] = exts.length > 0 ? exts[0].type : protocol;
  frame[l3 + 7] = o.hopLimit ?? 64;
  frame.set(typeof o.src === 'string' ? parseIpv6(o.src) : o.src, l3 + 8);
  frame.set(typeof o.dst === 'string' ? parseIpv6(o.dst) : o.dst, l3 + 24);
  let at = l3 + IPV6_HEADER_LENGTH;
  for (const c of extChunks) { frame.set(c, at); at += c.length; }
  const l4 = at;
  frame.set(payload, l4 + l4HeaderLength);
  if (o.tcp) {
    const tcp = o.tcp;
    dv.setUint16(l4, tcp.srcPort);
    dv.setUint16(l4 + 2, tcp.dstPort);
    dv.setUint32(l4 + 4, tcp.seq ?? 1);
    dv.setUint32(l4 + 8, tcp.ack ?? 0);
    frame[l4 + 12] = ((tcp.dataOffset ?? l4HeaderLength >> 2) & 0x0f) << 4;
    frame[l4 + 13] = tcp.flags ?? (tcp.ack !== undefined ? TCP_SYN | TCP_ACK : TCP_SYN);
    dv.setUint16(l4 + 14, tcp.window ?? 65535);
    frame.set(tcpOptions, l4 + 20);
    dv.setUint16(l4 + TCP_CHECKSUM_OFFSET, tcp.checksum ?? ipv6TransportChecksum(frame, l3, l4, l4Length, TCP_CHECKSUM_OFFSET, IPPROTO_TCP));
  } else if (o.udp) {
    const udp = o.udp;
    dv.setUint16(l4, udp.srcPort);
    dv.setUint16(l4 + 2, udp.dstPort);
    dv.setUint16(l4 + 4, udp.length ?? l4Length);
    const computed = ipv6TransportChecksum(frame, l3, l4, l4Length, UDP_CHECKSUM_OFFSET, IPPROTO_UDP);
    dv.setUint16(l4 + UDP_CHECKSUM_OFFSET, udp.checksum === 'none' ? 0 : udp.checksum ?? (computed === 0 ? 0xffff : computed));
  } else if (o.icmp) {
    const icmp = o.icmp;
    frame[l4] = icmp.type;
    frame[l4 + 1] = icmp.code ?? 0;
    dv.setUint32(l4 + 4, (icmp.rest ?? 0) >>> 0);
    dv.setUint16(l4 + ICMP_CHECKSUM_OFFSET, icmp.checksum ?? ipv6TransportChecksum(frame, l3, l4, l4Length, ICMP_CHECKSUM_OFFSET, IPPROTO_ICMPV6));
  } else if (o.l4) {
    frame.set(o.l4, l4);
  }
  return frame;
}

/** The IPv6 packet (no Ethernet header) of a frame built by buildFrame6. */
export function ipv6PacketOf(frame: Uint8Array): Uint8Array {
  const l3 = ((frame[12] << 8) | frame[13]) === ETHERTYPE_VLAN ? 18 : 14;
  const payloadLength = (frame[l3 + 4] << 8) | frame[l3 + 5];
  return frame.slice(l3, l3 + IPV6_HEADER_LENGTH + payloadLength);
}

/**
 * The frames a sender's IPv6 stack would make of the datagram `o` describes (no extension
 * headers of its own): the fragmentable part (transport header and payload, checksum over the
 * whole datagram) cut into pieces of `pieceSize` bytes (a multiple of 8), each behind the fixed
 * header and a fragment header carrying `id`. The reference the parser and dataplane tests
 * check against.
 */
export function fragmentFrames6(o: Frame6Options, id: number, pieceSize: number): Uint8Array[] {
  if (pieceSize <= 0 || pieceSize % 8 !== 0) throw new Error(`piece size ${pieceSize} is not a positive multiple of 8`);
  const whole = buildFrame6({ ...o, extensions: [] });
  const l3 = o.vlanId !== undefined ? 18 : 14;
  const protocol = whole[l3 + 6];
  const part = whole.subarray(l3 + IPV6_HEADER_LENGTH, l3 + IPV6_HEADER_LENGTH + ((whole[l3 + 4] << 8) | whole[l3 + 5]));
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset < part.length; offset += pieceSize) {
    const piece = part.subarray(offset, Math.min(part.length, offset + pieceSize));
    const frame = new Uint8Array(l3 + IPV6_HEADER_LENGTH + 8 + piece.length);
    frame.set(whole.subarray(0, l3 + IPV6_HEADER_LENGTH), 0);
    const dv = new DataView(frame.buffer);
    dv.setUint16(l3 + 4, 8 + piece.length);
    frame[l3 + 6] = 44;
    frame.set(extensionBytes({ type: 44, fragmentOffset: offset, moreFragments: offset + pieceSize < part.length, fragmentId: id }, protocol),
      l3 + IPV6_HEADER_LENGTH);
    frame.set(piece, l3 + IPV6_HEADER_LENGTH + 8);
    frames.push(frame);
  }
  return frames;
}

/** The datagram's IPv6 payload (transport header on) put back together from fragmentFrames6-style frames, in any order. */
export function reassemble6(frames: readonly Uint8Array[]): Uint8Array {
  const pieces = frames.map((f) => {
    const l3 = ((f[12] << 8) | f[13]) === ETHERTYPE_VLAN ? 18 : 14;
    const length = (f[l3 + 4] << 8) | f[l3 + 5];
    const offset = ((f[l3 + 42] << 8) | f[l3 + 43]) & 0xfff8;
    return { offset, bytes: f.subarray(l3 + IPV6_HEADER_LENGTH + 8, l3 + IPV6_HEADER_LENGTH + length) };
  });
  const size = Math.max(...pieces.map((p) => p.offset + p.bytes.length));
  const out = new Uint8Array(size);
  for (const p of pieces) out.set(p.bytes, p.offset);
  return out;
}
