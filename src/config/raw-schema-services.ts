// The raw (as written) LVS blocks: virtual_server_groups, virtual_servers and their real servers.
import { z } from 'zod';
import { isIpv4 } from './ipv4.js';
import { familyOf, parseIpv6Range } from './ipv6.js';
import { parseIpv6 } from '../packet/addr6.js';
import { checkerSchemas } from './raw-schema-checkers.js';
import { command, notifyScript, count, name, netmask, portOrZero, seconds } from './raw-schema-scalars.js';

export const LB_ALGOS = [
  'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos',
] as const;
export const LB_KINDS = ['DR', 'NAT', 'TUN', 'FNAT'] as const;
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
/** keepalived accepts SCTP; ulvs refuses it at load rather than accept and skip the service. */
export const SCTP_REFUSED = 'SCTP is not supported by ulvs (it forwards TCP and UDP only; this kernel has no SCTP sockets to check an SCTP service either)';
/** IPVS weights are 32-bit signed but ipvsadm and keepalived cap them at 65535. */
export const MAX_WEIGHT = 65535;

/**
 * A group member as keepalived writes it: `IP [PORT]`, `IP-LASTOCTET [PORT]`,
 * `IP-IP [PORT]` or `IP/PREFIX [PORT]`. No port means every port (persistent services).
 */
const GROUP_MEMBER = /^(\d+\.\d+\.\d+\.\d+)(?:-(\d+(?:\.\d+\.\d+\.\d+)?)|\/(\d+))?(?:\s+(\d+))?$/;

export interface GroupMember {
  /** the member as written */
  text: string;
  first: string;
  last: string;
  /** 0 = every port */
  port: number;
}

export function parseGroupMember(member: string): GroupMember | string {
  const trimmed = member.trim().replace(/\s+/g, ' ');
  if (/^fwmark\b/.test(trimmed)) {
    return 'fwmark members are not supported: ulvs bypasses netfilter, list the VIP and ports instead';
  }
  const v6 = /^([0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:./-]*)(?:\s+(\d+))?$/.exec(trimmed);
  if (v6) {
    // keepalived's IPv6 forms (ae00::2-9, ae00::2-ae00::9, ae00::/120).
    const range = parseIpv6Range(v6[1]);
    if (typeof range === 'string') return range;
    const size = ipv6Value(range.last) - ipv6Value(range.first) + 1n;
    if (size > BigInt(MAX_IPV6_GROUP_RANGE)) {
      return `an IPv6 range of ${size} addresses: ulvs steers each address of a group (at most ${MAX_IPV6_GROUP_RANGE} per member; list a smaller range)`;
    }
    const portValue = v6[2] === undefined ? 0 : Number(v6[2]);
    if (portValue > 65535) return `port ${v6[2]} is out of range`;
    return { text: member, first: range.first, last: range.last, port: portValue };
  }
  const m = GROUP_MEMBER.exec(trimmed);
  if (!m) return 'is not "IP [PORT]", "IP-LAST [PORT]" or "IP/PREFIX [PORT]"';
  const [, first, rangeEnd, prefixText, portText] = m;
  const firstValue = ipValue(first);
  if (firstValue === null) return `"${first}" is not an IPv4 address`;
  let lastValue = firstValue;
  let start = firstValue;
  if (rangeEnd !== undefined) {
    if (rangeEnd.includes('.')) {
      const v = ipValue(rangeEnd);
      if (v === null) return `"${rangeEnd}" is not an IPv4 address`;
      lastValue = v;
    } else {
      const octet = Number(rangeEnd);
      if (octet > 255) return `range end ${rangeEnd} is not an octet`;
      lastValue = firstValue - (firstValue % 256) + octet;
    }
    if (lastValue < firstValue) return 'range ends before it starts';
  } else if (prefixText !== undefined) {
    const prefix = Number(prefixText);
    if (prefix > 32) return `prefix /${prefixText} is longer than 32`;
    const size = 2 ** (32 - prefix);
    start = firstValue - (firstValue % size);
    lastValue = start + size - 1;
  }
  const portValue = portText === undefined ? 0 : Number(portText);
  if (portValue > 65535) return `port ${portText} is out of range`;
  return { text: member, first: formatIp(start), last: formatIp(lastValue), port: portValue };
}

/** An IPv6 group member expands to one steering key per address: bounded as the XDP services map. */
export const MAX_IPV6_GROUP_RANGE = 4096;

/** An IPv6 address as a 128-bit integer (control path: group ranges). */
export function ipv6Value(text: string): bigint {
  return parseIpv6(text).reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

function ipValue(s: string): number | null {
  if (!isIpv4(s)) return null;
  return s.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}
function formatIp(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

const groupMember = z.string().transform((s, ctx) => {
  const parsed = parseGroupMember(s);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

export const virtualServerGroupSchema = z.strictObject({
  name,
  members: z.array(groupMember).min(1),
});
/**
 * A virtual server's, real server's or sorry server's address: IPv4, or IPv6 (issue 16; the
 * family rules and what IPv6 does not forward yet are cross-checks: check-families.ts,
 * check-ipv6-services.ts).
 */
const serviceIp = z.string().refine((s) => familyOf(s) !== null && !s.includes('/'), { message: 'is not an IPv4 or IPv6 address' });

/**
 * persistence_granularity: a netmask for an IPv4 service, a prefix length (1-128) for an IPv6
 * one, as keepalived and ipvsadm -M take them; kept as text (a number becomes its digits).
 */
const granularity = z.union([netmask, z.number().int().min(1).max(128).transform(String)]);

/** Keys a real server and a virtual server pass down to checkers. */
const inheritedKeys = {
  connect_timeout: seconds.optional(),
  retry: count.optional(),
  nb_get_retry: count.optional(),
  delay_before_retry: seconds.optional(),
  warmup: seconds.optional(),
  delay_loop: seconds.optional(),
  alpha: z.boolean().optional(),
  inhibit_on_failure: z.boolean().optional(),
  virtualhost: z.string().min(1).optional(),
  smtp_alert: z.boolean().optional(),
};

export const realServerSchema = z.strictObject({
  ip: serviceIp,
  port: portOrZero.optional().describe('default: the virtual server port'),
  weight: z.number().int().min(0).max(MAX_WEIGHT).default(1),
  ...inheritedKeys,
  uthreshold: count.default(0).describe('0 = no upper connection limit'),
  lthreshold: count.default(0),
  notify_up: notifyScript.optional(),
  notify_down: notifyScript.optional(),
  tun_type: z.enum(['ipip', 'gue', 'gre']).optional().describe('lb_kind TUN: the encapsulation (default ipip; see check-tunnels.ts)'),
  tun_port: portOrZero.optional().describe('tun_type gue: the UDP port the real server receives GUE on (required)'),
  tun_flags: z.enum(['nocsum', 'csum', 'remcsum']).optional().describe('gue: outer UDP checksum off (nocsum, remcsum) or on (csum); gre: csum adds the GRE checksum'),
  rise: z.number().int().min(1).optional(),
  fall: z.number().int().min(1).optional(),
  tcp_check: checkerSchemas.tcp_check.optional(),
  http_get: checkerSchemas.http_get.optional(),
  ssl_get: checkerSchemas.ssl_get.optional(),
  smtp_check: checkerSchemas.smtp_check.optional(),
  dns_check: checkerSchemas.dns_check.optional(),
  udp_check: checkerSchemas.udp_check.optional(),
  ping_check: checkerSchemas.ping_check.optional(),
  misc_check: checkerSchemas.misc_check.optional(),
  file_check: checkerSchemas.file_check.optional(),
});

export const sorryServerSchema = z.strictObject({
  ip: serviceIp,
  port: portOrZero.optional().describe('default: the virtual server port'),
});

export const virtualServerSchema = z.strictObject({
  vip: serviceIp.optional().describe('one of vip (+ port), group; IPv4 or IPv6'),
  port: portOrZero.optional(),
  group: name.optional().describe('a virtual_server_groups name'),
  fwmark: z.number().int().min(1).optional().describe('not supported: use a virtual_server_groups entry'),
  protocol: z.enum(PROTOCOLS).refine((p) => p !== 'SCTP', { message: SCTP_REFUSED }).default('TCP'),
  lb_algo: z.enum(LB_ALGOS).optional().describe('scheduler; default wlc'),
  lvs_sched: z.enum(LB_ALGOS).optional().describe('keepalived synonym of lb_algo'),
  lb_kind: z.enum(LB_KINDS).optional().describe('forwarding; default NAT as keepalived; FNAT = DPVS\'s Full NAT (needs laddr_group_name)'),
  lvs_method: z.enum(LB_KINDS).optional().describe('keepalived synonym of lb_kind'),
  laddr_group_name: name.optional().describe('lb_kind FNAT: the local_address_groups entry whose addresses are the source toward the real servers'),
  sh_port: z.boolean().default(false),
  sh_fallback: z.boolean().default(false),
  mh_port: z.boolean().default(false),
  mh_fallback: z.boolean().default(false),
  ops: z.boolean().default(false).describe('one-packet scheduling (UDP)'),
  persistence_timeout: count.default(0).describe('seconds; 0 = not persistent'),
  persistence_granularity: granularity.default('255.255.255.255').describe('netmask (IPv4) or prefix length 1-128 (IPv6), as ipvsadm -M'),
  ...inheritedKeys,
  sorry_server: sorryServerSchema.optional(),
  sorry_server_inhibit: z.boolean().default(false),
  quorum: count.default(1),
  hysteresis: count.default(0),
  quorum_up: notifyScript.optional(),
  quorum_down: notifyScript.optional(),
  omega: z.boolean().default(false),
  ha_suspend: z.boolean().default(false),
  real_servers: z.array(realServerSchema).default([]),
});

