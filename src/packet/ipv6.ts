// IPv6 parsing for the dataplane (RFC 8200): the fixed header, a bounded walk over extension
// headers to the transport header, TCP, UDP and ICMPv6. parseFrame (parse.ts) answers
// ParseResult.IPV6 for ethertype 0x86DD with l3Offset set; the IPv6 path then calls
// parseIpv6Packet on that offset. Like parseFrame it fills a reusable object, never allocates
// and never throws, whatever the bytes (fuzzed in test/packet/ipv6.test.ts). Drops are result
// codes; PARSE6_RESULT_NAMES[code] names the counter.

import { ipv6TransportChecksumValid } from './checksum6.js';
import { IPPROTO_TCP, IPPROTO_UDP, TCP_MIN_HEADER_LENGTH, UDP_HEADER_LENGTH } from './parse.js';

export const IPV6_HEADER_LENGTH = 40;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
/**
 * The walk stops after this many extension headers. Each header advances at least 8 bytes, so
 * a walk ends anyway; the bound caps the work a hostile chain costs (RFC 8504 suggests limits).
 */
export const IPV6_MAX_EXTENSION_HEADERS = 8;

export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAMETER_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;

/** Parse outcomes; from TRUNCATED_IP on they are drop reasons (dense: they index counters). */
export const Parse6Result = {
  OK: 0,
  TRUNCATED_IP: 1,
  BAD_IP_VERSION: 2,
  /** Payload length 0 (a jumbogram, RFC 2675) or longer than the frame. */
  BAD_PAYLOAD_LENGTH: 3,
  /** ip6_rcv drops multicast sources and loopback on the wire. */
  BAD_SOURCE_ADDRESS: 4,
  TRUNCATED_EXTENSION_HEADER: 5,
  /** Hop-by-hop options anywhere but first (RFC 8200 4.3; ip6_parse_tlv drops it). */
  MISPLACED_HOP_BY_HOP: 6,
  TOO_MANY_EXTENSION_HEADERS: 7,
  /**
   * A fragment (not an atomic one): offset, M flag, identification and next header are filled
   * in, and a first fragment's ports when its transport header follows the fragment header.
   * Not a drop by itself: the IPv6 path follows the first fragment (fragments6.ts); a first
   * fragment without its ports is counted under this name (drop_ipv6_fragment).
   */
  FRAGMENT: 8,
  /** ESP, no next header, or any transport other than TCP, UDP, ICMPv6. */
  UNSUPPORTED_PROTOCOL: 9,
  TRUNCATED_L4: 10,
  BAD_TCP_OFFSET: 11,
  BAD_UDP_LENGTH: 12,
  /** UDP checksum 0 is not allowed over IPv6 (RFC 8200 8.1); udpv6_rcv drops it. */
  UDP_ZERO_CHECKSUM: 13,
  /** ICMPv6 carries its checksum over the pseudo header; a bad one is dropped (icmpv6_rcv). */
  BAD_ICMPV6_CHECKSUM: 14,
} as const;
export type Parse6Result = (typeof Parse6Result)[keyof typeof Parse6Result];

export const PARSE6_RESULT_NAMES: readonly string[] = Object.freeze(
  Object.entries(Parse6Result).sort((a, b) => a[1] - b[1]).map(([name]) => name),
);
export const PARSE6_RESULT_COUNT = PARSE6_RESULT_NAMES.length;

/**
 * One parsed IPv6 packet, reused per packet. Addresses stay in frame memory (srcOffset,
 * dstOffset point at their 16 bytes); the 32-bit words are copied out for hashing and lookups.
 * Fields past the point where parsing stopped are stale: read only what the result vouches for.
 */
export class ParsedIpv6 {
  l3Offset = 0;
  payloadLength = 0;
  trafficClass = 0;
  flowLabel = 0;
  hopLimit = 0;
  /** The transport protocol after the extension headers (TCP, UDP, ICMPv6...). */
  protocol = 0;
  /** Offset of the byte holding `protocol` (a next-header field): NAT66 never changes it. */
  srcOffset = 0;
  dstOffset = 0;
  src0 = 0; src1 = 0; src2 = 0; src3 = 0;
  dst0 = 0; dst1 = 0; dst2 = 0; dst3 = 0;
  extensionHeaderCount = 0;
  /**
   * Fragment header fields when the result is FRAGMENT: the offset in bytes, the M flag, the
   * 32-bit identification; `protocol` is then the fragment header's next header, `l4Offset`
   * the first byte after it and `l4Length` the fragment's bytes from there.
   */
  fragmentOffset = 0;
  moreFragments = false;
  fragmentId = 0;

  l4Offset = 0;
  /** Bytes from the transport header to the end of the IPv6 payload (the pseudo-header length). */
  l4Length = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  l4HeaderLength = 0;
  payloadOffset = 0;
  icmpType = 0;
  icmpCode = 0;
  /** ICMPv6 errors (types 1-4) quoting an IPv6 header and 8 transport bytes: its offset, else -1. */
  icmpInnerL3Offset = -1;
  icmpInnerProtocol = 0;
  /** The quoted transport header's offset (its ports; NAT66 rewrites one). */
  icmpInnerL4Offset = 0;
  icmpInnerSrcPort = 0;
  icmpInnerDstPort = 0;
}

/** Parse the IPv6 packet at u8[l3, end). `dv` views the same memory as `u8` (FrameView). */
export function parseIpv6Packet(u8: Uint8Array, dv: DataView, l3: number, end: number, out: ParsedIpv6): Parse6Result {
  out.l3Offset = l3;
  out.icmpInnerL3Offset = -1;
  out.extensionHeaderCount = 0;
  if (l3 < 0 || end > u8.length || end - l3 < IPV6_HEADER_LENGTH) return Parse6Result.TRUNCATED_IP;
  const first = dv.getUint32(l3);
  if (first >>> 28 !== 6) return Parse6Result.BAD_IP_VERSION;
  out.trafficClass = (first >>> 20) & 0xff;
  out.flowLabel = first & 0xfffff;
  const payloadLength = dv.getUint16(l3 + 4);
  // Longer frames are Ethernet padding; a shorter one is truncated.
  if (payloadLength === 0 || payloadLength > end - l3 - IPV6_HEADER_LENGTH) return Parse6Result.BAD_PAYLOAD_LENGTH;
  out.payloadLength = payloadLength;
  out.hopLimit = u8[l3 + 7];
  out.srcOffset = l3 + 8;
  out.dstOffset = l3 + 24;
  out.src0 = dv.getUint32(l3 + 8); out.src1 = dv.getUint32(l3 + 12);
  out.src2 = dv.getUint32(l3 + 16); out.src3 = dv.getUint32(l3 + 20);
  out.dst0 = dv.getUint32(l3 + 24); out.dst1 = dv.getUint32(l3 + 28);
  out.dst2 = dv.getUint32(l3 + 32); out.dst3 = dv.getUint32(l3 + 36);
  if (u8[l3 + 8] === 0xff || (out.src0 === 0 && out.src1 === 0 && out.src2 === 0 && out.src3 === 1)) {
    return Parse6Result.BAD_SOURCE_ADDRESS;
  }
  const packetEnd = l3 + IPV6_HEADER_LENGTH + payloadLength;
  let next = u8[l3 + 6];
  let at = l3 + IPV6_HEADER_LENGTH;
  for (let count = 0; ; count++) {
    if (next === IPPROTO_TCP || next === IPPROTO_UDP || next === IPPROTO_ICMPV6) break;
    if (next !== IPPROTO_HOPOPTS && next !== IPPROTO_ROUTING && next !== IPPROTO_DSTOPTS
      && next !== IPPROTO_FRAGMENT && next !== IPPROTO_AH) return Parse6Result.UNSUPPORTED_PROTOCOL;
    if (next === IPPROTO_HOPOPTS && count !== 0) return Parse6Result.MISPLACED_HOP_BY_HOP;
    if (count === IPV6_MAX_EXTENSION_HEADERS) return Parse6Result.TOO_MANY_EXTENSION_HEADERS;
    if (packetEnd - at < 8) return Parse6Result.TRUNCATED_EXTENSION_HEADER;
    let length: number;
    if (next === IPPROTO_FRAGMENT) {
      length = 8;
      const offsetFlags = dv.getUint16(at + 2);
      out.fragmentOffset = offsetFlags & 0xfff8;
      out.moreFragments = (offsetFlags & 1) !== 0;
      out.fragmentId = dv.getUint32(at + 4);
      // An atomic fragment (offset 0, no more fragments; RFC 6946) is a whole packet.
      if (out.fragmentOffset !== 0 || out.moreFragments) {
        out.extensionHeaderCount = count + 1;
        return fragment6(u8, dv, at, packetEnd, out);
      }
    } else if (next === IPPROTO_AH) {
      length = (u8[at + 1] + 2) << 2;
    } else {
      length = (u8[at + 1] + 1) << 3;
    }
    if (length > packetEnd - at) return Parse6Result.TRUNCATED_EXTENSION_HEADER;
    next = u8[at];
    at += length;
    out.extensionHeaderCount = count + 1;
  }
  out.protocol = next;
  out.l4Offset = at;
  out.l4Length = packetEnd - at;
  if (next === IPPROTO_TCP) return parseTcp6(u8, dv, at, packetEnd - at, out);
  if (next === IPPROTO_UDP) return parseUdp6(dv, at, packetEnd - at, out);
  return parseIcmp6(u8, dv, at, packetEnd, out);
}

/**
 * A fragment whose fragment header is at `at` (8 bytes, checked by the walk). A first fragment
 * carries the ports when the transport header follows the fragment header and is in this
 * fragment (RFC 7112 asks the first fragment to hold the whole header chain); a header chain
 * going on after the fragment header (destination options there) leaves them 0, as does a
 * later fragment. Lengths and checksums cover the whole datagram, so they are not checked.
 */
function fragment6(u8: Uint8Array, dv: DataView, at: number, packetEnd: number, out: ParsedIpv6): Parse6Result {
  const protocol = u8[at];
  const l4 = at + 8;
  const l4Length = packetEnd - l4;
  out.protocol = protocol;
  out.l4Offset = l4;
  out.l4Length = l4Length;
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  if (out.fragmentOffset === 0 && (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) &&
      l4Length >= (protocol === IPPROTO_TCP ? TCP_MIN_HEADER_LENGTH : UDP_HEADER_LENGTH)) {
    out.srcPort = dv.getUint16(l4);
    out.dstPort = dv.getUint16(l4 + 2);
    if (protocol === IPPROTO_TCP) out.tcpFlags = u8[l4 + 13];
  }
  return Parse6Result.FRAGMENT;
}

function parseTcp6(u8: Uint8Array, dv: DataView, l4: number, l4Length: number, out: ParsedIpv6): Parse6Result {
  if (l4Length < TCP_MIN_HEADER_LENGTH) return Parse6Result.TRUNCATED_L4;
  out.srcPort = dv.getUint16(l4);
  out.dstPort = dv.getUint16(l4 + 2);
  out.tcpSeq = dv.getUint32(l4 + 4);
  out.tcpAck = dv.getUint32(l4 + 8);
  const headerLength = (u8[l4 + 12] >>> 4) << 2;
  out.tcpFlags = u8[l4 + 13];
  if (headerLength < TCP_MIN_HEADER_LENGTH || headerLength > l4Length) return Parse6Result.BAD_TCP_OFFSET;
  out.l4HeaderLength = headerLength;
  out.payloadOffset = l4 + headerLength;
  return Parse6Result.OK;
}

function parseUdp6(dv: DataView, l4: number, l4Length: number, out: ParsedIpv6): Parse6Result {
  if (l4Length < UDP_HEADER_LENGTH) return Parse6Result.TRUNCATED_L4;
  out.srcPort = dv.getUint16(l4);
  out.dstPort = dv.getUint16(l4 + 2);
  const udpLength = dv.getUint16(l4 + 4);
  if (udpLength < UDP_HEADER_LENGTH || udpLength > l4Length) return Parse6Result.BAD_UDP_LENGTH;
  if (dv.getUint16(l4 + 6) === 0) return Parse6Result.UDP_ZERO_CHECKSUM;
  out.tcpFlags = 0;
  out.l4HeaderLength = UDP_HEADER_LENGTH;
  out.payloadOffset = l4 + UDP_HEADER_LENGTH;
  return Parse6Result.OK;
}

function parseIcmp6(u8: Uint8Array, dv: DataView, l4: number, packetEnd: number, out: ParsedIpv6): Parse6Result {
  const l4Length = packetEnd - l4;
  if (l4Length < 8) return Parse6Result.TRUNCATED_L4;
  if (!ipv6TransportChecksumValid(u8, out.l3Offset, l4, l4Length, IPPROTO_ICMPV6)) return Parse6Result.BAD_ICMPV6_CHECKSUM;
  const type = u8[l4];
  out.icmpType = type;
  out.icmpCode = u8[l4 + 1];
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  out.l4HeaderLength = 8;
  out.payloadOffset = l4 + 8;
  if (type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMETER_PROBLEM) parseIcmp6Quote(u8, dv, l4 + 8, packetEnd, out);
  return Parse6Result.OK;
}

/** The quoted packet of an ICMPv6 error: its IPv6 header, a bounded walk, then 4 port bytes. */
function parseIcmp6Quote(u8: Uint8Array, dv: DataView, inner: number, end: number, out: ParsedIpv6): void {
  if (end - inner < IPV6_HEADER_LENGTH || u8[inner] >>> 4 !== 6) return;
  let next = u8[inner + 6];
  let at = inner + IPV6_HEADER_LENGTH;
  for (let count = 0; next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS; count++) {
    if (count === IPV6_MAX_EXTENSION_HEADERS || end - at < 8) return;
    const length = (u8[at + 1] + 1) << 3;
    next = u8[at];
    at += length;
  }
  if (end - at < 4) return;
  out.icmpInnerL3Offset = inner;
  out.icmpInnerL4Offset = at;
  out.icmpInnerProtocol = next;
  out.icmpInnerSrcPort = dv.getUint16(at);
  out.icmpInnerDstPort = dv.getUint16(at + 2);
}
