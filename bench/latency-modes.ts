// Latency and idle CPU of each dataplane.busy_poll mode (issue 18 part 5), over AF_XDP in the
// bench's DR lab. Per trial and mode: a fresh director; UDP request/response pairs through the
// VIP and straight to rs1, back to back with the order alternating (rtt_pair), under 20 kpps of
// background UDP; the director's own residence histogram (ulvs stats); then its CPU time over
// an idle window. Modes alternate within each trial (>= 5 trials), so drift hits them alike.
//
// The added latency is taken per request pair (via - direct of the same moment), and its p50/p99
// are percentiles of those differences: not the difference of two p99s (which is no percentile
// of anything and swings with either side's tail). The pair's own jitter is in it, so the p99
// errs high. Beside it: both end-to-end distributions and the residence p50/p99/p99.9.
// The C reference forwarder (bench/c/ref_forwarder.c: the same AF_XDP socket in copy mode, the
// same XDP steering, poll() when idle, no JavaScript) runs as a fourth row in every trial, so
// each mode's added latency has what this machine and its veth copy mode cost anyway beside it
// (`vs_reference`: per-trial ratios of added p50/p99 to the reference's in the same trial).
//
//   node dist/bench/latency-modes.js [--prefix lat-] [--rounds 5] [--count 3000] [--out FILE]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ECHO_PORT, VIP, directorConfig, setUpLab, startDirectorFromYaml, startReference, tearDownLab, type BenchLab } from './lab.js';
import { processTreeCpuSeconds, runIn, sleep, startIn, TOOLS, ULVS, waitFor, XDP_OBJECT, type Proc } from './sys.js';
import { judge, spreadOf, MIN_TRIALS, type Spread } from './trust.js';

const ULVS_MODES = ['false', 'true', 'adaptive'] as const;
const MODES = [...ULVS_MODES, 'reference'] as const;
type Mode = (typeof MODES)[number];
const BACKGROUND_PPS = 20_000;
const WARMUP_PAIRS = 300;
const IDLE_SECONDS = 2;

interface Trial {
  directP50: number; directP99: number; viaP50: number; viaP99: number;
  addedP50: number; addedP99: number; pairs: number;
  /** The director's own histogram; NaN for the reference, which keeps none. */
  residenceP50: number; residenceP99: number; residenceP999: number;
  idleCpu: number;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** The forwarder a trial measures: a ulvs director in `mode`, or the C reference. */
function startForwarder(lab: BenchLab, mode: Mode): Promise<Proc> {
  if (mode === 'reference') return startReference(lab, XDP_OBJECT, [ECHO_PORT]);
  const yaml = directorConfig(lab, { io: 'afxdp', extraServices: true }).replace('io: afxdp', `io: afxdp, busy_poll: ${mode}`);
  return startDirectorFromYaml(lab, yaml);
}

async function trial(lab: BenchLab, mode: Mode, count: number): Promise<Trial> {
  const n = lab.nodes;
  const director = await startForwarder(lab, mode);
  try {
    const background = startIn(n.client.name, [join(TOOLS, 'sender'), '--if', 'eth0', '--src-mac', n.client.mac, '--dst-mac', n.dir1.mac,
      '--src-ip', n.client.ip, '--dst-ip', VIP, '--dst-port', '9000', '--flows', '1000', '--rate', String(BACKGROUND_PPS), '--seconds', '600']);
    let pairs: { pairs: number; lost: number; a_us: number[]; b_us: number[] };
    try {
      const run = (c: number) => runIn(n.client.name, [join(TOOLS, 'rtt_pair'), '--a', n.rs1.ip, '--b', VIP, '--port', String(ECHO_PORT),
        '--count', String(c), '--interval-us', '300']);
      await run(WARMUP_PAIRS);
      pairs = JSON.parse(await run(count)) as typeof pairs;
    } finally {
      await background.stop();
    }
    if (pairs.pairs < count * 0.9) throw new Error(`${mode}: only ${pairs.pairs} of ${count} pairs answered`);
    const stats = mode === 'reference' ? { residence_p50_us: NaN, residence_p99_us: NaN, residence_p999_us: NaN }
      : JSON.parse(await runIn(n.dir1.name, [process.execPath, ULVS, 'stats', '--json'])) as Record<string, number>;
    await sleep(500);
    const cpu0 = processTreeCpuSeconds(director.pid);
    const t0 = performance.now();
    await sleep(IDLE_SECONDS * 1000);
    const idleCpu = (processTreeCpuSeconds(director.pid) - cpu0) / ((performance.now() - t0) / 1000);
    const a = sorted(pairs.a_us), b = sorted(pairs.b_us);
    const added = sorted(pairs.b_us.map((v, i) => v - pairs.a_us[i]));
    return {
      directP50: quantile(a, 0.5), directP99: quantile(a, 0.99), viaP50: quantile(b, 0.5), viaP99: quantile(b, 0.99),
      addedP50: quantile(added, 0.5), addedP99: quantile(added, 0.99), pairs: pairs.pairs,
      residenceP50: stats.residence_p50_us, residenceP99: stats.residence_p99_us, residenceP999: stats.residence_p999_us,
      idleCpu: Number(idleCpu.toFixed(4)),
    };
  } finally {
    await director.stop();
  }
}

const round1 = (x: number): number => Number(x.toFixed(1));

async function main(): Promise<void> {
  const opts = new Command().option('--prefix <p>', 'lab prefix', 'lat-').option('--rounds <n>', 'interleaved trials', String(MIN_TRIALS))
    .option('--count <n>', 'request pairs per trial', '3000').option('--out <file>', 'JSON results', 'bench/results/latency-modes.json')
    .parse().opts<{ prefix: string; rounds: string; count: string; out: string }>();
  const rounds = Number(opts.rounds), count = Number(opts.count);
  const lab = await setUpLab(opts.prefix, false);
  const n = lab.nodes;
  const echoes = (['rs1', 'rs2', 'rs3'] as const).map((r) => startIn(n[r].name, [join(TOOLS, 'sink'), '--echo', String(ECHO_PORT), '--seconds', '3600']));
  const trials: Record<Mode, Trial[]> = { false: [], true: [], adaptive: [], reference: [] };
  try {
    await Promise.all(echoes.map((e) => waitFor(e, 'sink ready', 10_000)));
    for (let r = 1; r <= rounds; r++) {
      for (const mode of MODES) {
        process.stderr.write(`latency-modes: ${mode === 'reference' ? 'C reference' : `busy_poll ${mode}`} (trial ${r}/${rounds})\n`);
        trials[mode].push(await trial(lab, mode, count));
      }
    }
  } finally {
    await Promise.all(echoes.map((e) => e.stop()));
    await tearDownLab(opts.prefix);
  }
  const figure = (mode: Mode, key: keyof Trial, latency = false): Spread & { unreliable?: string[] } => {
    const samples = trials[mode].map((t) => t[key]);
    const v = judge({ samples, unit: key === 'idleCpu' ? 's/s' : 'µs', latency });
    const s = spreadOf(samples);
    return { median: key === 'idleCpu' ? Number(s.median.toFixed(3)) : round1(s.median), min: s.min, max: s.max, n: s.n,
      ...(v.reliable ? {} : { unreliable: v.reasons }) };
  };
  // Per trial: this mode's figure over the reference's of the same trial (ratios, as run.ts's).
  const versusReference = (mode: Mode, key: 'addedP50' | 'addedP99'): Spread & { unreliable?: string[] } => {
    const samples = trials[mode].map((t, i) => t[key] / trials.reference[i][key]);
    const v = judge({ samples, unit: 'ratio' });
    const s = spreadOf(samples);
    return { median: Number(s.median.toFixed(2)), min: Number(s.min.toFixed(2)), max: Number(s.max.toFixed(2)), n: s.n,
      ...(v.reliable ? {} : { unreliable: v.reasons }) };
  };
  const out = {
    date: new Date().toISOString(), rounds, pairsPerTrial: count, backgroundPps: BACKGROUND_PPS,
    method: 'per-pair added latency (via VIP - direct, back to back, order alternating); residence from the director histogram; idle CPU = director process tree CPU s per s, no traffic; reference = the C AF_XDP forwarder in the same trials, vs_reference = per-trial ratios to it',
    modes: Object.fromEntries(MODES.map((m) => [m, {
      added_latency_p50_us: figure(m, 'addedP50', true), added_latency_p99_us: figure(m, 'addedP99', true),
      direct_p50_us: figure(m, 'directP50'), direct_p99_us: figure(m, 'directP99'), via_p50_us: figure(m, 'viaP50'), via_p99_us: figure(m, 'viaP99'),
      ...(m === 'reference' ? {} : {
        residence_p50_us: figure(m, 'residenceP50'), residence_p99_us: figure(m, 'residenceP99'), residence_p999_us: figure(m, 'residenceP999'),
        added_p50_vs_reference: versusReference(m, 'addedP50'), added_p99_vs_reference: versusReference(m, 'addedP99'),
      }),
      idle_cpu_s_per_s: figure(m, 'idleCpu'), trials: trials[m],
    }])),
  };
  writeFileSync(opts.out, JSON.stringify(out, null, 2) + '\n');
  for (const m of MODES) {
    const f = out.modes[m] as unknown as Record<string, Spread & { unreliable?: string[] }>;
    const show = (k: string) => `${f[k].median} (${f[k].min}-${f[k].max})${f[k].unreliable ? ' unreliable' : ''}`;
    const own = m === 'reference' ? '' : `residence p50 ${show('residence_p50_us')} p99 ${show('residence_p99_us')} p99.9 ${show('residence_p999_us')} µs; ` +
      `added vs reference p50 ${show('added_p50_vs_reference')} p99 ${show('added_p99_vs_reference')}; `;
    console.log(`${m === 'reference' ? 'C reference' : `busy_poll ${m}`}: added p50 ${show('added_latency_p50_us')} µs, p99 ${show('added_latency_p99_us')} µs; ` +
      own + `direct p99 ${show('direct_p99_us')}, via p99 ${show('via_p99_us')} µs; idle CPU ${show('idle_cpu_s_per_s')} s/s`);
  }
  console.log(`wrote ${opts.out}`);
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
