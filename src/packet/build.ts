// Frame builders for fixture tables, benches and e2e tests (allocation is fine here; never on
// the hot path). Checksums come out correct unless an override asks for a broken one, so the
// same builder produces both the good input and every malformed variant.

import { ipToNumber, parseMac } from './addr.js';
import {
  ICMP_CHECKSUM_OFFSET, TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET,
  icmpChecksum, transportChecksum, udpChecksumForWire, writeIpv4HeaderChecksum,
} from './checksum.js';
import {
  ETHERNET_HEADER_LENGTH, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_VLAN, IPPROTO_ICMP, IPPROTO_TCP,
  IPPROTO_UDP, IPV4_MIN_HEADER_LENGTH, TCP_ACK, TCP_SYN, VLAN_TAG_LENGTH,
} from './parse.js';

export type Ip = string | number;
export type Mac = string | Uint8Array;

export const DEFAULT_DST_MAC = '02:00:00:00:00:02';
export const DEFAULT_SRC_MAC = '02:00:00:00:00:01';

export interface EthernetOptions {
  dstMac?: Mac;
  srcMac?: Mac;
  /** Adds one 802.1Q tag with this VLAN id. */
  vlanId?: number;
  /** Overrides the (inner) ethertype. */
  ethertype?: number;
}

export interface Ipv4Options {
  src: Ip;
  dst: Ip;
  ttl?: number;
  tos?: number;
  id?: number;
  /** Don't-fragment flag; default true, as Linux sets it on TCP. */
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  fragmentOffset?: number;
  /** IP options bytes, zero-padded to a multiple of 4. */
  options?: Uint8Array;
  /** Overrides; default from the L4 part. */
  protocol?: number;
  totalLength?: number;
  /** Header length in 32-bit words as written into the IHL nibble. */
  ihl?: number;
  version?: number;
  checksum?: number;
}

export interface TcpOptions {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** TCP_SYN etc.; default SYN (ACK too when `ack` is given). */
  flags?: number;
  window?: number;
  /** TCP options bytes, zero-padded to a multiple of 4. */
  options?: Uint8Array;
  /** Data offset nibble override (32-bit words). */
  dataOffset?: number;
  checksum?: number;
}

export interface UdpOptions {
  srcPort: number;
  dstPort: number;
  /** 'none' sends checksum 0 (no checksum, allowed over IPv4). */
  checksum?: number | 'none';
  length?: number;
}

export interface IcmpOptions {
  type: number;
  code?: number;
  /** The 4 bytes after the checksum (echo id+sequence, or the next-hop MTU). */
  rest?: number;
  checksum?: number;
}

export interface FrameOptions extends EthernetOptions {
  ip: Ipv4Options;
  tcp?: TcpOptions;
  udp?: UdpOptions;
  icmp?: IcmpOptions;
  /** Raw L4 bytes (e.g. an inner IP packet for IPIP) when no tcp/udp/icmp is given. */
  l4?: Uint8Array;
  payload?: Uint8Array | string;
  /** Zero-pad the frame to at least this many bytes (60 = Ethernet minimum without FCS). */
  padTo?: number;
}

function toIp(ip: Ip): number {
  return typeof ip === 'number' ? ip >>> 0 : ipToNumber(ip);
}

function toMac(mac: Mac): Uint8Array {
  return typeof mac === 'string' ? parseMac(mac) : mac;
}

function padTo4(bytes: Uint8Array | undefined): Uint8Array {
  if (bytes === undefined) return new Uint8Array(0);
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  return padded;
}

function toBytes(payload: Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
}

/** Writes the Ethernet header (and VLAN tag); returns its length. */
function writeEthernet(frame: Uint8Array, options: EthernetOptions, ethertype: number): number {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  frame.set(toMac(options.dstMac ?? DEFAULT_DST_MAC), 0);
  frame.set(toMac(options.srcMac ?? DEFAULT_SRC_MAC), 6);
  if (options.vlanId !== undefined) {
    dv.setUint16(12, ETHERTYPE_VLAN);
    dv.setUint16(14, options.vlanId & 0x0fff);
    dv.setUint16(16, options.ethertype ?? ethertype);
    return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
  }
  dv.setUint16(12, options.ethertype ?? ethertype);
  return ETHERNET_HEADER_LENGTH;
}

function ethernetLength(options: EthernetOptions): number {
  return ETHERNET_HEADER_LENGTH + (options.vlanId !== undefined ? VLAN_TAG_LENGTH : 0);
}

/** Ethernet + IPv4 + TCP/UDP/ICMP (or raw L4) + payload with correct checksums unless overridden. */
export function buildFrame(options: FrameOptions): Uint8Array {
  const payload = toBytes(options.payload);
  const ipOptions = padTo4(options.ip.options);
  const tcpOptions = padTo4(options.tcp?.options);
  let l4HeaderLength: number;
  let protocol: number;
  if (options.tcp !== undefined) { l4HeaderLength = 20 + tcpOptions.length; protocol = IPPROTO_TCP; }
  else if (options.udp !== undefined) { l4HeaderLength = 8; protocol = IPPROTO_UDP; }
  else if (options.icmp !== undefined) { l4HeaderLength = 8; protocol = IPPROTO_ICMP; }
  else { l4HeaderLength = options.l4?.length ?? 0; protocol = options.ip.protocol ?? 0; }
  const ipHeaderLength = IPV4_MIN_HEADER_LENGTH + ipOptions.length;
  const l4Length = l4HeaderLength + payload.length;
  const ipLength = ipHeaderLength + l4Length;
  const ethLength = ethernetLength(options);
  const frame = new Uint8Array(Math.max(ethLength + ipLength, options.padTo ?? 0));
  const dv = new DataView(frame.buffer);
  writeEthernet(frame, options, ETHERTYPE_IPV4);

  const ip = options.ip;
  const l3 = ethLength;
  const srcIp = toIp(ip.src);
  const dstIp = toIp(ip.dst);
  frame[l3] = ((ip.version ?? 4) << 4) | ((ip.ihl ?? ipHeaderLength >> 2) & 0x0f);
  frame[l3 + 1] = ip.tos ?? 0;
  dv.setUint16(l3 + 2, ip.totalLength ?? ipLength);
  dv.setUint16(l3 + 4, ip.id ?? 0x1234);
  const flags = ((ip.df ?? true) ? 0x4000 : 0) | ((ip.mf ?? false) ? 0x2000 : 0);
  dv.setUint16(l3 + 6, flags | (((ip.fragmentOffset ?? 0) >> 3) & 0x1fff));
  frame[l3 + 8] = ip.ttl ?? 64;
  frame[l3 + 9] = ip.protocol ?? protocol;
  dv.setUint32(l3 + 12, srcIp);
  dv.setUint32(l3 + 16, dstIp);
  frame.set(ipOptions, l3 + 20);
  writeIpv4HeaderChecksum(frame, l3, ipHeaderLength);
  if (ip.checksum !== undefined) dv.setUint16(l3 + 10, ip.checksum);

  const l4 = l3 + ipHeaderLength;
  frame.set(payload, l4 + l4HeaderLength);
  if (options.tcp !== undefined) {
    const tcp = options.tcp;
    dv.setUint16(l4, tcp.srcPort);
    dv.setUint16(l4 + 2, tcp.dstPort);
    dv.setUint32(l4 + 4, tcp.seq ?? 1);
    dv.setUint32(l4 + 8, tcp.ack ?? 0);
    frame[l4 + 12] = ((tcp.dataOffset ?? l4HeaderLength >> 2) & 0x0f) << 4;
    frame[l4 + 13] = tcp.flags ?? (tcp.ack !== undefined ? TCP_SYN | TCP_ACK : TCP_SYN);
    dv.setUint16(l4 + 14, tcp.window ?? 65535);
    frame.set(tcpOptions, l4 + 20);
    dv.setUint16(l4 + TCP_CHECKSUM_OFFSET,
      tcp.checksum ?? transportChecksum(frame, l4, l4Length, TCP_CHECKSUM_OFFSET, srcIp, dstIp, IPPROTO_TCP));
  } else if (options.udp !== undefined) {
    const udp = options.udp;
    dv.setUint16(l4, udp.srcPort);
    dv.setUint16(l4 + 2, udp.dstPort);
    dv.setUint16(l4 + 4, udp.length ?? l4Length);
    let checksum: number;
    if (udp.checksum === 'none') checksum = 0;
    else checksum = udp.checksum
      ?? udpChecksumForWire(transportChecksum(frame, l4, l4Length, UDP_CHECKSUM_OFFSET, srcIp, dstIp, IPPROTO_UDP));
    dv.setUint16(l4 + UDP_CHECKSUM_OFFSET, checksum);
  } else if (options.icmp !== undefined) {
    const icmp = options.icmp;
    frame[l4] = icmp.type;
    frame[l4 + 1] = icmp.code ?? 0;
    dv.setUint32(l4 + 4, (icmp.rest ?? 0) >>> 0);
    dv.setUint16(l4 + ICMP_CHECKSUM_OFFSET, icmp.checksum ?? icmpChecksum(frame, l4, l4Length));
  } else if (options.l4 !== undefined) {
    frame.set(options.l4, l4);
  }
  return frame;
}

/** The IPv4 packet (no Ethernet header) of a frame built by buildFrame. */
export function ipPacketOf(frame: Uint8Array): Uint8Array {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const l3 = dv.getUint16(12) === ETHERTYPE_VLAN ? 18 : 14;
  return frame.slice(l3, l3 + dv.getUint16(l3 + 2));
}

export interface ArpOptions extends EthernetOptions {
  /** 1 request, 2 reply. */
  op: number;
  senderMac?: Mac;
  senderIp: Ip;
  targetMac?: Mac;
  targetIp: Ip;
  padTo?: number;
}

/** Ethernet + ARP (Ethernet/IPv4). Sender MAC defaults to the Ethernet source. */
export function buildArpFrame(options: ArpOptions): Uint8Array {
  const ethLength = ethernetLength(options);
  const frame = new Uint8Array(Math.max(ethLength + 28, options.padTo ?? 0));
  const dv = new DataView(frame.buffer);
  writeEthernet(frame, options, ETHERTYPE_ARP);
  const a = ethLength;
  dv.setUint16(a, 1);
  dv.setUint16(a + 2, ETHERTYPE_IPV4);
  frame[a + 4] = 6;
  frame[a + 5] = 4;
  dv.setUint16(a + 6, options.op);
  frame.set(toMac(options.senderMac ?? options.srcMac ?? DEFAULT_SRC_MAC), a + 8);
  dv.setUint32(a + 14, toIp(options.senderIp));
  frame.set(toMac(options.targetMac ?? '00:00:00:00:00:00'), a + 18);
  dv.setUint32(a + 24, toIp(options.targetIp));
  return frame;
}
