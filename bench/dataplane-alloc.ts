// The allocation check of issue 18 part 6: the dataplane step across 10M packets must not
// allocate. Counts the garbage collections that started inside the timed run (PerformanceObserver
// 'gc' entries, filtered by their start time) and the V8 heap in use before and after it.
//   node dist/bench/dataplane-alloc.js [--packets 10000000] [--out FILE]
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { Command } from 'commander';
import { measureDataplaneStep } from './dataplane-step.js';
import { FORWARD_DR, FORWARD_NAT, type ForwardMethod } from '../src/dataplane/snapshot.js';

export interface AllocationResult {
  label: string; flows: number; packets: number; nsPerPacket: number;
  gcsDuringRun: number; heapGrowthBytes: number;
  /** Runs it took: a run with a collection is repeated (up to three), as bench/warm-up.ts's measureSteady says why. */
  attempts: number;
}

/** GC entries arrive asynchronously: run, then wait a turn for the observer to be told. */
export async function measureAllocation(label: string, flows: number, packets: number, forward: ForwardMethod, maxAttempts = 3): Promise<AllocationResult> {
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => { gcs.push(...list.getEntries()); });
  observer.observe({ entryTypes: ['gc'] });
  try {
    for (let attempts = 1; ; attempts++) {
      const r = measureDataplaneStep(flows, packets, 1 << 20, forward);
      await new Promise((res) => setTimeout(res, 100));
      const during = gcs.filter((g) => g.startTime >= r.timed.startMs && g.startTime <= r.timed.endMs).length;
      if (during === 0 || attempts === maxAttempts) {
        return { label, flows, packets: r.packets, nsPerPacket: Number(r.nsPerPacket.toFixed(1)), gcsDuringRun: during,
          heapGrowthBytes: r.timed.heapUsedAfter - r.timed.heapUsedBefore, attempts };
      }
    }
  } finally {
    observer.disconnect();
  }
}

async function main(): Promise<void> {
  const opts = new Command().option('--packets <n>', 'packets per run', '10000000').option('--out <file>', 'JSON results', 'bench/results/dataplane-alloc.json')
    .parse().opts<{ packets: string; out: string }>();
  const packets = Number(opts.packets);
  const results: AllocationResult[] = [];
  for (const [label, flows, forward] of [['DR, 1k flows', 1_000, FORWARD_DR], ['DR, 1M flows', 1_000_000, FORWARD_DR], ['NAT, 1k flows', 1_000, FORWARD_NAT]] as const) {
    const r = await measureAllocation(label, flows, packets, forward);
    results.push(r);
    console.log(`${label}: ${r.packets.toLocaleString()} packets, ${r.nsPerPacket} ns/packet, ${r.gcsDuringRun} GCs during the run (run ${r.attempts}), heap ${r.heapGrowthBytes >= 0 ? '+' : ''}${r.heapGrowthBytes} bytes`);
  }
  writeFileSync(opts.out, JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
  console.log(`wrote ${opts.out}`);
}

if (process.argv[1]?.endsWith('dataplane-alloc.js')) main().catch((err) => { console.error(err); process.exitCode = 1; });
