/**
 * The handlers behind the control socket (`ulvs list`, `conns`, `status`, `reload`, `stats`,
 * `timeout`): each reads the director's state and the workers' flow data, and answers with
 * data plus the text ipvsadm would print.
 */
import type { SyncStatus } from '../sync/daemon.js';
import type { BgpStatus } from '../bgp/announcer.js';
import type { UlvsConfig } from '../config/index.js';
import { formatTimeouts, type Timeouts } from '../conntrack/tcp-states.js';
import { C_BATCHES, C_RX, C_TX, summarizeCounters } from '../dataplane/counters.js';
import { summarizeResidence } from '../dataplane/residence.js';
import type { CheckerVerdict, MetricsData } from '../metrics/render.js';
import type { InstanceStatus } from '../vrrp/status.js';
import { FORWARD_NAMES, type Snapshot } from '../dataplane/snapshot.js';
import { IPPROTO_TCP } from '../packet/parse.js';
import { serviceKey, type IdRegistry } from './compile.js';
import { formatConnections, formatIpvsList, type ConnectionEntry, type ServiceStatus } from './format.js';
import type { ControlRequest } from './socket.js';
import { runtimeReport, type NumberedEdit, type RuntimeReply } from './ipvsadm-commands.js';
import type { RuntimeOverrides } from './runtime-overrides.js';
import type { WorkerPool } from './worker-pool.js';
import { collectConnections, type DumpChunk } from '../dataplane/conn-dump.js';
import type { IpvsCounters } from '../metrics/ipvs-counters.js';
import { ipToNumber, isIpv4, numberToIp } from '../packet/addr.js';
import { heapFigures, memoryStats, type HeapFigures } from '../os/memory.js';
import type { MallocStats } from '../io/native.js';

export interface ReloadResult { ok: boolean; errors: string[]; version?: number }

/** A worker's answer to 'flowstats'. */
interface FlowStats {
  /** rsId -> [active, inactive] connections and persistence templates (PersistConn). */
  conns: Record<string, ConnCounts>;
  size: number; capacity: number; evictions: number; inserts: number; expired: number;
}

/** What the commands see of the director. */
export interface CommandContext {
  readonly config: UlvsConfig;
  readonly snapshot: Snapshot;
  readonly ids: IdRegistry;
  readonly workers: WorkerPool;
  /** Per-service and per-real-server counters and rates (summed over the workers). */
  readonly ipvs: IpvsCounters;
  readonly timeouts: Timeouts;
  vrrpStatus(): unknown[];
  /** Checkers, real-server verdicts and quorum (ulvs status --json). */
  healthStatus(): unknown;
  /** Addresses ulvs holds on interfaces now (static and VRRP). */
  heldAddresses(): unknown[];
  /** What the health checks last said of each checked real server. */
  checkers(): CheckerVerdict[];
  /** Connection sync's role, peer and counters; null without lvs_sync_daemon. */
  syncStatus(): SyncStatus | null;
  /** bgp_announce's VIPs, the daemon and its sessions; null without the block. */
  bgpStatus?(): BgpStatus | null;
  /** `ulvs bgp disable|enable` (the disable file). */
  setBgpDisabled?(on: boolean): Promise<BgpStatus>;
  /** `resetRuntime`: drop the runtime overrides (ulvs reload --reset-runtime). */
  reload(resetRuntime?: boolean): Promise<ReloadResult>;
  /** The config file as loaded (the effective table is `config`: file + runtime overrides). */
  readonly fileConfig: UlvsConfig;
  readonly overrides: RuntimeOverrides;
  /** ulvs ipvsadm's changes, all or nothing, published as a new snapshot (no reload). */
  applyRuntime(edits: NumberedEdit[]): Promise<RuntimeReply>;
  /** Changes the running connection timeouts (until the next restart or config change). */
  setTimeouts(set: Partial<Timeouts>): void;
  /** Email alerts' counters (mail_sent, mail_failed, mail_queued). */
  mailStats?(): Record<string, number>;
  /** glibc malloc's account (the addon's mallocStats); null or absent: not known. */
  mallocStats?(): MallocStats | null;
}

/** Connection sync's counters as flat `ulvs stats` keys (sync_sent, sync_dropped_bad_signature, ...). */
export function syncStats(sync: SyncStatus): Record<string, number> {
  const c = sync.counters;
  const out: Record<string, number> = {
    sync_master: sync.role === 'master' ? 1 : 0,
    sync_sent: c.sent, sync_sent_records: c.sentRecords, sync_send_errors: c.sendErrors,
    sync_received: c.received, sync_received_records: c.receivedRecords, sync_applied: c.applied, sync_applied_templates: c.appliedTemplates, sync_claims: c.claims,
    sync_resync_requests: c.resyncRequests, sync_resyncs_sent: c.resyncsSent, sync_outbox_overflows: c.outboxOverflows,
  };
  const key = (k: string): string => k.replace(/-/g, '_');
  for (const [k, n] of Object.entries(c.dropped)) out[`sync_dropped_${key(k)}`] = n;
  for (const [k, n] of Object.entries(c.skipped)) out[`sync_skipped_${key(k)}`] = n;
  for (const [k, n] of Object.entries(c.ignored)) out[`sync_ignored_${key(k)}`] = n;
  return out;
}

/** A real server's [ActiveConn, InActConn, PersistConn] (templates; absent: 0). */
export type ConnCounts = [number, number, number?];

/** rsId -> [active, inactive, templates] summed over the workers' answers. */
export function sumConnections(answers: readonly Pick<FlowStats, 'conns'>[]): Map<number, [number, number, number]> {
  const conns = new Map<number, [number, number, number]>();
  for (const stats of answers) {
    for (const [id, [a, i, p]] of Object.entries(stats.conns)) {
      const prev = conns.get(Number(id)) ?? [0, 0, 0];
      conns.set(Number(id), [prev[0] + a, prev[1] + i, prev[2] + (p ?? 0)]);
    }
  }
  return conns;
}

/** The published services as ipvsadm lists them, with connection counts by rsId. */
export function serviceStatuses(snapshot: Snapshot, config: UlvsConfig, ids: IdRegistry,
  conns: ReadonlyMap<number, ConnCounts>, counters?: Pick<IpvsCounters, 'stats' | 'rates'>): ServiceStatus[] {
  // A virtual_server_group's members share their service's counters (one id per service).
  const measured = (id: number) => (counters ? { stats: counters.stats(id), rates: counters.rates(id) } : {});
  const granularity = new Map(config.virtual_servers.map((vs) => [ids.idOf(serviceKey(vs)), vs.persistence_granularity]));
  // One line per VIP:port, as IPVS holds a service per address (a group lists each member).
  return snapshot.services.flatMap((s) => s.addresses.map((a) => ({ s, a }))).map(({ s, a }) => ({
    protocol: s.protocol === IPPROTO_TCP ? 'TCP' : 'UDP',
    vip: a.vip6 ?? numberToIp(a.vip), port: a.vport,
    scheduler: s.scheduler,
    schedulerFlags: Object.entries(s.schedulerFlags).filter(([, on]) => on).map(([k]) => k.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)),
    persistenceTimeout: s.persistenceTimeout,
    persistenceNetmask: s.family === 6 ? String(s.persistencePrefix6 ?? 128) : granularity.get(s.id) ?? '255.255.255.255',
    onePacket: s.onePacket,
    ...measured(s.id),
    // As ipvsadm shows it: a server a check took out (without inhibit_on_failure) is not in the table.
    realServers: s.realServers.filter((rs) => rs.available).map((rs) => ({
      ip: rs.ip6 ?? numberToIp(rs.ip), port: rs.port, forward: rs.local ? 'Local' : FORWARD_NAMES[s.forward], weight: rs.weight,
      uthreshold: rs.uthreshold, lthreshold: rs.lthreshold,
      activeConns: conns.get(rs.rsId)?.[0] ?? 0, inactiveConns: conns.get(rs.rsId)?.[1] ?? 0, up: rs.available,
      persistConns: conns.get(rs.rsId)?.[2] ?? 0,
      ...measured(rs.rsId),
    })),
  }));
}

export async function listServices(ctx: CommandContext): Promise<ServiceStatus[]> {
  const answers = await ctx.workers.askAll({ type: 'flowstats' }) as FlowStats[];
  return serviceStatuses(ctx.snapshot, ctx.config, ctx.ids, sumConnections(answers), ctx.ipvs);
}

export interface ServiceAddressArg { protocol: string; vip: string; port: number }

/**
 * `ipvsadm -Z [-t|-u VIP:PORT]`: the ids to zero, a service with its real servers or every one
 * in the table. A service the table does not hold is refused as ipvsadm does.
 */
export function idsToZero(snapshot: Snapshot, service?: ServiceAddressArg): number[] {
  const ids = (s: Snapshot['services'][number]): number[] => [s.id, ...s.realServers.map((rs) => rs.rsId)];
  if (!service) return snapshot.services.flatMap(ids);
  const proto = String(service.protocol).toUpperCase();
  if (!isIpv4(String(service.vip)) || !Number.isInteger(service.port)) {
    throw new Error('zero: service must be { protocol: TCP|UDP, vip: a.b.c.d, port: N }');
  }
  const vip = ipToNumber(String(service.vip));
  const found = snapshot.services.find((s) => (s.protocol === IPPROTO_TCP ? 'TCP' : 'UDP') === proto &&
    s.addresses.some((a) => a.vip === vip && a.vport === service.port));
  if (!found) throw new Error('No such service');
  return ids(found);
}

/** `ulvs stats`: the workers' packet counters summed, the flow tables, connection sync, memory. */
export async function collectStats(ctx: CommandContext): Promise<Record<string, number>> {
  const stats = summarizeCounters(ctx.workers.counters);
  // Per queue, when there are several: how RSS spread the packets over the workers.
  if (ctx.workers.counters.length > 1) ctx.workers.counters.forEach((c, queue) => { stats[`queue${queue}_rx`] = c[C_RX]; });
  for (const f of await ctx.workers.askAll({ type: 'flowstats' }) as FlowStats[]) {
    stats.conn_table_size = (stats.conn_table_size ?? 0) + f.size;
    stats.conn_table_capacity = (stats.conn_table_capacity ?? 0) + f.capacity;
    stats.conn_evictions = (stats.conn_evictions ?? 0) + f.evictions;
    stats.conn_expired = (stats.conn_expired ?? 0) + f.expired;
  }
  // The director's own residence time per packet (receive -> transmit), all workers together.
  const residence = summarizeResidence(ctx.workers.residence ?? []);
  stats.residence_packets = residence.packets;
  if (residence.p50Us !== null) {
    stats.residence_p50_us = residence.p50Us;
    stats.residence_p99_us = residence.p99Us!;
    stats.residence_p999_us = residence.p999Us!;
  }
  const sync = ctx.syncStatus();
  if (sync) Object.assign(stats, syncStats(sync));
  if (ctx.mailStats) Object.assign(stats, ctx.mailStats());
  // Memory by where it is (os/memory.ts): the process, the main thread's heap, malloc, each worker's heap.
  const heaps = await ctx.workers.askAll({ type: 'memory' }) as (HeapFigures | undefined)[];
  Object.assign(stats, memoryStats(heapFigures(), heaps, ctx.mallocStats?.() ?? null));
  return stats;
}

/** Everything /metrics shows, gathered once per scrape from what the commands answer with. */
export async function metricsData(ctx: CommandContext): Promise<MetricsData> {
  return {
    services: await listServices(ctx),
    stats: await collectStats(ctx),
    workers: ctx.workers.counters.map((c, queue) => ({ queue, rx: c[C_RX], tx: c[C_TX], batches: c[C_BATCHES] })),
    vrrp: ctx.vrrpStatus() as InstanceStatus[],
    checkers: ctx.checkers(),
  };
}

/** Answers one control request; an unknown command throws (the socket replies with the error). */
export async function handleControl(ctx: CommandContext, req: ControlRequest): Promise<unknown> {
  switch (req.command) {
    case 'list': {
      const services = await listServices(ctx);
      const tableSize = ctx.config.dataplane.conn_table_size;
      return { services, tableSize, text: formatIpvsList(services, tableSize) };
    }
    case 'conns': {
      // Chunks of typed arrays from each worker, formatted here (conn-dump.ts): the workers
      // build no object per flow and forward between chunks.
      const all: ConnectionEntry[] = [];
      for (let i = 0; i < ctx.workers.count; i++) await collectConnections((r) => ctx.workers.askOne(i, { ...r }) as Promise<DumpChunk | undefined>, all);
      return { connections: all, text: formatConnections(all) };
    }
    case 'status':
      return {
        vrrp: ctx.vrrpStatus(), sync: ctx.syncStatus(), bgp: ctx.bgpStatus?.() ?? null, health: ctx.healthStatus(),
        runtime: runtimeReport(ctx.fileConfig, ctx.overrides), addresses: ctx.heldAddresses(),
      };
    case 'bgp': {
      const action = req.args?.action;
      if (action === 'disable' || action === 'enable') {
        if (!ctx.setBgpDisabled) throw new Error('bgp: not supported by this director');
        return ctx.setBgpDisabled(action === 'disable');
      }
      const status = ctx.bgpStatus?.() ?? null;
      if (!status) throw new Error('bgp: no bgp_announce block in the config');
      return status;
    }
    case 'reload':
      return ctx.reload(req.args?.resetRuntime === true);
    case 'ipvsadm':
      return ctx.applyRuntime((req.args?.edits ?? []) as NumberedEdit[]);
    case 'runtime':
      return runtimeReport(ctx.fileConfig, ctx.overrides);
    case 'stats':
      return collectStats(ctx);
    case 'zero': {
      const ids = idsToZero(ctx.snapshot, req.args?.service as ServiceAddressArg | undefined);
      ctx.ipvs.zero(ids);
      return { zeroed: ids.length };
    }
    case 'timeout': {
      const set = req.args?.set as Partial<Timeouts> | undefined;
      if (set) ctx.setTimeouts(set);
      return { timeouts: ctx.timeouts, text: formatTimeouts(ctx.timeouts) + '\n' };
    }
    default:
      throw new Error(`unknown control command ${req.command}`);
  }
}
