// ns per schedule() call for every IPVS scheduler, with 3 and 100 real servers.
// Run: node dist/bench/schedulers.js [--calls N] ; prints JSON (also returned by runSchedulerBench).
// Each (scheduler, servers) trial runs in a fresh child process, so that one scheduler's JIT
// feedback (a call site that saw 14 classes) does not slow the next one down. Both wall-clock
// and CPU time per call are reported: on a shared machine the CPU figure is the steadier one.

import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { buildMaglevTable, createScheduler, realServerSetFrom, SCHEDULER_NAMES, type SchedulerFlags, type SchedulerName } from '../src/schedulers/index.js';

export interface SchedulerBenchResult {
  scheduler: string;
  servers: number;
  calls: number;
  nsPerCall: number;
  cpuNsPerCall: number;
}

const CLIENTS = 4096; // distinct (src, dst) pairs cycled through, so hash schedulers see spread keys

function variantsToRun(): Array<[string, SchedulerName, SchedulerFlags]> {
  const out: Array<[string, SchedulerName, SchedulerFlags]> = SCHEDULER_NAMES.map((n) => [n, n, {}]);
  out.push(['sh+port+fallback', 'sh', { shPort: true, shFallback: true }]);
  out.push(['mh+port+fallback', 'mh', { mhPort: true, mhFallback: true }]);
  return out;
}

function measure(label: string, name: SchedulerName, flags: SchedulerFlags, servers: number, calls: number): SchedulerBenchResult {
  const set = realServerSetFrom(
    Array.from({ length: servers }, (_, i) => ({
      ip: 0xc6120000 + 10 + i, port: 80, weight: 1 + (i % 5), activeConns: (i * 7) % 50, inactiveConns: (i * 13) % 200,
    })),
  );
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const scheduler = createScheduler(name, flags, set, { random, clock: () => 0 });
  const src = new Uint32Array(CLIENTS);
  const dst = new Uint32Array(CLIENTS);
  for (let k = 0; k < CLIENTS; k++) {
    src[k] = (0xc6130000 + Math.imul(k, 2654435761)) >>> 0;
    dst[k] = 0xc6120100 + (k % 1000);
  }
  let sink = 0;
  const run = (n: number) => {
    for (let k = 0; k < n; k++) {
      const c = k & (CLIENTS - 1);
      sink += scheduler.schedule(set, src[c], 1024 + c, dst[c], 80);
    }
  };
  run(Math.min(calls, 200000)); // warm up: let the JIT settle
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  run(calls);
  const ns = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuStart);
  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink); // keep the loop observable
  const round = (x: number) => Math.round(x * 10) / 10;
  return { scheduler: label, servers, calls, nsPerCall: round(ns / calls), cpuNsPerCall: round(((cpu.user + cpu.system) * 1000) / calls) };
}

const thisFile = new URL(import.meta.url).pathname;

/** Control-plane cost: milliseconds to build a 65537-slot Maglev table. */
function measureMaglevBuild(servers: number): { servers: number; ms: number } {
  const set = realServerSetFrom(Array.from({ length: servers }, (_, i) => ({ ip: 0xc6120000 + 10 + i, port: 80, weight: 1 + (i % 5) })));
  const weights = Array.from(set.weight);
  buildMaglevTable(set, weights, 65537);
  const start = process.hrtime.bigint();
  for (let k = 0; k < 5; k++) buildMaglevTable(set, weights, 65537);
  return { servers, ms: Math.round(Number(process.hrtime.bigint() - start) / 5 / 1e4) / 100 };
}

export function runSchedulerBench(calls = 2_000_000) {
  const results: SchedulerBenchResult[] = [];
  for (const servers of [3, 100]) {
    for (const [label] of variantsToRun()) {
      const out = execFileSync(process.execPath, [thisFile, '--trial', label, String(servers), String(calls)], { encoding: 'utf8' });
      results.push(JSON.parse(out) as SchedulerBenchResult);
    }
  }
  return {
    bench: 'schedulers',
    date: new Date().toISOString(),
    machine: { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
    results,
    maglevTableBuild: [3, 100, 1000].map(measureMaglevBuild),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--trial') {
  const [label, servers, calls] = process.argv.slice(3);
  const variant = variantsToRun().find(([l]) => l === label);
  if (!variant) throw new Error(`unknown trial ${label}`);
  console.log(JSON.stringify(measure(label, variant[1], variant[2], Number(servers), Number(calls))));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--calls');
  const calls = i > 0 ? Number(process.argv[i + 1]) : 2_000_000;
  console.log(JSON.stringify(runSchedulerBench(calls), null, 2));
}
