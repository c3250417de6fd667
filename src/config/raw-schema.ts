/**
 * The YAML as written: keepalived.conf(5)'s keywords in snake_case (CONFIG.md), strict (unknown
 * keys are errors), with keepalived's defaults where they do not depend on another block.
 * Defaults that do (virtual server -> real server -> checker, global_defs -> vrrp instance) are
 * filled by normalize.ts; schema.ts joins the two.
 */
import { z } from 'zod';
import { isIpv4, isNetmask, parseCidr } from './ipv4.js';

export const LB_ALGOS = [
  'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos',
] as const;
export const LB_KINDS = ['DR', 'NAT', 'TUN'] as const;
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export const IO_BACKENDS = ['afxdp', 'tap', 'auto'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export const HTTP_PROTOCOLS = ['1.0', '1.0C', '1.1'] as const;
export const SCOPES = ['site', 'link', 'host', 'nowhere', 'global'] as const;

/** IPVS's default connection table timeouts (ipvsadm --set), seconds. */
export const DEFAULT_LVS_TIMEOUTS = { tcp: 900, tcpfin: 120, udp: 300 } as const;
/** IPVS weights are 32-bit signed but ipvsadm and keepalived cap them at 65535. */
export const MAX_WEIGHT = 65535;

// ---- scalars -------------------------------------------------------------------------------

const ipv4 = z.string().refine(isIpv4, { message: 'is not an IPv4 address (a.b.c.d)' });
const netmask = z.string().refine(isNetmask, { message: 'is not a netmask (like 255.255.255.0)' });
const port = z.number().int().min(1).max(65535);
/** 0 is allowed where IPVS means "the client's destination port" (group/fwmark services). */
const portOrZero = z.number().int().min(0).max(65535);
/** keepalived <TIMER>: seconds, fractions allowed. */
const seconds = z.number().min(0);
const count = z.number().int().min(0);
const name = z.string().min(1);
/** A command line run by ulvs (script path plus arguments, as keepalived's quoted strings). */
const command = z.string().min(1);
/** YAML turns `auth_pass: 1111` into a number; keepalived reads every word as text. */
const text = z.union([z.string(), z.number()]).transform(String);
const cidrText = z.string().refine((s) => parseCidr(s) !== null, {
  message: 'is not an IPv4 address with optional prefix (a.b.c.d/nn)',
});
const trackWeight = z.number().int().min(-253).max(253);

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
export type RawIpAddress = z.output<typeof ipAddressSchema>;

// ---- global_defs and dataplane -------------------------------------------------------------

export const lvsTimeoutsSchema = z.strictObject({
  tcp: z.number().int().min(1).optional(),
  tcpfin: z.number().int().min(1).optional(),
  udp: z.number().int().min(1).optional(),
});

/** keepalived's `lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`, plus auth_key (ulvs). */
export const lvsSyncDaemonSchema = z.strictObject({
  interface: name.describe('interface the sync messages go out of and come in on'),
  instance: name.describe('vrrp_instance whose MASTER sends; the others receive'),
  id: z.number().int().min(0).max(255).default(0).describe('syncid; a receiver with 0 accepts any'),
  port: port.default(8848),
  ttl: z.number().int().min(1).max(255).default(1),
  group: ipv4.default('224.0.0.81').describe('multicast group'),
  maxlen: z.number().int().min(64).max(65507).optional().describe("largest datagram; default the kernel's (MTU - 28)"),
  auth_key: z.string().min(8).optional().describe('ulvs: HMAC-SHA256 key; unsigned messages are then dropped (a kernel IPVS backup ignores signed ones)'),
});
export type RawLvsSyncDaemon = z.output<typeof lvsSyncDaemonSchema>;

export const globalDefsSchema = z.strictObject({
  router_id: text.optional().describe('default: the host name'),
  notification_email: z.array(z.string().min(1)).default([]),
  notification_email_from: z.string().min(1).optional(),
  smtp_server: z.string().min(1).optional(),
  smtp_helo_name: z.string().min(1).optional(),
  smtp_connect_timeout: seconds.default(30),
  smtp_alert: z.boolean().optional(),
  smtp_alert_vrrp: z.boolean().optional(),
  smtp_alert_checker: z.boolean().optional(),
  checker_log_all_failures: z.boolean().default(false),
  default_interface: name.optional(),
  vrrp_mcast_group4: ipv4.default('224.0.0.18'),
  vrrp_version: z.literal([2, 3]).default(2),
  vrrp_garp_master_delay: count.default(5),
  vrrp_garp_master_repeat: count.default(5),
  vrrp_garp_master_refresh: count.default(0),
  vrrp_garp_master_refresh_repeat: count.default(1),
  vrrp_garp_interval: seconds.default(0),
  vrrp_min_garp: z.boolean().default(false),
  vrrp_skip_check_adv_addr: z.boolean().default(false),
  vrrp_strict: z.boolean().default(false),
  script_user: name.optional(),
  enable_script_security: z.boolean().default(false),
  lvs_timeouts: lvsTimeoutsSchema.optional().describe('as keepalived; dataplane.lvs_timeouts is the ulvs place'),
  lvs_sync_daemon: lvsSyncDaemonSchema.optional().describe('connection sync between directors (IPVS sync protocol v1)'),
});

export const dataplaneSchema = z.strictObject({
  interface: name.default('eth0').describe('interface that receives VIP traffic'),
  inside: name.optional().describe('NAT: interface toward the real servers'),
  io: z.enum(IO_BACKENDS).default('auto').describe('afxdp if it can attach, else tap'),
  queues: z.number().int().min(1).max(64).default(1),
  conn_table_size: z.number().int().min(1024).max(1 << 27).default(1048576),
  lvs_timeouts: lvsTimeoutsSchema.optional(),
  expire_nodest_conn: z.boolean().default(false).describe('IPVS sysctl: drop flows of removed real servers'),
  sloppy_tcp: z.union([z.literal('auto'), z.boolean()]).default('auto')
    .describe('IPVS sysctl: schedule mid-flow TCP segments of unknown connections; auto = mh, sh, dh services only'),
  autoreload: z.boolean().default(false).describe('watch the config files and reload on change'),
  control_socket: z.string().min(1).optional().describe('default: abstract socket @ulvs/default'),
  log_level: z.enum(LOG_LEVELS).default('info'),
});

// ---- VRRP ----------------------------------------------------------------------------------

export const vrrpScriptSchema = z.strictObject({
  script: command,
  interval: seconds.default(1),
  timeout: seconds.optional().describe('default: interval'),
  weight: trackWeight.default(0),
  reverse: z.boolean().default(false),
  rise: z.number().int().min(1).default(1),
  fall: z.number().int().min(1).default(1),
  user: name.optional(),
  init_fail: z.boolean().default(false),
});

export const trackFileSchema = z.strictObject({
  file: z.string().min(1),
  weight: z.number().int().default(1),
  reverse: z.boolean().default(false),
  init_file: z.number().int().optional(),
});

const trackedByName = (weight: z.ZodNumber) =>
  z.union([
    name,
    z.strictObject({ name, weight: weight.optional(), reverse: z.boolean().default(false) }),
  ]);
const trackInterface = trackedByName(trackWeight);
const trackScript = trackedByName(trackWeight);
const trackFileRef = trackedByName(z.number().int().min(-254).max(254));

export const authenticationSchema = z.strictObject({
  auth_type: z.enum(['PASS', 'AH']),
  auth_pass: text,
});

export const vrrpInstanceSchema = z.strictObject({
  name,
  state: z.enum(['MASTER', 'BACKUP']).default('BACKUP'),
  interface: name,
  virtual_router_id: z.number().int().min(1).max(255),
  priority: z.number().int().min(1).max(255).default(100),
  advert_int: z.number().min(0.01).max(255).default(1),
  version: z.literal([2, 3]).optional().describe('default: global_defs.vrrp_version'),
  nopreempt: z.boolean().default(false),
  preempt_delay: z.number().min(0).max(1000).default(0),
  authentication: authenticationSchema.optional(),
  mcast_src_ip: ipv4.optional(),
  mcast_dst_ip: ipv4.optional(),
  unicast_src_ip: ipv4.nullable().optional(),
  unicast_peer: z.array(ipv4).default([]),
  virtual_ipaddress: z.array(ipAddressSchema).default([]),
  virtual_ipaddress_excluded: z.array(ipAddressSchema).default([]),
  track_interface: z.array(trackInterface).default([]),
  track_script: z.array(trackScript).default([]),
  track_file: z.array(trackFileRef).default([]),
  dont_track_primary: z.boolean().default(false),
  garp_master_delay: count.optional(),
  garp_master_repeat: count.optional(),
  garp_master_refresh: count.optional(),
  garp_master_refresh_repeat: count.optional(),
  notify_master: command.optional(),
  notify_backup: command.optional(),
  notify_fault: command.optional(),
  notify_stop: command.optional(),
  notify: command.optional(),
  smtp_alert: z.boolean().optional(),
});

export const vrrpSyncGroupSchema = z.strictObject({
  name,
  group: z.array(name).min(1),
  track_interface: z.array(trackInterface).default([]),
  track_script: z.array(trackScript).default([]),
  track_file: z.array(trackFileRef).default([]),
  notify_master: command.optional(),
  notify_backup: command.optional(),
  notify_fault: command.optional(),
  notify_stop: command.optional(),
  notify: command.optional(),
  smtp_alert: z.boolean().optional(),
});

// ---- LVS -----------------------------------------------------------------------------------

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

/** status_code entries: 200, "200-299", or keepalived's space-separated list "200-299 301". */
const STATUS_RANGE = /^([1-5]\d\d)(?:-([1-5]\d\d))?$/;
export interface StatusRange { from: number; to: number }
const statusCode = z.union([z.number().int(), z.string()]).transform((value, ctx) => {
  const ranges: StatusRange[] = [];
  for (const word of String(value).trim().split(/[\s,]+/)) {
    const m = STATUS_RANGE.exec(word);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || to < from) {
      ctx.addIssue({ code: 'custom', message: `"${word}" is not an HTTP status code or range (100-599, like 200 or 200-299)` });
      return z.NEVER;
    }
    ranges.push({ from, to });
  }
  return ranges;
});

export const urlSchema = z.strictObject({
  path: z.string().min(1).refine((p) => p.startsWith('/'), { message: 'must start with "/"' }),
  digest: z.string().regex(/^[0-9a-fA-F]{32}$/, { message: 'must be 32 hex characters (an MD5 from ulvs genhash)' })
    .transform((d) => d.toLowerCase()).optional(),
  status_code: z.union([statusCode, z.array(statusCode).transform((l) => l.flat())]).optional()
    .describe('200, "200-299", or a list; default 200-299'),
  regex: z.string().min(1).refine(isValidRegex, { message: 'is not a valid regular expression' }).optional(),
  regex_no_match: z.boolean().default(false),
  virtualhost: z.string().min(1).optional(),
});

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Options keepalived gives every checker (and, as defaults, real and virtual servers). */
const timingKeys = {
  connect_timeout: seconds.optional(),
  retry: count.optional(),
  nb_get_retry: count.optional().describe('old name of retry'),
  delay_before_retry: seconds.optional(),
  warmup: seconds.optional(),
  delay_loop: seconds.optional(),
  alpha: z.boolean().optional(),
  rise: z.number().int().min(1).optional().describe('ulvs: consecutive successes to come up'),
  fall: z.number().int().min(1).optional().describe('ulvs: consecutive failures to go down'),
  log_all_failures: z.boolean().optional(),
};
const connectionKeys = {
  connect_ip: ipv4.optional(),
  connect_port: port.optional(),
  bindto: ipv4.optional(),
  bind_port: port.optional(),
  bind_if: name.optional(),
};

/** YAML reads `http_protocol: 1.0` as the number 1. */
const httpProtocol = z.union([z.enum(HTTP_PROTOCOLS), z.literal([1, 1.1])])
  .transform((v) => (v === 1 ? '1.0' : String(v)) as (typeof HTTP_PROTOCOLS)[number]);

const HEX_STRING = /^[0-9a-fA-FxX\s]*$/;

export const checkerSchemas = {
  tcp_check: z.strictObject({ ...connectionKeys, ...timingKeys }),
  http_get: z.strictObject({
    ...connectionKeys, ...timingKeys,
    url: z.array(urlSchema).min(1),
    http_protocol: httpProtocol.optional(),
    virtualhost: z.string().min(1).optional(),
    fast_recovery: z.boolean().default(false),
  }),
  ssl_get: z.strictObject({
    ...connectionKeys, ...timingKeys,
    url: z.array(urlSchema).min(1),
    http_protocol: httpProtocol.optional(),
    virtualhost: z.string().min(1).optional(),
    fast_recovery: z.boolean().default(false),
    enable_sni: z.boolean().default(false),
  }),
  smtp_check: z.strictObject({ ...connectionKeys, ...timingKeys, helo_name: z.string().min(1).optional() }),
  dns_check: z.strictObject({
    ...connectionKeys, ...timingKeys,
    type: z.enum(DNS_TYPES).default('SOA'),
    name: z.string().min(1).default('.'),
  }),
  udp_check: z.strictObject({
    ...connectionKeys, ...timingKeys,
    payload: z.string().regex(HEX_STRING, { message: 'must be hex digits' }).optional(),
    require_reply: z.union([z.boolean(), z.string().regex(HEX_STRING, { message: 'must be hex digits (x for any)' })]).default(false),
    min_reply_length: count.default(0),
    max_reply_length: count.default(255),
  }),
  ping_check: z.strictObject({ ...connectionKeys, ...timingKeys }),
  misc_check: z.strictObject({
    ...timingKeys,
    misc_path: command.describe('script and arguments; exit 0 up, 1 down'),
    misc_timeout: seconds.optional().describe('default: delay_loop'),
    misc_dynamic: z.boolean().default(false).describe('exit 2-255 sets weight to exit-2'),
    user: name.optional(),
  }),
  file_check: z.strictObject({
    ...timingKeys,
    file: z.string().min(1).optional().describe('file whose number sets the weight'),
    track_file: name.optional().describe('or the name of a track_files entry'),
    weight: z.number().int().default(1),
    reverse: z.boolean().default(false),
    dynamic: z.boolean().default(false),
  }),
} as const;

export type CheckerKind = keyof typeof checkerSchemas;
export const CHECKER_KINDS = Object.keys(checkerSchemas) as CheckerKind[];

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
  ip: ipv4,
  port: portOrZero.optional().describe('default: the virtual server port'),
  weight: z.number().int().min(0).max(MAX_WEIGHT).default(1),
  ...inheritedKeys,
  uthreshold: count.default(0).describe('0 = no upper connection limit'),
  lthreshold: count.default(0),
  notify_up: command.optional(),
  notify_down: command.optional(),
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
  ip: ipv4,
  port: portOrZero.optional().describe('default: the virtual server port'),
});

export const virtualServerSchema = z.strictObject({
  vip: ipv4.optional().describe('one of vip (+ port), group'),
  port: portOrZero.optional(),
  group: name.optional().describe('a virtual_server_groups name'),
  fwmark: z.number().int().min(1).optional().describe('not supported: use a virtual_server_groups entry'),
  protocol: z.enum(PROTOCOLS).default('TCP'),
  lb_algo: z.enum(LB_ALGOS).optional().describe('scheduler; default wlc'),
  lvs_sched: z.enum(LB_ALGOS).optional().describe('keepalived synonym of lb_algo'),
  lb_kind: z.enum(LB_KINDS).optional().describe('forwarding; default NAT as keepalived'),
  lvs_method: z.enum(LB_KINDS).optional().describe('keepalived synonym of lb_kind'),
  sh_port: z.boolean().default(false),
  sh_fallback: z.boolean().default(false),
  mh_port: z.boolean().default(false),
  mh_fallback: z.boolean().default(false),
  ops: z.boolean().default(false).describe('one-packet scheduling (UDP)'),
  persistence_timeout: count.default(0).describe('seconds; 0 = not persistent'),
  persistence_granularity: netmask.default('255.255.255.255'),
  ...inheritedKeys,
  sorry_server: sorryServerSchema.optional(),
  sorry_server_inhibit: z.boolean().default(false),
  quorum: count.default(1),
  hysteresis: count.default(0),
  quorum_up: command.optional(),
  quorum_down: command.optional(),
  omega: z.boolean().default(false),
  ha_suspend: z.boolean().default(false),
  real_servers: z.array(realServerSchema).default([]),
});

// ---- the whole file ------------------------------------------------------------------------

export const rawConfigSchema = z.strictObject({
  global_defs: globalDefsSchema.prefault({}),
  dataplane: dataplaneSchema.prefault({}),
  static_ipaddress: z.array(ipAddressSchema).default([]),
  vrrp_scripts: z.record(z.string(), vrrpScriptSchema).default({}),
  track_files: z.record(z.string(), trackFileSchema).default({}),
  vrrp_instances: z.array(vrrpInstanceSchema).default([]),
  vrrp_sync_groups: z.array(vrrpSyncGroupSchema).default([]),
  virtual_server_groups: z.array(virtualServerGroupSchema).default([]),
  virtual_servers: z.array(virtualServerSchema).default([]),
  include: z.array(z.string().min(1)).optional().describe('globs of more files, relative to this one'),
});

export type RawConfig = z.output<typeof rawConfigSchema>;
export type RawVirtualServer = z.output<typeof virtualServerSchema>;
export type RawRealServer = z.output<typeof realServerSchema>;
export type RawVrrpInstance = z.output<typeof vrrpInstanceSchema>;
export type RawVrrpSyncGroup = z.output<typeof vrrpSyncGroupSchema>;
