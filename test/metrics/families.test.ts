// The label cache a scrape keeps for the next: same text as a fresh render, the same label
// object for the same series, a server gone from the table gone from the next scrape.
import t from 'tap';
import { LabelCache } from '../../src/metrics/families.js';
import { renderMetrics, type MetricsData } from '../../src/metrics/render.js';
import { parseMetrics, sample } from '../support/prometheus.js';

const rates = { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
const rs = (ip: string, conns: number) => ({
  ip, port: 8080, forward: 'Route' as const, weight: 1, activeConns: 0, inactiveConns: 0, up: true,
  stats: { conns, inPkts: conns * 3, outPkts: 0, inBytes: conns * 180, outBytes: 0 }, rates,
});
const data = (servers: ReturnType<typeof rs>[]): MetricsData => ({
  services: [{ protocol: 'TCP', vip: '198.18.0.100', port: 80, scheduler: 'rr', schedulerFlags: [], persistenceTimeout: 0,
    persistenceNetmask: '255.255.255.255', onePacket: false, realServers: servers, rates,
    stats: { conns: servers.reduce((n, r) => n + r.stats.conns, 0), inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 } }],
  stats: {}, workers: [], vrrp: [], checkers: servers.map((r) => ({ service: 'vs0', realServer: `${r.ip}:8080`, up: true })),
});

t.test('LabelCache: one object per key while it is used, forgotten after a scrape without it', async (t) => {
  const cache = new LabelCache();
  let made = 0;
  const make = () => { made++; return { a: 'x' }; };
  const first = cache.get('k', make);
  t.equal(cache.get('k', make), first, 'same scrape: same object');
  cache.sweep();
  t.equal(cache.get('k', make), first, 'next scrape: still the same object');
  t.equal(made, 1);
  cache.sweep();
  cache.sweep(); // a scrape without 'k'
  t.not(cache.get('k', make), first, 'a series that went away starts afresh');
  t.ok(Object.isFrozen(first), 'shared with prom-client: never changed in place');
});

t.test('a kept cache renders what a fresh one does, with the new values', async (t) => {
  const cache = new LabelCache();
  await renderMetrics(data([rs('198.18.1.10', 1), rs('198.18.1.20', 2)]), cache);
  const now = data([rs('198.18.1.10', 5), rs('198.18.1.20', 7)]);
  const kept = (await renderMetrics(now, cache)).text;
  t.equal(kept, (await renderMetrics(now)).text, 'byte for byte');
  const m = parseMetrics(kept);
  const labels = { local_address: '198.18.0.100', local_port: '80', remote_address: '198.18.1.20', remote_port: '8080', proto: 'TCP', local_mark: '' };
  t.equal(sample(m, 'ulvs_ipvs_backend_connections_total', labels), 7, 'the value of this scrape, not the first');
  t.equal(sample(m, 'ulvs_ipvs_backend_incoming_packets_total', labels), 21);
  t.equal(sample(m, 'ulvs_checker_up', { service: 'vs0', real_server: '198.18.1.20:8080' }), 1);
  const after = parseMetrics((await renderMetrics(data([rs('198.18.1.10', 5)]), cache)).text);
  t.equal(after.get('ulvs_ipvs_backend_weight')!.metrics.length, 1, 'a removed server is not rendered again');
});
