// Building blocks the raw-schema*.ts blocks share: keepalived's scalar types and IP addresses.
import { z } from 'zod';
import { isIpv4, isNetmask, parseCidr } from './ipv4.js';
import { IPV6_REFUSED, familyOf, parseIpv6Cidr } from './ipv6.js';

export const SCOPES = ['site', 'link', 'host', 'nowhere', 'global'] as const;

// ---- scalars -------------------------------------------------------------------------------

/** An IPv6 address is well-formed but refused with its reason (IPV6_REFUSED), not called malformed. */
const ipv6Aware = (plain: string, refused = IPV6_REFUSED) => (value: string): string => (familyOf(value) === 6 ? refused : plain);
/** IPv4 only, with the field's own reason for refusing an IPv6 address. */
export const ipv4Only = (ipv6Reason: string) => z.string().refine(isIpv4, {
  error: (issue) => ipv6Aware('is not an IPv4 address (a.b.c.d)', ipv6Reason)(String(issue.input)),
});
export const ipv4 = ipv4Only(IPV6_REFUSED);
/** An IPv6 multicast group (ff00::/8), as keepalived's vrrp_mcast_group6. */
export const ipv6Multicast = z.string().refine((s) => familyOf(s) === 6 && !s.includes('/') && /^ff[0-9a-f]{2}:/i.test(s.trim()), {
  message: 'is not an IPv6 multicast address (ff00::/8, like ff02::12)',
});
/** Either family, where the part acting on it handles both (health checks' connect_ip, bindto). */
export const ipAddress = z.string().refine((s) => familyOf(s) !== null && !s.includes('/'), { message: 'is not an IPv4 (a.b.c.d) or IPv6 address' });
export const netmask = z.string().refine(isNetmask, { message: 'is not a netmask (like 255.255.255.0)' });
export const port = z.number().int().min(1).max(65535);
/** 0 is allowed where IPVS means "the client's destination port" (group/fwmark services). */
export const portOrZero = z.number().int().min(0).max(65535);
/** keepalived <TIMER>: seconds, fractions allowed. */
export const seconds = z.number().min(0);
export const count = z.number().int().min(0);
export const name = z.string().min(1);
/** A command line run by ulvs (script path plus arguments, as keepalived's quoted strings). */
export const command = z.string().min(1);
/**
 * A notify script: its command line, or `{ script, user }` where it runs as its own user
 * (keepalived's `notify_master "/path/script" USER [GROUP]`); user is "USER [GROUP]".
 */
export const notifyScript = z.union([command, z.strictObject({ script: command, user: z.string().min(1) })]);
/** YAML turns `auth_pass: 1111` into a number; keepalived reads every word as text. */
export const text = z.union([z.string(), z.number()]).transform(String);
export const cidrText = z.string().refine((s) => parseCidr(s) !== null, {
  error: (issue) => ipv6Aware('is not an IPv4 address with optional prefix (a.b.c.d/nn)')(String(issue.input)),
});
export const trackWeight = z.number().int().min(-253).max(253);

// ---- addresses -----------------------------------------------------------------------------

const ipAddressObject = z.strictObject({
  address: cidrText.describe('a.b.c.d[/prefix]; /32 when omitted'),
  dev: name.optional().describe('interface; default: dataplane.interface'),
  label: name.optional().describe('alias label, e.g. eth0:0'),
  brd: ipv4.optional(),
  scope: z.enum(SCOPES).optional(),
  peer: ipv4.optional(),
});
/** `198.18.0.100/32` alone is shorthand for `{ address: 198.18.0.100/32 }`. */
export const ipAddressSchema = z.union([cidrText, ipAddressObject]);

/** Either family with an optional prefix, for addresses ulvs only holds (static_ipaddress). */
const cidrAnyText = z.string().refine((s) => parseCidr(s) !== null || parseIpv6Cidr(s) !== null, {
  message: 'is not an IPv4 (a.b.c.d[/nn]) or IPv6 (2001:2::1[/nnn]) address',
});
/**
 * static_ipaddress: held on its dev whatever the dataplane forwards, so IPv6 is taken (added
 * nodad, as a /128 when no prefix is given); brd and peer stay IPv4 (keepalived's too).
 */
export const staticAddressSchema = z.union([cidrAnyText, ipAddressObject.extend({
  address: cidrAnyText.describe('a.b.c.d[/prefix] (/32 when omitted) or IPv6[/prefix] (/128)'),
})]);
export type RawIpAddress = z.output<typeof ipAddressSchema>;

/** VRRP VIPs: either family, as static_ipaddress (IPv6 over VRRPv3, added nodad). */
export const vipAddressSchema = staticAddressSchema;
