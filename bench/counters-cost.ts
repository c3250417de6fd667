/**
 * What the per-service and per-real-server counters cost the dataplane: the same measurements
 * (measureDataplaneStep over established flows, measurePipelineCases) from two builds, this one
 * and a checkout without the counters (its dist/ built), both loaded into this one process
 * (two module graphs, each JIT-compiled on its own) and run in alternation, trial after trial,
 * so both see the same machine load. Prints median, min and max ns/packet per case and the
 * ratios of the medians and of the minima (the minimum is the least disturbed by load).
 *   node dist/bench/counters-cost.js BASE_DIR [trials] [packets] [established|methods]
 * (`established`: only the established-flow path, the one most packets take. `methods`: that
 * path once per forwarding method, DR, NAT and TUN, timing BASE_DIR's Dataplane class against
 * this one's over this build's flow table and bench loop, so only the pipeline differs; the
 * trials of the six (method, build) pairs interleave, and min..max of each are printed.)
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Row { description: string; nsPerPacket: number }
type StepModule = typeof import('./dataplane-step.js');
type DataplaneClass = import('./dataplane-step.js').DataplaneClass;

let establishedOnly = false;

function runOnce(step: StepModule, packets: number): Row[] {
  const est = step.measureDataplaneStep(100_000, packets * 4, 1 << 18);
  const row = { description: 'established flows (100k flows)', nsPerPacket: est.nsPerPacket };
  return establishedOnly ? [row] : [row, ...step.measurePipelineCases(packets)];
}

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

/** `methods` mode: established flows per forwarding method, base Dataplane against this one. */
async function compareMethods(base: string, trials: number, packets: number): Promise<void> {
  const step = await import('./dataplane-step.js');
  const { Dataplane } = await import('../src/dataplane/pipeline.js');
  const { FORWARD_DR, FORWARD_NAT, FORWARD_TUN } = await import('../src/dataplane/snapshot.js');
  const baseModule = await import(pathToFileURL(join(base, 'dist', 'src', 'dataplane', 'pipeline.js')).href) as { Dataplane: DataplaneClass };
  const methods = [['DR', FORWARD_DR], ['NAT', FORWARD_NAT], ['TUN', FORWARD_TUN]] as const;
  const builds = [['without', baseModule.Dataplane], ['with', Dataplane as DataplaneClass]] as const;
  const ns = new Map<string, number[]>();
  const cpuNs = new Map<string, number[]>();
  for (let i = 0; i < trials; i++) {
    for (const [name, forward] of methods) {
      // Alternate which build goes first within each method.
      const order = i % 2 === 0 ? builds : [builds[1], builds[0]];
      for (const [build, impl] of order) {
        const r = step.measureDataplaneStep(100_000, packets, 1 << 18, forward, impl);
        const key = `${name} ${build}`;
        ns.set(key, [...(ns.get(key) ?? []), r.nsPerPacket]);
        cpuNs.set(key, [...(cpuNs.get(key) ?? []), r.cpuNsPerPacket]);
      }
    }
  }
  const round = (x: { median: number; min: number; max: number }) => ({ median: +x.median.toFixed(1), min: +x.min.toFixed(1), max: +x.max.toFixed(1) });
  for (const [clock, table] of [['wall', ns], ['cpu', cpuNs]] as const) {
    for (const [name] of methods) {
      const w = stat(table.get(`${name} with`)!);
      const wo = stat(table.get(`${name} without`)!);
      console.log(JSON.stringify({ method: name, clock, trials, without: round(wo), with: round(w),
        medianRatio: +(w.median / wo.median).toFixed(3), minRatio: +(w.min / wo.min).toFixed(3) }));
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const base = process.argv[2];
  if (!base) { process.stderr.write('usage: counters-cost.js BASE_DIR [trials] [packets]\n'); process.exit(2); }
  const trials = Number(process.argv[3] ?? 5);
  const packets = Number(process.argv[4] ?? 200_000);
  establishedOnly = process.argv[5] === 'established';
  if (process.argv[5] === 'methods') { await compareMethods(base, trials, packets); process.exit(0); }
  const without = await import(pathToFileURL(join(base, 'dist', 'bench', 'dataplane-step.js')).href) as StepModule;
  const withCounters = await import('./dataplane-step.js');
  const runs: Record<'without' | 'with', Row[][]> = { without: [], with: [] };
  for (let i = 0; i < trials; i++) {
    // Alternate which goes first, so neither always meets the other's garbage.
    if (i % 2 === 0) { runs.without.push(runOnce(without, packets)); runs.with.push(runOnce(withCounters, packets)); }
    else { runs.with.push(runOnce(withCounters, packets)); runs.without.push(runOnce(without, packets)); }
  }
  const names = runs.with[0].map((r) => r.description);
  for (const [k, name] of names.entries()) {
    const w = stat(runs.with.map((r) => r[k].nsPerPacket));
    const wo = stat(runs.without.map((r) => r[k].nsPerPacket));
    console.log(JSON.stringify({ case: name, without: wo, with: w, medianRatio: +(w.median / wo.median).toFixed(3), minRatio: +(w.min / wo.min).toFixed(3) }));
  }
}
