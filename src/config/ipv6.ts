/**
 * IPv6 in configuration values: the address family of a text, keepalived's IPv6 group ranges,
 * and the one sentence ulvs refuses IPv6 with until the dataplane forwards it (issue 16).
 * Validation is node:net's (via src/packet/addr6.ts); nothing here touches the dataplane.
 */
import { formatIpv6, isLinkLocalIpv6, parseIpv6OrNull } from '../packet/addr6.js';
import { parseIpv4 } from './ipv4.js';

/**
 * Why an IPv6 address is refused at load rather than accepted and skipped, wherever the schema
 * takes only IPv4 (src/config/raw-schema-scalars.ts `ipv4`, or `ipv4Only` with a field's own
 * reason): VRRP's mcast_src_ip/mcast_dst_ip (VRRPv3 over IPv6 advertises from the link-local
 * address to ff02::12, or to unicast_peer), Full NAT's local addresses, an address's brd/peer,
 * the sync daemon's group. Everything else takes IPv6: virtual services, health checks'
 * connect_ip/bindto, static_ipaddress, VRRP virtual_ipaddress, unicast_src_ip and unicast_peer.
 * Lifting the refusal for one part means switching that part's fields to a scalar that takes IPv6.
 */
export const IPV6_REFUSED = 'is an IPv6 address where ulvs takes IPv4 only (virtual servers, health checks\' connect_ip/bindto, '
  + 'static_ipaddress and vrrp_instance virtual_ipaddress, unicast_src_ip and unicast_peer take IPv6), so it refuses the address rather than accept and ignore it';

/** mcast_src_ip/mcast_dst_ip holding IPv6. */
export const IPV6_MCAST_REFUSED = 'is an IPv6 address: VRRPv3 over IPv6 advertises from the interface\'s link-local address to '
  + 'global_defs.vrrp_mcast_group6 (default ff02::12, RFC 5798); ulvs takes no per-instance IPv6 multicast source or group';

export type Family = 4 | 6;

/** 4, 6, or null when the text is neither (an optional /prefix is ignored). */
export function familyOf(text: string): Family | null {
  const ip = text.split('/')[0].trim();
  if (parseIpv4(ip) !== null) return 4;
  if (parseIpv6OrNull(ip) !== null) return 6;
  return null;
}

export function isLinkLocal(text: string): boolean {
  const bytes = parseIpv6OrNull(text.split('/')[0]);
  return bytes !== null && isLinkLocalIpv6(bytes);
}

/** `2001:2::100/64`; prefix 128 when omitted. */
export function parseIpv6Cidr(text: string): { ip: string; prefix: number } | null {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  if (parseIpv6OrNull(ip) === null) return null;
  if (slash < 0) return { ip, prefix: 128 };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > 128) return null;
  return { ip, prefix: Number(prefixText) };
}

export interface Ipv6Range {
  first: string;
  last: string;
}

/**
 * keepalived's IPv6 group member address forms (lib/utils.c inet_stor): `ae00::2-9` (the last
 * group runs to the hex end, at most ffff), `ae00::2-ae00::9`, `ae00::/120`. Returns a reason
 * string when malformed.
 */
export function parseIpv6Range(text: string): Ipv6Range | string {
  const dash = text.indexOf('-');
  const slash = text.indexOf('/');
  const firstText = dash >= 0 ? text.slice(0, dash) : slash >= 0 ? text.slice(0, slash) : text;
  const first = parseIpv6OrNull(firstText);
  if (first === null) return `"${firstText}" is not an IPv6 address`;
  const last = first.slice();
  if (dash >= 0) {
    const end = text.slice(dash + 1);
    const endAddress = parseIpv6OrNull(end);
    if (endAddress !== null) {
      last.set(endAddress);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(end)) return `range end "${end}" is not a hex group (0-ffff) or an IPv6 address`;
      const v = parseInt(end, 16);
      last[14] = v >>> 8;
      last[15] = v & 0xff;
    }
    if (Buffer.compare(last, first) < 0) return 'range ends before it starts';
  } else if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > 128) return `prefix /${prefixText} is not 0-128`;
    const prefix = Number(prefixText);
    for (let i = 0; i < 16; i++) {
      const bits = Math.max(0, Math.min(8, prefix - 8 * i));
      const mask = (0xff << (8 - bits)) & 0xff;
      first[i] &= mask;
      last[i] = first[i] | (~mask & 0xff);
    }
  }
  return { first: formatIpv6(first), last: formatIpv6(last) };
}
