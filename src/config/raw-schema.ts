/**
 * The YAML as written: keepalived.conf(5)'s keywords in snake_case (CONFIG.md), strict (unknown
 * keys are errors), with keepalived's defaults where they do not depend on another block.
 * Defaults that do (virtual server -> real server -> checker, global_defs -> vrrp instance) are
 * filled by normalize.ts; schema.ts joins the two.
 */
import { z } from 'zod';
import { localAddressGroupSchema } from './raw-schema-fnat.js';
import { ipAddressSchema, ipv4, ipv6Multicast, count, name, port, seconds, staticAddressSchema, text } from './raw-schema-scalars.js';
import { trackFileSchema, vrrpInstanceSchema, vrrpScriptSchema, vrrpSyncGroupSchema } from './raw-schema-vrrp.js';
import { realServerSchema, virtualServerGroupSchema, virtualServerSchema } from './raw-schema-services.js';
import { bgpAnnounceSchema } from './raw-schema-bgp.js';

// Every block's exports, so importers need only this module.
export { SCOPES, ipAddressSchema, type RawIpAddress } from './raw-schema-scalars.js';
export {
  authenticationSchema, trackFileSchema, vrrpInstanceSchema, vrrpScriptSchema, vrrpSyncGroupSchema,
} from './raw-schema-vrrp.js';
export {
  CHECKER_KINDS, DNS_TYPES, HTTP_PROTOCOLS, checkerSchemas, urlSchema, type CheckerKind, type StatusRange,
} from './raw-schema-checkers.js';
export {
  LB_ALGOS, LB_KINDS, MAX_WEIGHT, PROTOCOLS, parseGroupMember, realServerSchema, sorryServerSchema,
  virtualServerGroupSchema, virtualServerSchema, type GroupMember,
} from './raw-schema-services.js';

export const IO_BACKENDS = ['afxdp', 'tap', 'auto'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** IPVS's default connection table timeouts (ipvsadm --set), seconds. */
export const DEFAULT_LVS_TIMEOUTS = { tcp: 900, tcpfin: 120, udp: 300 } as const;

// ---- global_defs and dataplane -------------------------------------------------------------

export const lvsTimeoutsSchema = z.strictObject({
  tcp: z.number().int().min(1).optional(),
  tcpfin: z.number().int().min(1).optional(),
  udp: z.number().int().min(1).optional(),
});

/** keepalived's `lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`, plus auth_key and mode (ulvs). */
export const lvsSyncDaemonSchema = z.strictObject({
  interface: name.describe('interface the sync messages go out of and come in on'),
  instance: name.optional().describe('vrrp_instance whose MASTER sends; the others receive (mode vrrp)'),
  mode: z.enum(['vrrp', 'all']).default('vrrp')
    .describe('ulvs: vrrp = IPVS/keepalived master-to-backup, following instance; all = every director sends and receives (active-active behind ECMP), no instance'),
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
  no_email_faults: z.boolean().default(false).describe('no mail for FAULT transitions of instances and sync groups'),
  checker_log_all_failures: z.boolean().default(false),
  default_interface: name.optional(),
  vrrp_mcast_group4: ipv4.default('224.0.0.18'),
  vrrp_mcast_group6: ipv6Multicast.default('ff02::12').describe('the group IPv6 instances advertise to without unicast_peer (RFC 5798: ff02::12)'),
  vrrp_version: z.literal([2, 3]).default(2),
  vrrp_garp_master_delay: count.optional().describe('default 5; 0 with vrrp_min_garp'),
  vrrp_garp_master_repeat: count.optional().describe('default 5; 1 with vrrp_min_garp'),
  vrrp_garp_master_refresh: count.optional().describe('default 0 (no refresh)'),
  vrrp_garp_master_refresh_repeat: count.optional().describe('default 1; 0 with vrrp_min_garp'),
  vrrp_garp_interval: seconds.default(0).describe('seconds between two gratuitous ARPs on one interface'),
  vrrp_gna_interval: seconds.default(0).describe('seconds between two unsolicited neighbour advertisements (IPv6 VIPs) on one interface'),
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
  inside: name.optional().describe('NAT: interface toward the real servers; omitted or auto: the one the kernel routes them through'),
  io: z.enum(IO_BACKENDS).default('auto').describe('afxdp if it can attach, else tap'),
  queues: z.number().int().min(1).max(64).optional()
    .describe('dataplane workers, one per RX queue; default: the interface\'s RX queue count (AF_XDP), 1 (TAP); AF_XDP refuses a count that differs from the interface\'s'),
  conn_table_size: z.number().int().min(1024).max(1 << 27).default(1048576),
  lvs_timeouts: lvsTimeoutsSchema.optional(),
  expire_nodest_conn: z.boolean().default(false).describe('IPVS sysctl: drop flows of removed real servers'),
  sloppy_tcp: z.union([z.literal('auto'), z.boolean()]).default('auto')
    .describe('IPVS sysctl: schedule mid-flow TCP segments of unknown connections; auto = mh, sh, dh services only'),
  busy_poll: z.union([z.boolean(), z.literal('adaptive')]).default(false)
    .describe('false: workers sleep in poll() when idle; true: they spin (a core each, AF_XDP busy-poll socket options); adaptive: spin busy_poll_spin_us after the last packet, then sleep'),
  busy_poll_spin_us: z.number().int().min(1).max(1_000_000).optional()
    .describe('adaptive only: microseconds a worker spins after its last packet before sleeping (default 200)'),
  autoreload: z.boolean().default(false).describe('watch the config files and reload on change'),
  control_socket: z.string().min(1).optional().describe('default: abstract socket @ulvs/default'),
  log_level: z.enum(LOG_LEVELS).default('info'),
});
// ---- operations: metrics endpoint and control socket (ulvs) --------------------------------

/** `HOST:PORT` or `[V6]:PORT`; whether HOST is loopback is a cross-check (check-operations.ts). */
export const listenSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/, {
  message: 'is not an address to listen on (IP:PORT, [IPv6]:PORT)',
}).refine((s) => { const p = Number(s.slice(s.lastIndexOf(':') + 1)); return p >= 1 && p <= 65535; }, { message: 'has a port outside 1..65535' });

export const metricsSchema = z.strictObject({
  listen: listenSchema.default('127.0.0.1:9650').describe('Prometheus /metrics; loopback unless allow_remote'),
  allow_remote: z.boolean().default(false).describe('allow a listen address that is not loopback (metrics reveal the table)'),
});

export const controlSchema = z.strictObject({
  read_group: name.optional().describe('group (in /etc/group) whose members may list, conns, stats, status; changes need root or CAP_NET_ADMIN'),
});

// ---- the whole file ------------------------------------------------------------------------

export const rawConfigSchema = z.strictObject({
  global_defs: globalDefsSchema.prefault({}),
  dataplane: dataplaneSchema.prefault({}),
  static_ipaddress: z.array(staticAddressSchema).default([]),
  vrrp_scripts: z.record(z.string(), vrrpScriptSchema).default({}),
  track_files: z.record(z.string(), trackFileSchema).default({}),
  vrrp_instances: z.array(vrrpInstanceSchema).default([]),
  vrrp_sync_groups: z.array(vrrpSyncGroupSchema).default([]),
  virtual_server_groups: z.array(virtualServerGroupSchema).default([]),
  virtual_servers: z.array(virtualServerSchema).default([]),
  metrics: metricsSchema.optional().describe('ulvs: Prometheus metrics endpoint; off when absent'),
  control: controlSchema.prefault({}),
  bgp_announce: bgpAnnounceSchema.optional().describe('ulvs: health-gated VIP announcements through a BGP daemon (bird2); off when absent'),
  include: z.array(z.string().min(1)).optional().describe('globs of more files, relative to this one'),
  local_address_groups: z.array(localAddressGroupSchema).default([]).describe('DPVS Full NAT: local addresses for lb_kind FNAT services (laddr_group_name)'),
});

export type RawConfig = z.output<typeof rawConfigSchema>;
export type RawVirtualServer = z.output<typeof virtualServerSchema>;
export type RawRealServer = z.output<typeof realServerSchema>;
export type RawVrrpInstance = z.output<typeof vrrpInstanceSchema>;
export type RawVrrpSyncGroup = z.output<typeof vrrpSyncGroupSchema>;
