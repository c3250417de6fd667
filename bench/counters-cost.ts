/**
 * What the per-service and per-real-server counters cost the dataplane: the same measurements
 * (measureDataplaneStep over established flows, measurePipelineCases) from two builds, this one
 * and a checkout without the counters (its dist/ built), in alternating child processes so
 * both see the same machine load. Prints median, min and max ns/packet per case and the
 * ratio of the medians.
 *   node dist/bench/counters-cost.js BASE_DIR [trials] [packets]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Row { description: string; nsPerPacket: number }

function runOnce(root: string, packets: number): Row[] {
  const step = join(root, 'dist', 'bench', 'dataplane-step.js');
  const cases = execFileSync(process.execPath, [step, 'cases', String(packets)], { encoding: 'utf8' })
    .trim().split('\n').map((l) => JSON.parse(l) as Row);
  const est = JSON.parse(execFileSync(process.execPath, [step, '100000', String(packets * 4)], { encoding: 'utf8' })) as { nsPerPacket: number };
  return [{ description: 'established flows (100k flows)', nsPerPacket: est.nsPerPacket }, ...cases];
}

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const base = process.argv[2];
  if (!base) { process.stderr.write('usage: counters-cost.js BASE_DIR [trials] [packets]\n'); process.exit(2); }
  const trials = Number(process.argv[3] ?? 5);
  const packets = Number(process.argv[4] ?? 200_000);
  const here = join(fileURLToPath(import.meta.url), '..', '..', '..');
  const runs: Record<'without' | 'with', Row[][]> = { without: [], with: [] };
  for (let i = 0; i < trials; i++) {
    runs.without.push(runOnce(base, packets));
    runs.with.push(runOnce(here, packets));
  }
  const names = runs.with[0].map((r) => r.description);
  for (const [k, name] of names.entries()) {
    const w = stat(runs.with.map((r) => r[k].nsPerPacket));
    const wo = stat(runs.without.map((r) => r[k].nsPerPacket));
    console.log(JSON.stringify({ case: name, without: wo, with: w, ratio: +(w.median / wo.median).toFixed(3) }));
  }
}
