// Frame parsing for the dataplane: Ethernet (+ one 802.1Q tag), ARP, IPv4 (with options),
// TCP, UDP, ICMP. parseFrame fills a reusable ParsedFrame and returns a ParseResult code; it
// never allocates and never throws, whatever the bytes (fuzzed in test/packet/parse.test.ts).
// The caller counts results per code: PARSE_RESULT_NAMES[code] names the counter.

import { ipv4HeaderChecksumValid } from './checksum.js';

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
export const IPV4_MIN_HEADER_LENGTH = 20;
export const TCP_MIN_HEADER_LENGTH = 20;
export const UDP_HEADER_LENGTH = 8;
/** Type, code, checksum and the 4-byte "rest of header" every ICMP message has. */
export const ICMP_HEADER_LENGTH = 8;
/** Ethernet/IPv4 ARP body: htype, ptype, hlen, plen, op, sha, spa, tha, tpa. */
export const ARP_IPV4_LENGTH = 28;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_IPV6 = 0x86dd;

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;
export const ICMP_FRAG_NEEDED_CODE = 4;

/**
 * Parse outcomes. OK = IPv4 TCP/UDP/ICMP fully parsed; ARP = a well-formed Ethernet/IPv4 ARP
 * (not an error: the caller passes it on). Everything from TRUNCATED_ETHERNET on is a drop
 * reason. Values are dense so that they index a counter array.
 */
export const ParseResult = {
  OK: 0,
  ARP: 1,
  TRUNCATED_ETHERNET: 2,
  STACKED_VLAN: 3,
  UNKNOWN_ETHERTYPE: 4,
  IPV6: 5,
  TRUNCATED_ARP: 6,
  TRUNCATED_IP: 7,
  BAD_IP_VERSION: 8,
  BAD_IHL: 9,
  BAD_TOTAL_LENGTH: 10,
  BAD_IP_CHECKSUM: 11,
  FRAGMENT: 12,
  UNSUPPORTED_PROTOCOL: 13,
  TRUNCATED_L4: 14,
  BAD_TCP_OFFSET: 15,
  BAD_UDP_LENGTH: 16,
} as const;
export type ParseResult = (typeof ParseResult)[keyof typeof ParseResult];

/** Counter names, index = ParseResult value. */
export const PARSE_RESULT_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, value] of Object.entries(ParseResult)) names[value] = name;
  return Object.freeze(names);
})();
export const PARSE_RESULT_COUNT = PARSE_RESULT_NAMES.length;
/** Codes >= this are drops. */
export const FIRST_DROP_RESULT = ParseResult.TRUNCATED_ETHERNET;

/**
 * One parsed frame, reused for every packet (the dataplane holds one per worker).
 * All offsets are absolute indexes into the frame memory. Fields past the point where parsing
 * stopped keep stale values from an earlier frame: read only what the result code vouches for.
 */
export class ParsedFrame {
  /** Offset and length of the whole frame as handed to parseFrame. */
  frameOffset = 0;
  frameLength = 0;
  /** 802.1Q VLAN id (0..4095), or -1 when untagged. */
  vlanId = -1;
  /** The ethertype after any VLAN tag. */
  ethertype = 0;
  l3Offset = 0;

  // IPv4 (for ARP: srcIp/dstIp are the sender/target protocol addresses)
  /** Header length in bytes (IHL * 4). */
  ipHeaderLength = 0;
  tos = 0;
  totalLength = 0;
  ipId = 0;
  dontFragment = false;
  moreFragments = false;
  /** Fragment offset in bytes. */
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  srcIp = 0;
  dstIp = 0;

  // L4
  l4Offset = 0;
  /** totalLength - ipHeaderLength: the L4 header plus payload. */
  l4Length = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  /** TCP header length in bytes (data offset * 4); 8 for UDP; 8 for ICMP. */
  l4HeaderLength = 0;
  payloadOffset = 0;
  icmpType = 0;
  icmpCode = 0;
  /**
   * For ICMP errors (dest unreachable, source quench, time exceeded, parameter problem) that
   * quote an IPv4 header plus 8 bytes: the offset of that quoted header, else -1. IPVS uses
   * these to find the connection an error belongs to (ip_vs_in_icmp).
   */
  icmpInnerL3Offset = -1;
  icmpInnerProtocol = 0;
  icmpInnerSrcIp = 0;
  icmpInnerDstIp = 0;
  icmpInnerSrcPort = 0;
  icmpInnerDstPort = 0;

  /** ARP operation (1 request, 2 reply). */
  arpOp = 0;
}

/**
 * Parse the frame at u8[offset, offset+length). `dv` must be a DataView over the same memory
 * as `u8` with the same byteOffset (one pair made once per port buffer).
 * An Ethernet frame longer than the IPv4 total length is padding and fine; shorter is TRUNCATED_IP.
 */
export function parseFrame(u8: Uint8Array, dv: DataView, offset: number, length: number, out: ParsedFrame): ParseResult {
  out.frameOffset = offset;
  out.frameLength = length;
  out.vlanId = -1;
  out.icmpInnerL3Offset = -1;
  // Out-of-range offsets would read `undefined`; refuse them before any read.
  if (length < ETHERNET_HEADER_LENGTH || offset < 0 || offset + length > u8.length) return ParseResult.TRUNCATED_ETHERNET;
  const end = offset + length;
  let l3 = offset + ETHERNET_HEADER_LENGTH;
  let ethertype = dv.getUint16(offset + 12);
  if (ethertype === ETHERTYPE_VLAN) {
    if (length < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH) return ParseResult.TRUNCATED_ETHERNET;
    out.vlanId = dv.getUint16(offset + 14) & 0x0fff;
    ethertype = dv.getUint16(offset + 16);
    l3 += VLAN_TAG_LENGTH;
  }
  out.ethertype = ethertype;
  out.l3Offset = l3;
  if (ethertype === ETHERTYPE_IPV4) return parseIpv4(u8, dv, l3, end, out);
  if (ethertype === ETHERTYPE_ARP) return parseArp(dv, l3, end, out);
  if (ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ) return ParseResult.STACKED_VLAN;
  if (ethertype === ETHERTYPE_IPV6) return ParseResult.IPV6;
  return ParseResult.UNKNOWN_ETHERTYPE;
}

function parseArp(dv: DataView, l3: number, end: number, out: ParsedFrame): ParseResult {
  if (end - l3 < ARP_IPV4_LENGTH) return ParseResult.TRUNCATED_ARP;
  // Only Ethernet (1) / IPv4 with 6- and 4-byte addresses is ARP as far as a director cares.
  if (dv.getUint16(l3) !== 1 || dv.getUint16(l3 + 2) !== ETHERTYPE_IPV4 || dv.getUint16(l3 + 4) !== 0x0604) {
    return ParseResult.UNKNOWN_ETHERTYPE;
  }
  out.arpOp = dv.getUint16(l3 + 6);
  out.srcIp = dv.getUint32(l3 + 14);
  out.dstIp = dv.getUint32(l3 + 24);
  out.protocol = 0;
  return ParseResult.ARP;
}

function parseIpv4(u8: Uint8Array, dv: DataView, l3: number, end: number, out: ParsedFrame): ParseResult {
  const available = end - l3;
  if (available < IPV4_MIN_HEADER_LENGTH) return ParseResult.TRUNCATED_IP;
  const versionIhl = u8[l3];
  if (versionIhl >>> 4 !== 4) return ParseResult.BAD_IP_VERSION;
  const headerLength = (versionIhl & 0x0f) << 2;
  if (headerLength < IPV4_MIN_HEADER_LENGTH) return ParseResult.BAD_IHL;
  if (headerLength > available) return ParseResult.TRUNCATED_IP;
  const totalLength = dv.getUint16(l3 + 2);
  if (totalLength < headerLength) return ParseResult.BAD_TOTAL_LENGTH;
  if (totalLength > available) return ParseResult.TRUNCATED_IP;
  out.ipHeaderLength = headerLength;
  out.tos = u8[l3 + 1];
  out.totalLength = totalLength;
  out.ipId = dv.getUint16(l3 + 4);
  const flagsFragment = dv.getUint16(l3 + 6);
  out.dontFragment = (flagsFragment & 0x4000) !== 0;
  out.moreFragments = (flagsFragment & 0x2000) !== 0;
  out.fragmentOffset = (flagsFragment & 0x1fff) << 3;
  out.ttl = u8[l3 + 8];
  const protocol = u8[l3 + 9];
  out.protocol = protocol;
  out.srcIp = dv.getUint32(l3 + 12);
  out.dstIp = dv.getUint32(l3 + 16);
  // The kernel drops bad header checksums in ip_rcv before IPVS ever sees them.
  if (!ipv4HeaderChecksumValid(u8, l3, headerLength)) return ParseResult.BAD_IP_CHECKSUM;
  const l4 = l3 + headerLength;
  const l4Length = totalLength - headerLength;
  out.l4Offset = l4;
  out.l4Length = l4Length;
  // IPVS reassembles first (ip_vs_gather_frags); ulvs follows the first fragment's choice
  // (src/dataplane/fragments.ts). A first fragment's ports (and TCP flags) are read here; the
  // transport length and checksum cover the whole datagram, so they are not checked.
  if ((flagsFragment & 0x3fff) !== 0) {
    out.srcPort = 0;
    out.dstPort = 0;
    out.tcpFlags = 0;
    if (out.fragmentOffset === 0 && (protocol === IPPROTO_UDP || protocol === IPPROTO_TCP) &&
        l4Length >= (protocol === IPPROTO_TCP ? TCP_MIN_HEADER_LENGTH : UDP_HEADER_LENGTH)) {
      out.srcPort = dv.getUint16(l4);
      out.dstPort = dv.getUint16(l4 + 2);
      if (protocol === IPPROTO_TCP) out.tcpFlags = u8[l4 + 13];
    }
    return ParseResult.FRAGMENT;
  }
  if (protocol === IPPROTO_TCP) return parseTcp(u8, dv, l4, l4Length, out);
  if (protocol === IPPROTO_UDP) return parseUdp(dv, l4, l4Length, out);
  if (protocol === IPPROTO_ICMP) return parseIcmp(u8, dv, l4, l4Length, out);
  return ParseResult.UNSUPPORTED_PROTOCOL;
}

function parseTcp(u8: Uint8Array, dv: DataView, l4: number, l4Length: number, out: ParsedFrame): ParseResult {
  if (l4Length < TCP_MIN_HEADER_LENGTH) return ParseResult.TRUNCATED_L4;
  out.srcPort = dv.getUint16(l4);
  out.dstPort = dv.getUint16(l4 + 2);
  out.tcpSeq = dv.getUint32(l4 + 4);
  out.tcpAck = dv.getUint32(l4 + 8);
  const headerLength = (u8[l4 + 12] >>> 4) << 2;
  out.tcpFlags = u8[l4 + 13];
  if (headerLength < TCP_MIN_HEADER_LENGTH || headerLength > l4Length) return ParseResult.BAD_TCP_OFFSET;
  out.l4HeaderLength = headerLength;
  out.payloadOffset = l4 + headerLength;
  return ParseResult.OK;
}

function parseUdp(dv: DataView, l4: number, l4Length: number, out: ParsedFrame): ParseResult {
  if (l4Length < UDP_HEADER_LENGTH) return ParseResult.TRUNCATED_L4;
  out.srcPort = dv.getUint16(l4);
  out.dstPort = dv.getUint16(l4 + 2);
  const udpLength = dv.getUint16(l4 + 4);
  // Linux (udp_rcv) drops a UDP length longer than the IP payload or shorter than the header.
  if (udpLength < UDP_HEADER_LENGTH || udpLength > l4Length) return ParseResult.BAD_UDP_LENGTH;
  out.tcpFlags = 0;
  out.l4HeaderLength = UDP_HEADER_LENGTH;
  out.payloadOffset = l4 + UDP_HEADER_LENGTH;
  return ParseResult.OK;
}

function parseIcmp(u8: Uint8Array, dv: DataView, l4: number, l4Length: number, out: ParsedFrame): ParseResult {
  if (l4Length < ICMP_HEADER_LENGTH) return ParseResult.TRUNCATED_L4;
  const type = u8[l4];
  out.icmpType = type;
  out.icmpCode = u8[l4 + 1];
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  out.l4HeaderLength = ICMP_HEADER_LENGTH;
  out.payloadOffset = l4 + ICMP_HEADER_LENGTH;
  if (type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM) {
    parseIcmpQuote(u8, dv, l4 + ICMP_HEADER_LENGTH, l4Length - ICMP_HEADER_LENGTH, out);
  }
  return ParseResult.OK;
}

/** Fills the icmpInner* fields when the quoted header is a plausible IPv4 header plus 8 bytes. */
function parseIcmpQuote(u8: Uint8Array, dv: DataView, inner: number, available: number, out: ParsedFrame): void {
  if (available < IPV4_MIN_HEADER_LENGTH) return;
  const versionIhl = u8[inner];
  const headerLength = (versionIhl & 0x0f) << 2;
  if (versionIhl >>> 4 !== 4 || headerLength < IPV4_MIN_HEADER_LENGTH || headerLength + 8 > available) return;
  out.icmpInnerL3Offset = inner;
  out.icmpInnerProtocol = u8[inner + 9];
  out.icmpInnerSrcIp = dv.getUint32(inner + 12);
  out.icmpInnerDstIp = dv.getUint32(inner + 16);
  out.icmpInnerSrcPort = dv.getUint16(inner + headerLength);
  out.icmpInnerDstPort = dv.getUint16(inner + headerLength + 2);
}

/** A Uint8Array and a DataView over the same memory, made once per port buffer. */
export class FrameView {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  constructor(memory: Uint8Array) {
    this.u8 = memory;
    this.dv = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
  }
}
