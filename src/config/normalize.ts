/**
 * Fills the defaults that depend on another block, so consumers never chase inheritance:
 * global_defs -> vrrp instances (version, garp timers), dataplane.interface -> address dev,
 * virtual server -> real server -> checker (timers, retry, virtualhost, inhibit_on_failure),
 * keepalived's synonyms (lvs_sched, lvs_method, nb_get_retry) -> one name each.
 * Pure: runs as the zod schema's final transform, after validation succeeded.
 */
import { strictChanges } from './check-vrrp-strict.js';
import { parseCidr } from './ipv4.js';
import { parseIpv6Cidr } from './ipv6.js';
import {
  DEFAULT_LVS_TIMEOUTS,
  type CheckerKind,
  type RawConfig,
  type RawIpAddress,
  type RawRealServer,
  type RawVirtualServer,
  type RawVrrpInstance,
  CHECKER_KINDS,
} from './raw-schema.js';

/** keepalived's checker timing defaults (keepalived.conf(5), "Virtual server(s)"). */
export const CHECKER_DEFAULTS = {
  delay_loop: 60,
  connect_timeout: 5,
  retry: 1,
  dnsRetry: 3,
  miscRetry: 0,
  httpDelayBeforeRetry: 3,
  otherDelayBeforeRetry: 1,
} as const;

export interface IpAddress {
  /** `a.b.c.d/nn`, prefix always present */
  address: string;
  ip: string;
  prefix: number;
  dev: string;
  label?: string;
  brd?: string;
  scope?: string;
  peer?: string;
}

function normalizeAddress(entry: RawIpAddress, defaultDev: string): IpAddress {
  const raw = typeof entry === 'string' ? { address: entry } : entry;
  // Validated by the schema already (IPv6 only where it takes IPv6: static_ipaddress).
  const cidr = parseCidr(raw.address) ?? parseIpv6Cidr(raw.address)!;
  return { ...raw, address: `${cidr.ip}/${cidr.prefix}`, ip: cidr.ip, prefix: cidr.prefix, dev: raw.dev ?? defaultDev };
}

/**
 * An address listed twice in one instance is kept once, at its first place (keepalived warns
 * and drops the repeat; the cross-check says so as a warning).
 */
function firstOfEachAddress(vips: IpAddress[], excluded: IpAddress[]): { virtual_ipaddress: IpAddress[]; virtual_ipaddress_excluded: IpAddress[] } {
  const seen = new Set<string>();
  const keep = (a: IpAddress): boolean => !seen.has(a.ip) && (seen.add(a.ip), true);
  return { virtual_ipaddress: vips.filter(keep), virtual_ipaddress_excluded: excluded.filter(keep) };
}

export interface Tracked {
  name: string;
  /** undefined: use the tracked object's own weight (keepalived's rule for track_script/track_file) */
  weight?: number;
  reverse: boolean;
}

function normalizeTracked(list: (string | { name: string; weight?: number; reverse: boolean })[]): Tracked[] {
  return list.map((t) => (typeof t === 'string' ? { name: t, reverse: false } : t));
}

type RawChecker<K extends CheckerKind> = NonNullable<RawRealServer[K]>;

/** The effective timing of a checker after inheritance; every field is set. */
export interface CheckerTiming {
  delay_loop: number;
  connect_timeout: number;
  retry: number;
  delay_before_retry: number;
  warmup: number;
  alpha: boolean;
  rise: number;
  fall: number;
  log_all_failures: boolean;
}

export type CheckerConfig = {
  [K in CheckerKind]: Omit<RawChecker<K>, keyof CheckerTiming | 'nb_get_retry'> & CheckerTiming & { checker: K };
}[CheckerKind];

function firstChecker(rs: RawRealServer): { kind: CheckerKind; block: RawChecker<CheckerKind> } | null {
  for (const kind of CHECKER_KINDS) {
    const block = rs[kind];
    if (block) return { kind, block };
  }
  return null;
}

function normalizeChecker(vs: RawVirtualServer, rs: RawRealServer, globalLogAll: boolean): CheckerConfig | null {
  const found = firstChecker(rs);
  if (!found) return null;
  const { kind, block } = found;
  const pick = <T>(key: 'connect_timeout' | 'delay_before_retry' | 'warmup' | 'delay_loop' | 'alpha'): T | undefined =>
    (block[key] ?? rs[key] ?? vs[key]) as T | undefined;
  const delayLoop = pick<number>('delay_loop') ?? CHECKER_DEFAULTS.delay_loop;
  const defaultRetry = kind === 'dns_check' ? CHECKER_DEFAULTS.dnsRetry
    : kind === 'misc_check' ? CHECKER_DEFAULTS.miscRetry : CHECKER_DEFAULTS.retry;
  const defaultDelayBeforeRetry = kind === 'dns_check' ? delayLoop
    : kind === 'http_get' || kind === 'ssl_get' ? CHECKER_DEFAULTS.httpDelayBeforeRetry
      : CHECKER_DEFAULTS.otherDelayBeforeRetry;
  const { nb_get_retry: _old, ...rest } = block;
  const timing: CheckerTiming = {
    delay_loop: delayLoop,
    connect_timeout: pick<number>('connect_timeout') ?? CHECKER_DEFAULTS.connect_timeout,
    retry: block.retry ?? block.nb_get_retry ?? rs.retry ?? rs.nb_get_retry ?? vs.retry ?? vs.nb_get_retry ?? defaultRetry,
    delay_before_retry: pick<number>('delay_before_retry') ?? defaultDelayBeforeRetry,
    // keepalived scatters the first check over [0, delay_loop] unless told otherwise.
    warmup: pick<number>('warmup') ?? delayLoop,
    alpha: pick<boolean>('alpha') ?? false,
    rise: block.rise ?? rs.rise ?? 1,
    fall: block.fall ?? rs.fall ?? 1,
    log_all_failures: block.log_all_failures ?? globalLogAll,
  };
  const extra: Record<string, unknown> = {};
  if (kind === 'http_get' || kind === 'ssl_get') {
    const http = block as RawChecker<'http_get'>;
    const vhost = http.virtualhost ?? rs.virtualhost ?? vs.virtualhost;
    extra.virtualhost = vhost;
    extra.http_protocol = http.http_protocol ?? '1.0';
    extra.url = http.url.map((u) => ({
      ...u,
      status_code: u.status_code ?? [{ from: 200, to: 299 }],
      virtualhost: u.virtualhost ?? vhost,
    }));
  }
  if (kind === 'misc_check') {
    const misc = block as RawChecker<'misc_check'>;
    extra.misc_timeout = misc.misc_timeout ?? delayLoop;
  }
  // `checker`, not `type`: dns_check has a `type` of its own (the query type).
  return { ...rest, ...extra, ...timing, checker: kind } as CheckerConfig;
}

function normalizeRealServer(vs: RawVirtualServer, rs: RawRealServer, globalLogAll: boolean) {
  const {
    tcp_check: _a, http_get: _b, ssl_get: _c, smtp_check: _d, dns_check: _e,
    udp_check: _f, ping_check: _g, misc_check: _h, file_check: _i, nb_get_retry: _j, ...rest
  } = rs;
  return {
    ...rest,
    port: rs.port ?? vs.port ?? 0,
    inhibit_on_failure: rs.inhibit_on_failure ?? vs.inhibit_on_failure ?? false,
    check: normalizeChecker(vs, rs, globalLogAll),
  };
}

function normalizeVirtualServer(vs: RawVirtualServer, globalLogAll: boolean) {
  const { lvs_sched: _s, lvs_method: _m, nb_get_retry: _r, ...rest } = vs;
  return {
    ...rest,
    lb_algo: vs.lb_algo ?? vs.lvs_sched ?? 'wlc',
    lb_kind: vs.lb_kind ?? vs.lvs_method ?? 'NAT',
    delay_loop: vs.delay_loop ?? CHECKER_DEFAULTS.delay_loop,
    inhibit_on_failure: vs.inhibit_on_failure ?? false,
    sorry_server: vs.sorry_server ? { ip: vs.sorry_server.ip, port: vs.sorry_server.port ?? vs.port ?? 0 } : undefined,
    real_servers: vs.real_servers.map((rs) => normalizeRealServer(vs, rs, globalLogAll)),
  };
}

/** keepalived's global GARP timers: vrrp_min_garp changes the defaults of those not set. */
function globalGarp(g: RawConfig['global_defs']) {
  const min = g.vrrp_min_garp;
  return {
    delay: g.vrrp_garp_master_delay ?? (min ? 0 : 5),
    repeat: g.vrrp_garp_master_repeat ?? (min ? 1 : 5),
    refresh: g.vrrp_garp_master_refresh ?? 0,
    refreshRepeat: g.vrrp_garp_master_refresh_repeat ?? (min ? 0 : 1),
  };
}

/** vrrp_strict: what keepalived changes in an instance (check-vrrp-strict.ts warns of each). */
function applyStrict<T extends RawVrrpInstance>(vi: T, strict: boolean): T {
  if (!strict) return vi;
  const c = strictChanges(vi);
  return {
    ...vi,
    authentication: c.dropAuthentication ? undefined : vi.authentication,
    state: c.state ?? vi.state,
    preempt_delay: c.resetPreemptDelay ? 0 : vi.preempt_delay,
  };
}

function addressOf(a: RawVrrpInstance['virtual_ipaddress'][number]): string {
  return typeof a === 'string' ? a : a.address;
}

function normalizeInstance(raw: RawVrrpInstance, g: RawConfig['global_defs']) {
  const vi = applyStrict(raw, g.vrrp_strict);
  const garp = globalGarp(g);
  return {
    ...vi,
    vrrp_strict: g.vrrp_strict,
    // VRRP over IPv6 is version 3 only (RFC 5798); check-families says so when version 2 is written.
    version: vi.virtual_ipaddress[0] !== undefined && addressOf(vi.virtual_ipaddress[0]).includes(':') ? 3 : vi.version ?? g.vrrp_version,
    unicast_src_ip: vi.unicast_src_ip ?? undefined,
    mcast_dst_ip: vi.mcast_dst_ip ?? g.vrrp_mcast_group4,
    ...firstOfEachAddress(
      vi.virtual_ipaddress.map((a) => normalizeAddress(a, vi.interface)),
      vi.virtual_ipaddress_excluded.map((a) => normalizeAddress(a, vi.interface)),
    ),
    track_interface: normalizeTracked(vi.track_interface),
    track_script: normalizeTracked(vi.track_script),
    track_file: normalizeTracked(vi.track_file),
    garp_master_delay: vi.garp_master_delay ?? garp.delay,
    garp_master_repeat: vi.garp_master_repeat ?? garp.repeat,
    garp_master_refresh: vi.garp_master_refresh ?? garp.refresh,
    garp_master_refresh_repeat: vi.garp_master_refresh_repeat ?? garp.refreshRepeat,
  };
}

/**
 * Full NAT's local addresses are ulvs's to hold, as DPVS adds them to its device: each one not
 * already a static address becomes a /32 static_ipaddress on its dev (added at start, removed at
 * stop), so the kernel answers ARP for it and the real servers' replies reach the dataplane.
 */
function withLocalAddresses(statics: IpAddress[], groups: RawConfig['local_address_groups']): IpAddress[] {
  const out = [...statics];
  for (const g of groups) {
    for (const a of g.addresses) {
      if (out.some((s) => s.ip === a.ip && s.dev === a.dev)) continue;
      out.push(normalizeAddress(`${a.ip}/32`, a.dev));
    }
  }
  return out;
}

export function normalizeConfig(raw: RawConfig) {
  const g = raw.global_defs;
  const staticDev = g.default_interface ?? raw.dataplane.interface;
  const lvsTimeouts = { ...DEFAULT_LVS_TIMEOUTS, ...g.lvs_timeouts, ...raw.dataplane.lvs_timeouts };
  const vrrpScripts = Object.fromEntries(
    Object.entries(raw.vrrp_scripts).map(([key, s]) => [key, { ...s, timeout: s.timeout ?? s.interval }]),
  );
  const { include: _include, ...rest } = raw;
  return {
    ...rest,
    dataplane: { ...raw.dataplane, lvs_timeouts: lvsTimeouts },
    static_ipaddress: withLocalAddresses(raw.static_ipaddress.map((a) => normalizeAddress(a, staticDev)), raw.local_address_groups),
    vrrp_scripts: vrrpScripts,
    vrrp_instances: raw.vrrp_instances.map((vi) => normalizeInstance(vi, g)),
    vrrp_sync_groups: raw.vrrp_sync_groups.map((sg) => ({
      ...sg,
      track_interface: normalizeTracked(sg.track_interface),
      track_script: normalizeTracked(sg.track_script),
      track_file: normalizeTracked(sg.track_file),
    })),
    virtual_servers: raw.virtual_servers.map((vs) => normalizeVirtualServer(vs, g.checker_log_all_failures)),
  };
}
