// /metrics from fixture data: node_exporter's IPVS names and labels with the ulvs_ prefix,
// keepalived exporters' VRRP metrics, ulvs's own; parsed back by a Prometheus parser.
import t from 'tap';
import { renderMetrics, type MetricsData } from '../../src/metrics/render.js';
import type { InstanceStatus } from '../../src/vrrp/status.js';
import { parseMetrics, sample } from '../support/prometheus.js';

const stats = (conns: number, inPkts: number, outPkts: number, inBytes: number, outBytes: number) => ({ conns, inPkts, outPkts, inBytes, outBytes });
const rates = { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
const rs = (ip: string, weight: number, a: number, i: number, st: ReturnType<typeof stats>) => ({
  ip, port: 8080, forward: 'Masq' as const, weight, activeConns: a, inactiveConns: i, up: true, stats: st, rates,
});
const vrrp: InstanceStatus = {
  name: 'VI_1', interface: 'eth0', vrid: 51, version: 2, state: 'MASTER', priority: 150, configuredPriority: 150,
  masterIp: null, vips: ['198.18.0.100/32'], lastTransition: null, drops: { bad_ttl: 2 }, advertsSent: 40, advertsReceived: 3,
};

const fixture: MetricsData = {
  services: [
    { protocol: 'TCP', vip: '198.18.0.100', port: 80, scheduler: 'rr', schedulerFlags: [], persistenceTimeout: 0, persistenceNetmask: '255.255.255.255',
      onePacket: false, stats: stats(30, 300, 250, 20000, 90000), rates,
      realServers: [rs('198.18.1.10', 1, 2, 8, stats(10, 100, 80, 7000, 30000)), rs('198.18.1.20', 3, 1, 19, stats(20, 200, 170, 13000, 60000))] },
    { protocol: 'UDP', vip: '198.18.0.101', port: 53, scheduler: 'wlc', schedulerFlags: [], persistenceTimeout: 0, persistenceNetmask: '255.255.255.255',
      onePacket: false, stats: stats(5, 5, 0, 400, 0), rates, realServers: [] },
  ],
  stats: { rx: 10, tx: 9, drop_no_service: 4, drop_bad_ip_checksum: 0, conn_table_size: 12, conn_table_capacity: 1024, conn_evictions: 1, conn_expired: 7, sync_master: 1, sync_sent: 33 },
  workers: [{ queue: 0, rx: 640, tx: 600, batches: 20 }, { queue: 1, rx: 0, tx: 0, batches: 0 }],
  vrrp: [vrrp],
  checkers: [{ service: 'vs0', realServer: '198.18.1.10:8080', up: true }, { service: 'vs0', realServer: '198.18.1.20:8080', up: false }],
};

t.test('the IPVS metrics carry node_exporter\'s names, labels and the listing\'s values', async (t) => {
  const { text, contentType } = await renderMetrics(fixture);
  t.match(contentType, /^text\/plain; version=0\.0\.4/);
  const m = parseMetrics(text);
  t.equal(sample(m, 'ulvs_ipvs_connections_total'), 35, 'totals sum the services (no labels, as node_ipvs_connections_total)');
  t.same(m.get('ulvs_ipvs_connections_total')!.metrics[0].labels ?? {}, {});
  t.equal(sample(m, 'ulvs_ipvs_incoming_packets_total'), 305);
  t.equal(sample(m, 'ulvs_ipvs_outgoing_packets_total'), 250);
  t.equal(sample(m, 'ulvs_ipvs_incoming_bytes_total'), 20400);
  t.equal(sample(m, 'ulvs_ipvs_outgoing_bytes_total'), 90000);
  const rs2 = { local_address: '198.18.0.100', local_port: '80', remote_address: '198.18.1.20', remote_port: '8080', proto: 'TCP', local_mark: '' };
  t.same(m.get('ulvs_ipvs_backend_weight')!.metrics.find((x) => x.labels?.remote_address === '198.18.1.20')!.labels, rs2, 'node_exporter\'s six backend labels');
  t.equal(sample(m, 'ulvs_ipvs_backend_weight', rs2), 3);
  t.equal(sample(m, 'ulvs_ipvs_backend_connections_active', rs2), 1);
  t.equal(sample(m, 'ulvs_ipvs_backend_connections_inactive', rs2), 19);
  t.equal(sample(m, 'ulvs_ipvs_backend_connections_total', rs2), 20);
  t.equal(sample(m, 'ulvs_ipvs_backend_outgoing_bytes_total', rs2), 60000);
  t.equal(sample(m, 'ulvs_ipvs_service_connections_total', { local_address: '198.18.0.101', local_port: '53', proto: 'UDP' }), 5);
  t.equal(m.get('ulvs_ipvs_connections_total')!.type, 'COUNTER');
  t.equal(m.get('ulvs_ipvs_backend_weight')!.type, 'GAUGE');
});

t.test('VRRP, checkers and ulvs\'s own metrics', async (t) => {
  const m = parseMetrics((await renderMetrics(fixture)).text);
  const vi = { iname: 'VI_1', intf: 'eth0', vrid: '51' };
  t.equal(sample(m, 'ulvs_vrrp_state', vi), 2, 'MASTER is 2 as keepalived-exporter');
  t.equal(sample(m, 'ulvs_vrrp_advertisements_sent_total', vi), 40);
  t.equal(sample(m, 'ulvs_vrrp_advertisements_received_total', vi), 3);
  t.equal(sample(m, 'ulvs_vrrp_errors_total', { ...vi, reason: 'bad_ttl' }), 2);
  t.equal(sample(m, 'ulvs_checker_up', { real_server: '198.18.1.10:8080' }), 1);
  t.equal(sample(m, 'ulvs_checker_up', { real_server: '198.18.1.20:8080' }), 0);
  t.equal(sample(m, 'ulvs_dropped_packets_total', { reason: 'no_service' }), 4);
  t.equal(sample(m, 'ulvs_dropped_packets_total', { reason: 'bad_ip_checksum' }), 0);
  t.equal(sample(m, 'ulvs_flow_table_entries'), 12);
  t.equal(sample(m, 'ulvs_flow_table_evictions_total'), 1);
  t.equal(sample(m, 'ulvs_sync_master'), 1);
  t.equal(sample(m, 'ulvs_sync_sent_total'), 33);
  t.equal(sample(m, 'ulvs_worker_batch_size_mean', { queue: '0' }), 32);
  t.equal(sample(m, 'ulvs_worker_batch_size_mean', { queue: '1' }), 0, 'an idle worker: 0, not NaN');
  t.equal(sample(m, 'ulvs_worker_received_packets_total', { queue: '0' }), 640);
});

t.test('an empty director renders a valid document', async (t) => {
  const m = parseMetrics((await renderMetrics({ services: [], stats: {}, workers: [], vrrp: [], checkers: [] })).text);
  t.equal(sample(m, 'ulvs_ipvs_connections_total'), 0);
  t.equal(sample(m, 'ulvs_flow_table_entries'), 0);
});
