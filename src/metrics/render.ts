/**
 * The /metrics document from one gathering of the director's state (the same data `ulvs list`,
 * `stats` and `status` answer with: no second bookkeeping). Pure over MetricsData, so fixture
 * data checks it; prom-client writes the exposition format. Names follow what users already
 * scrape, with the ulvs_ prefix: node_exporter's IPVS collector (ulvs_ipvs_*) and the
 * keepalived exporters' VRRP metrics; ulvs's own below them.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { ServiceStatus } from '../control/format.js';
import type { InstanceStatus } from '../vrrp/status.js';
import { LabelCache, ValuesFamily, type Labels } from './families.js';

export interface WorkerCounters { queue: number; rx: number; tx: number; batches: number }
export interface CheckerVerdict { service: string; realServer: string; up: boolean }

export interface MetricsData {
  services: ServiceStatus[];
  /** `ulvs stats` as flat keys: drop_*, conn_table_*, conn_evictions, sync_*. */
  stats: Record<string, number>;
  workers: WorkerCounters[];
  vrrp: InstanceStatus[];
  checkers: CheckerVerdict[];
}

/** keepalived-exporter's numbering of ulvs_vrrp_state. */
export const VRRP_STATE_VALUES: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 4 };

const STAT_NAMES = [
  ['connections', 'conns', 'connections'], ['incoming_packets', 'inPkts', 'incoming packets'],
  ['outgoing_packets', 'outPkts', 'outgoing packets (NAT replies; 0 for DR and TUN, as IPVS)'],
  ['incoming_bytes', 'inBytes', 'incoming bytes (IP lengths)'], ['outgoing_bytes', 'outBytes', 'outgoing bytes (IP lengths)'],
] as const;

/**
 * `labels`: keep one LabelCache across scrapes (the server does) so the per-server label sets
 * are made and formatted once, not on every scrape; a fresh one is correct, only slower.
 */
export async function renderMetrics(data: MetricsData, labels = new LabelCache()): Promise<{ contentType: string; text: string }> {
  const registry = new Registry();
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames: [...labelNames], registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames: [...labelNames], registers });

  // node_exporter's totals (its /proc/net/ip_vs_stats): every service summed; a group's members share one service.
  const seen = new Set<ServiceStatus['stats']>();
  const serviceSeries = data.services.map((s) => serviceLabels(labels, s));
  const backendSeries = data.services.map((s) => s.realServers.map((r) => backend(labels, s, r)));
  for (const [metric, key, help] of STAT_NAMES) {
    const total = counter(`ulvs_ipvs_${metric}_total`, `The total number of ${help}.`);
    const perService = new ValuesFamily(`ulvs_ipvs_service_${metric}_total`, `${help} of one virtual service`, 'counter', registry);
    const perBackend = new ValuesFamily(`ulvs_ipvs_backend_${metric}_total`, `${help} of one real server of a service`, 'counter', registry);
    let sum = 0;
    seen.clear();
    data.services.forEach((s, i) => {
      if (s.stats) {
        perService.add(serviceSeries[i], s.stats[key]);
        if (!seen.has(s.stats)) sum += s.stats[key];
        seen.add(s.stats);
      }
      s.realServers.forEach((r, j) => { if (r.stats) perBackend.add(backendSeries[i][j], r.stats[key]); });
    });
    total.inc(sum);
  }
  const active = new ValuesFamily('ulvs_ipvs_backend_connections_active', 'The current active connections by local and remote address.', 'gauge', registry);
  const inactive = new ValuesFamily('ulvs_ipvs_backend_connections_inactive', 'The current inactive connections by local and remote address.', 'gauge', registry);
  const weight = new ValuesFamily('ulvs_ipvs_backend_weight', 'The current backend weight by local and remote address.', 'gauge', registry);
  for (const [i, s] of data.services.entries()) {
    for (const [j, r] of s.realServers.entries()) {
      const l = backendSeries[i][j];
      active.add(l, r.activeConns);
      inactive.add(l, r.inactiveConns);
      weight.add(l, r.weight);
    }
  }

  renderVrrp(data.vrrp, counter, gauge);
  const checker = new ValuesFamily('ulvs_checker_up', 'What the health checks last said of a real server (1 up, 0 down).', 'gauge', registry);
  for (const c of data.checkers) {
    checker.add(labels.get(`c ${c.service} ${c.realServer}`, () => ({ service: c.service, real_server: c.realServer })), c.up ? 1 : 0);
  }

  const drops = counter('ulvs_dropped_packets_total', 'Packets the dataplane dropped, by reason.', ['reason']);
  for (const [k, v] of Object.entries(data.stats)) if (k.startsWith('drop_')) drops.inc({ reason: k.slice(5) }, v);
  gauge('ulvs_flow_table_entries', 'Connections in the flow tables.').set(data.stats.conn_table_size ?? 0);
  gauge('ulvs_flow_table_capacity', 'Connections the flow tables can hold.').set(data.stats.conn_table_capacity ?? 0);
  counter('ulvs_flow_table_evictions_total', 'Connections evicted to make room.').inc(data.stats.conn_evictions ?? 0);
  counter('ulvs_flow_table_expired_total', 'Connections that timed out.').inc(data.stats.conn_expired ?? 0);
  const residence = gauge('ulvs_dataplane_residence_seconds',
    'Time a packet spends in the director (receive to transmit), by quantile (12.5% resolution).', ['quantile']);
  for (const [q, key] of [['0.5', 'residence_p50_us'], ['0.99', 'residence_p99_us'], ['0.999', 'residence_p999_us']] as const) {
    if (data.stats[key] !== undefined) residence.set({ quantile: q }, data.stats[key] / 1e6);
  }
  counter('ulvs_dataplane_residence_packets_total', 'Packets whose residence time was recorded.').inc(data.stats.residence_packets ?? 0);
  gauge('ulvs_fnat_local_ports_in_use', 'Full NAT: local ports held by connections.').set(data.stats.local_ports_in_use ?? 0);
  for (const [k, v] of Object.entries(data.stats)) {
    if (!k.startsWith('sync_')) continue;
    if (k === 'sync_master') gauge('ulvs_sync_master', 'Connection sync: 1 while this director sends (MASTER).').set(v);
    else counter(`ulvs_${k}_total`, `Connection sync: ${k.slice(5).replace(/_/g, ' ')}.`).inc(v);
  }
  const rx = counter('ulvs_worker_received_packets_total', 'Packets a dataplane worker received.', ['queue']);
  const tx = counter('ulvs_worker_sent_packets_total', 'Packets a dataplane worker sent.', ['queue']);
  const batches = counter('ulvs_worker_batches_total', 'Batches a dataplane worker processed (received/batches = mean batch size).', ['queue']);
  const mean = gauge('ulvs_worker_batch_size_mean', 'Mean packets per batch since start.', ['queue']);
  for (const w of data.workers) {
    const q = { queue: String(w.queue) };
    rx.inc(q, w.rx); tx.inc(q, w.tx); batches.inc(q, w.batches);
    mean.set(q, w.batches > 0 ? w.rx / w.batches : 0);
  }
  const text = await registry.metrics();
  labels.sweep();
  return { contentType: registry.contentType, text };
}

function serviceLabels(cache: LabelCache, s: ServiceStatus): Labels {
  return cache.get(`s ${s.protocol} ${s.vip} ${s.port}`, () => ({ local_address: s.vip, local_port: String(s.port), proto: s.protocol }));
}

/** node_exporter's backend labels (local_mark is empty: ulvs has no fwmark services). */
function backend(cache: LabelCache, s: ServiceStatus, r: ServiceStatus['realServers'][number]): Labels {
  return cache.get(`b ${s.protocol} ${s.vip} ${s.port} ${r.ip} ${r.port}`, () => ({
    local_address: s.vip, local_port: String(s.port), remote_address: r.ip, remote_port: String(r.port), proto: s.protocol, local_mark: '',
  }));
}

type MakeCounter = <L extends string>(name: string, help: string, labelNames?: readonly L[]) => Counter<L>;
type MakeGauge = <L extends string>(name: string, help: string, labelNames?: readonly L[]) => Gauge<L>;

/** keepalived-exporter's VRRP metrics, from `ulvs status`. */
function renderVrrp(instances: InstanceStatus[], counter: MakeCounter, gauge: MakeGauge): void {
  const labels = ['iname', 'intf', 'vrid'] as const;
  const state = gauge('ulvs_vrrp_state', 'VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP.', labels);
  const priority = gauge('ulvs_vrrp_priority', 'Effective VRRP priority.', labels);
  const sent = counter('ulvs_vrrp_advertisements_sent_total', 'Advertisements sent.', labels);
  const received = counter('ulvs_vrrp_advertisements_received_total', 'Advertisements received.', labels);
  const errors = counter('ulvs_vrrp_errors_total', 'Advertisements dropped or not sent, by reason.', [...labels, 'reason']);
  for (const i of instances) {
    const l = { iname: i.name, intf: i.interface, vrid: String(i.vrid) };
    state.set(l, VRRP_STATE_VALUES[i.state] ?? -1);
    priority.set(l, i.priority);
    sent.inc(l, i.advertsSent);
    received.inc(l, i.advertsReceived);
    for (const [reason, n] of Object.entries(i.drops)) errors.inc({ ...l, reason }, n ?? 0);
  }
}
