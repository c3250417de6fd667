/**
 * A /metrics scrape at 10,000 real servers (100 services x 100 servers, 2 workers): the list
 * built from the snapshot with counters summed over the workers' rows (what a scrape does
 * after asking the workers for their connection counts), then rendered by prom-client.
 * Prints the median/min/max milliseconds (wall and CPU) of the whole and of the rendering over
 * the scrapes after the first (which makes the label cache; reported as `first`), and the size.
 *   node dist/bench/metrics-scrape.js [services] [serversPerService] [trials]
 */
import { fileURLToPath } from 'node:url';
import type { UlvsConfig } from '../src/config/index.js';
import { serviceStatuses } from '../src/control/commands.js';
import { IdRegistry } from '../src/control/compile.js';
import { STAT_FIELDS, allocateIpvsCounters } from '../src/dataplane/counters.js';
import type { Snapshot } from '../src/dataplane/snapshot.js';
import { IpvsCounters } from '../src/metrics/ipvs-counters.js';
import { LabelCache } from '../src/metrics/families.js';
import { renderMetrics } from '../src/metrics/render.js';
import { ipToNumber } from '../src/packet/addr.js';

export async function measureScrape(services: number, perService: number, trials: number) {
  const snapshot: Snapshot = { version: 1, tunnelSource: 0, mtu: 1500, services: [] };
  let nextId = 1;
  for (let s = 0; s < services; s++) {
    snapshot.services.push({
      id: nextId++, addresses: [{ vip: ipToNumber(`198.18.${100 + (s >> 8)}.${s & 255}`), vport: 80 }], protocol: 6, forward: 1,
      scheduler: 'wlc', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: Array.from({ length: perService }, (_, r) => ({
        rsId: nextId++, ip: ipToNumber(`198.19.${r}.${s & 255}`), port: 8080, weight: 1 + (r % 5), available: true,
        mac: null, uthreshold: 0, lthreshold: 0,
      })),
    });
  }
  const rows = [allocateIpvsCounters(), allocateIpvsCounters()];
  for (const w of rows) for (let i = 0; i < nextId * STAT_FIELDS; i++) w[i] = Math.floor(Math.random() * 1e9);
  const counters = new IpvsCounters(() => rows);
  const conns = new Map<number, [number, number]>();
  for (const s of snapshot.services) for (const rs of s.realServers) conns.set(rs.rsId, [rs.rsId % 50, rs.rsId % 700]);
  const config = { virtual_servers: [] } as unknown as UlvsConfig;
  // A checker per real server, as a checked table has (ulvs_checker_up).
  const checkers = snapshot.services.flatMap((s, i) => s.realServers.map((rs) => ({ service: `vs${i}`, realServer: `${rs.ip}:${rs.port}`, up: true })));
  // As the server: one label cache across scrapes (the first scrape makes the label sets).
  const labels = new LabelCache();
  const total: number[] = [];
  const cpu: number[] = [];
  const render: number[] = [];
  let bytes = 0;
  for (let i = 0; i < trials; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const list = serviceStatuses(snapshot, config, new IdRegistry(), conns, counters);
    const t1 = performance.now();
    const { text } = await renderMetrics({ services: list, stats: { drop_no_service: 3 }, workers: [], vrrp: [], checkers }, labels);
    const t2 = performance.now();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    total.push(t2 - t0); render.push(t2 - t1); bytes = Buffer.byteLength(text);
  }
  const stat = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { median: +s[s.length >> 1].toFixed(1), min: +s[0].toFixed(1), max: +s[s.length - 1].toFixed(1) }; };
  // The first trial builds the label cache: reported apart, the rest are steady-state scrapes.
  const first = { totalMs: +total[0].toFixed(1), cpuMs: +cpu[0].toFixed(1) };
  const rest = (xs: number[]) => stat(xs.length > 1 ? xs.slice(1) : xs);
  return { realServers: services * perService, trials, first, totalMs: rest(total), cpuMs: rest(cpu), renderMs: rest(render), bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await measureScrape(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 100), Number(process.argv[4] ?? 7));
  console.log(JSON.stringify(r));
}
