/**
 * Hostile-traffic screen (issue 15 part 5): what the kernel would never have handed IPVS on
 * the director's interface, refused before a packet can open or use a connection. Pure and
 * allocation-free (called per packet, after parseFrame said OK).
 */
import type { ParsedFrame } from '../packet/parse.js';
import { DataplaneDrop } from './counters.js';

/** IP option types that route the packet along a path its sender chose (RFC 791). */
const IPOPT_LSRR = 0x83;
const IPOPT_SSRR = 0x89;
const IPOPT_END = 0;
const IPOPT_NOOP = 1;

/**
 * True when the IPv4 options carry a loose or strict source route. Linux drops those by
 * default (accept_source_route = 0, ip_options_rcv_srr): forwarding one to a real server
 * would let the sender steer it past the director. Malformed options count as a route too:
 * the kernel drops them as well (ip_options_compile).
 */
export function hasSourceRoute(u8: Uint8Array, l3: number, headerLength: number): boolean {
  const end = l3 + headerLength;
  let i = l3 + 20;
  while (i < end) {
    const type = u8[i];
    if (type === IPOPT_END) return false;
    if (type === IPOPT_NOOP) { i++; continue; }
    if (i + 1 >= end) return true;
    const len = u8[i + 1];
    if (len < 2 || i + len > end) return true;
    if (type === IPOPT_LSRR || type === IPOPT_SSRR) return true;
    i += len;
  }
  return false;
}

/**
 * The drop reason for a parsed frame the director must not forward, or -1. A VLAN tag:
 * ulvs serves the untagged segment of its interfaces, and the kernel hands tagged frames
 * only to a VLAN device, never to the parent's IPVS. A martian source (0/8, 127/8, multicast,
 * class E, broadcast): ip_route_input drops those. A source route: see hasSourceRoute.
 */
export function screenFrame(u8: Uint8Array, p: ParsedFrame): number {
  if (p.vlanId >= 0) return DataplaneDrop.VLAN_TAGGED;
  const top = p.srcIp >>> 24;
  if (top === 0 || top === 127 || top >= 224) return DataplaneDrop.MARTIAN_SOURCE;
  if (p.ipHeaderLength > 20 && hasSourceRoute(u8, p.l3Offset, p.ipHeaderLength)) return DataplaneDrop.SOURCE_ROUTE;
  return -1;
}
