// The measurements. Each experiment yields one or more figures (keys from issue 7); the
// harness runs each in its own try/catch so that one failing leaves the others standing.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureDataplaneStep, measurePipelineCases } from './dataplane-step.js';
import { measureFailover } from './failover.js';
import {
  BENCH_PREFIX, ECHO_PORT, HTTP_PORT, MANY_FLOWS_SOURCE, VIP, processCpuPerPacketUs, setUpLab, startDirector, startKernelNat, startReference,
  tearDownLab, traffic, type BenchLab, type TrafficResult,
} from './lab.js';
import { failed, ok, ratio, trusted, type Figure } from './report.js';
import { historyValues, type History } from './trust.js';
import { processTreeCpuSeconds, runBenchScript, runIn, startIn, tail, TOOLS, waitFor, XDP_OBJECT, type Proc } from './sys.js';
import { syncExperiment } from './sync-experiment.js';
import { FlowTable } from '../src/conntrack/flow-table.js';

export interface RunContext {
  quick: boolean;
  /** Seconds per traffic run. */
  seconds: number;
  /** Interleaved trials per contender (>= trust.ts MIN_TRIALS; the median is the figure). */
  rounds: number;
  /** The alternatives' past absolute figures (bench/results/history.json), judged against. */
  history: History;
  progress(message: string): void;
  /** The lab the experiment needs, built on first use and shared with the next ones. */
  lab(nat: boolean): Promise<BenchLab>;
}

export interface Experiment {
  name: string;
  figures: string[];
  /** Needs a lab: 'dr', 'nat', or none. */
  lab: 'dr' | 'nat' | null;
  run(ctx: RunContext): Promise<Record<string, Figure>>;
}

const FIXED_RATE = 100_000;
const MANY_FLOWS = 1000;

async function withProc<T>(start: Promise<Proc>, body: (p: Proc) => Promise<T>): Promise<T> {
  const proc = await start;
  try {
    return await body(proc);
  } finally {
    await proc.stop();
  }
}

function summary(r: TrafficResult): Record<string, number> {
  return { sent: r.sent, delivered: r.delivered, seconds: Number(r.seconds.toFixed(3)), pps: Math.round(r.pps),
    busyCpuSeconds: Number(r.busySeconds.toFixed(3)), processCpuSeconds: Number(r.processSeconds.toFixed(3)) };
}

interface Contender<T> { label: string; run: () => Promise<T> }

/**
 * Runs every contender once per trial, interleaved (ulvs and its alternatives alternating) so
 * that drift in the machine's load hits them alike; every run is kept, in trial order, so a
 * ratio is taken per trial and the figure is the median of those (trust.ts).
 */
async function interleaved<T>(ctx: RunContext, name: string, contenders: Contender<T>[]): Promise<T[][]> {
  const runs: T[][] = contenders.map(() => []);
  for (let round = 1; round <= ctx.rounds; round++) {
    for (const [i, c] of contenders.entries()) {
      ctx.progress(`${name}: ${c.label} (trial ${round}/${ctx.rounds})`);
      runs[i].push(await c.run());
    }
  }
  return runs;
}

/** Per-trial ratios a[i] / b[i]. */
function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => ratio(x, b[i]));
}

const median = (xs: readonly number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1];

/** The run whose value is the median (for its absolute numbers in bars and details). */
function medianRun<T>(runs: readonly T[], value: (r: T) => number): T {
  const m = median(runs.map(value));
  return runs.find((r) => value(r) === m)!;
}

/** History key of the C reference's own CPU per packet (DR, fixed rate). */
export const REFERENCE_CPU_HISTORY = 'dr_reference_cpu_us_per_packet';

const dataplane: Experiment = {
  name: 'dataplane',
  figures: ['dataplane_ns_per_packet_1k', 'dataplane_ns_per_packet_1m', 'bytes_per_flow'],
  lab: null,
  async run(ctx) {
    const packets = ctx.quick ? 2_000_000 : 10_000_000;
    // CPU-bound and single-threaded: the median of the trials, the two table sizes alternating.
    const sizes = [1_000, 1_000_000];
    const [smallRuns, largeRuns] = await interleaved(ctx, 'dataplane step', sizes.map((flows) => ({
      label: `${flows.toLocaleString()} flows, ${packets.toLocaleString()} packets`, run: async () => measureDataplaneStep(flows, packets),
    })));
    const pick = (runs: typeof smallRuns) => ({ ...medianRun(runs, (r) => r.nsPerPacket), nsOfEveryRun: runs.map((r) => Number(r.nsPerPacket.toFixed(1))) });
    const small = pick(smallRuns);
    const large = pick(largeRuns);
    ctx.progress('dataplane step, each pipeline fixture case (the paths the tests check)');
    // One run per case, in the 1k figure's details: what each tested path costs.
    const pipelineCases = measurePipelineCases(ctx.quick ? 200_000 : 1_000_000)
      .map((r) => ({ case: r.description, nsPerPacket: Number(r.nsPerPacket.toFixed(1)) }));
    const table = new FlowTable({ capacity: 1 << 20 });
    const mem = table.memory();
    const bar = (r: typeof small, label: string) => ({ label, value: r.nsPerPacket, unit: 'ns/packet' });
    return {
      dataplane_ns_per_packet_1k: trusted(this.name, 'dataplane_ns_per_packet_1k', { samples: smallRuns.map((r) => r.nsPerPacket), unit: 'ns' },
        [bar(small, 'ulvs, 1k flows')], { ...small, pipelineCases }),
      dataplane_ns_per_packet_1m: trusted(this.name, 'dataplane_ns_per_packet_1m', { samples: largeRuns.map((r) => r.nsPerPacket), unit: 'ns' },
        [bar(small, 'ulvs, 1k flows'), bar(large, 'ulvs, 1M flows')], { ...large }),
      bytes_per_flow: ok(this.name, mem.bytesPerFlow, 'bytes', [{ label: 'ulvs flow table', value: mem.bytesPerFlow, unit: 'bytes/flow' }],
        'bytes_per_flow', { capacity: table.capacity, totalBytes: mem.totalBytes,
          note: 'FlowTable.memory() at the default conn_table_size; the dataplane adds 2 bytes/flow (the flow -> hop index)' }),
    };
  },
};

const drPps: Experiment = {
  name: 'dr_pps',
  figures: ['dr_pps_afxdp', 'dr_pps_tap', 'dr_pps_vs_reference'],
  lab: 'dr',
  async run(ctx) {
    const lab = await ctx.lab(false);
    const n = lab.nodes;
    const toDirector = { dstMacs: [n.dir1.mac], flows: MANY_FLOWS, rate: 0, seconds: ctx.seconds };
    const traced = (p: Proc) => traffic(lab, { ...toDirector, watchPid: p.pid });
    const runs = await interleaved(ctx, 'dr_pps', [
      { label: 'sender straight to the sinks', run: () => traffic(lab, { ...toDirector, dstMacs: [n.rs1.mac, n.rs2.mac, n.rs3.mac] }) },
      { label: 'C reference forwarder', run: () => withProc(startReference(lab, XDP_OBJECT), traced) },
      { label: 'ulvs over AF_XDP', run: () => withProc(startDirector(lab, { io: 'afxdp' }), traced) },
      { label: 'ulvs over TAP', run: () => withProc(startDirector(lab, { io: 'tap' }), traced) },
    ]);
    const pps = runs.map((list) => list.map((r) => r.pps));
    const [direct, ref, afxdp, tap] = runs.map((list) => medianRun(list, (r) => r.pps));
    const all = Object.fromEntries(['direct', 'reference', 'afxdp', 'tap'].map((k, i) => [k, pps[i].map(Math.round)]));
    const cores = (r: TrafficResult) => ({ directorCpuCores: r.processSeconds / r.seconds, machineBusyCores: r.busySeconds / r.seconds });
    const bars = [
      { label: 'sender -> sinks', value: direct.pps, unit: 'pps' },
      { label: 'C reference', value: ref.pps, unit: 'pps' },
      { label: 'ulvs AF_XDP', value: afxdp.pps, unit: 'pps' },
      { label: 'ulvs TAP', value: tap.pps, unit: 'pps' },
    ];
    return {
      dr_pps_afxdp: trusted(this.name, 'dr_pps_afxdp', { samples: pps[2], unit: 'pps' }, bars.slice(2, 3).concat([{ label: 'ulvs AF_XDP director CPU', value: cores(afxdp).directorCpuCores, unit: 'cores' },
        { label: 'machine busy', value: cores(afxdp).machineBusyCores, unit: 'cores' }]), { ...summary(afxdp), ...cores(afxdp) }),
      dr_pps_tap: trusted(this.name, 'dr_pps_tap', { samples: pps[3], unit: 'pps' }, bars.slice(3, 4).concat([{ label: 'ulvs TAP director CPU', value: cores(tap).directorCpuCores, unit: 'cores' },
        { label: 'machine busy', value: cores(tap).machineBusyCores, unit: 'cores' }]), { ...summary(tap), ...cores(tap) }),
      dr_pps_vs_reference: trusted(this.name, 'dr_pps_vs_reference', { samples: ratios(pps[2], pps[1]), unit: 'ratio' }, bars,
        { direct: summary(direct), reference: { ...summary(ref), ...cores(ref) }, ulvs: summary(afxdp), ppsOfEveryRound: all }),
    };
  },
};

const drCpu: Experiment = {
  name: 'dr_cpu',
  figures: ['dr_cpu_per_packet_vs_reference'],
  lab: 'dr',
  async run(ctx) {
    const lab = await ctx.lab(false);
    const n = lab.nodes;
    // The same offered load for both, below the sender's limit (it reaches ~300 kpps here), so
    // CPU per packet compares equal work; each side's own process tree (threads and children).
    const load = { dstMacs: [n.dir1.mac], flows: MANY_FLOWS, rate: FIXED_RATE, seconds: ctx.seconds };
    const [refRuns, ulvsRuns] = await interleaved(ctx, `dr_cpu at ${FIXED_RATE / 1000} kpps`, [
      { label: 'C reference', run: () => withProc(startReference(lab, XDP_OBJECT), (p) => traffic(lab, { ...load, watchPid: p.pid })) },
      { label: 'ulvs AF_XDP', run: () => withProc(startDirector(lab, { io: 'afxdp' }), (p) => traffic(lab, { ...load, watchPid: p.pid })) },
    ]);
    const refUs = refRuns.map(processCpuPerPacketUs);
    const ulvsUs = ulvsRuns.map(processCpuPerPacketUs);
    const refMedian = median(refUs);
    const loadTrials = [...refRuns.map((r, i) => ({ r, label: `reference trial ${i + 1}` })), ...ulvsRuns.map((r, i) => ({ r, label: `ulvs trial ${i + 1}` }))]
      .map(({ r, label }) => ({ label, offeredPps: r.sent / r.seconds, deliveredPps: r.pps }));
    const figure = trusted(this.name, 'dr_cpu_per_packet_vs_reference', {
      samples: ratios(ulvsUs, refUs), unit: 'ratio',
      reference: { label: 'C reference CPU per packet (µs)', value: refMedian, history: historyValues(ctx.history, REFERENCE_CPU_HISTORY) },
      load: { rate: FIXED_RATE, trials: loadTrials },
    }, [
      { label: 'C reference', value: refMedian, unit: 'µs CPU/packet' },
      { label: 'ulvs AF_XDP', value: median(ulvsUs), unit: 'µs CPU/packet' },
    ], { rate: FIXED_RATE, method: 'process tree CPU (utime+stime, threads and children) / delivered packets',
      refUsOfEveryTrial: refUs, ulvsUsOfEveryTrial: ulvsUs, samples: refRuns.map((r, i) => ({ reference: summary(r), ulvs: summary(ulvsRuns[i]) })) });
    // Only a plausible reference joins its history (run.ts writes it): a broken one must not move it.
    if (figure.status === 'ok') figure.details = { ...figure.details, history: { [REFERENCE_CPU_HISTORY]: refMedian } };
    return { dr_cpu_per_packet_vs_reference: figure };
  },
};

export { processCpuPerPacketUs };

const conntrackScale: Experiment = {
  name: 'conntrack_scale',
  figures: ['cpu_per_packet_1m_vs_1k'],
  lab: 'dr',
  async run(ctx) {
    const lab = await ctx.lab(false);
    const n = lab.nodes;
    const measure = async (flows: number): Promise<{ us: number; run: TrafficResult; fill: TrafficResult }> =>
      withProc(startDirector(lab, { io: 'afxdp', connTableSize: 1 << 21 }), async (p) => {
        ctx.progress(`conntrack_scale: filling the table with ${flows.toLocaleString()} flows`);
        const fillSeconds = Math.max(1, Math.ceil(flows / 150_000));
        const fill = await traffic(lab, { dstMacs: [n.dir1.mac], flows, rate: Math.max(1000, Math.ceil(flows / fillSeconds)) , seconds: fillSeconds,
          srcIp: MANY_FLOWS_SOURCE, watchPid: p.pid });
        ctx.progress(`conntrack_scale: ${FIXED_RATE / 1000} kpps over ${flows.toLocaleString()} known flows`);
        const run = await traffic(lab, { dstMacs: [n.dir1.mac], flows, rate: FIXED_RATE, seconds: ctx.seconds, srcIp: MANY_FLOWS_SOURCE,
          firstFlow: 0, watchPid: p.pid });
        return { us: (run.processSeconds / run.delivered) * 1e6, run, fill };
      });
    const small = await measure(1_000);
    const large = await measure(1_000_000);
    return {
      cpu_per_packet_1m_vs_1k: ok(this.name, ratio(large.us, small.us), 'ratio', [
        { label: 'ulvs, 1k flows', value: small.us, unit: 'µs CPU/packet' },
        { label: 'ulvs, 1M flows', value: large.us, unit: 'µs CPU/packet' },
      ], 'cpu_per_packet_1m_vs_1k', { measure: 'director process CPU / delivered packets', small: { ...summary(small.run), fill: summary(small.fill) },
        large: { ...summary(large.run), fill: summary(large.fill) } }),
    };
  },
};

interface RttResult { count: number; lost: number; p50_us: number; p99_us: number; mean_us: number }

const latency: Experiment = {
  name: 'latency',
  figures: ['added_latency_p50_us', 'added_latency_p99_us'],
  lab: 'dr',
  async run(ctx) {
    const lab = await ctx.lab(false);
    const n = lab.nodes;
    const count = ctx.quick ? 2000 : 10000;
    const echoes = (['rs1', 'rs2', 'rs3'] as const).map((r) => startIn(n[r].name, [join(TOOLS, 'sink'), '--echo', String(ECHO_PORT), '--seconds', '600']));
    try {
      await Promise.all(echoes.map((e) => waitFor(e, 'sink ready', 10_000)));
      return await withProc(startDirector(lab, { io: 'afxdp', extraServices: true }), async () => {
        // Moderate load: 20 kpps of background UDP through the director during both runs.
        const rtt = async (dst: string): Promise<RttResult> => {
          const background = startIn(n.client.name, [join(TOOLS, 'sender'), '--if', 'eth0', '--src-mac', n.client.mac, '--dst-mac', n.dir1.mac,
            '--src-ip', n.client.ip, '--dst-ip', VIP, '--dst-port', '9000', '--flows', '1000', '--rate', '20000', '--seconds', '600']);
          try {
            return JSON.parse(await runIn(n.client.name, [join(TOOLS, 'rtt'), '--dst', dst, '--port', String(ECHO_PORT), '--count', String(count),
              '--interval-us', '300'])) as RttResult;
          } finally {
            await background.stop();
          }
        };
        // Interleaved trials; the added latency is taken per trial (via - direct) and the figure
        // is the median of those; a negative one marks the figure unreliable (trust.ts).
        const [directs, vias] = await interleaved(ctx, `latency (${count} UDP round trips)`, [
          { label: 'straight to rs1', run: () => rtt(n.rs1.ip) },
          { label: 'through the VIP, ulvs DR', run: () => rtt(VIP) },
        ]);
        const lossy = [...directs, ...vias].find((r) => r.count < count * 0.9);
        if (lossy) throw new Error(`too many lost round trips (${lossy.lost} of ${count} in a trial)`);
        const added = (p: 'p50_us' | 'p99_us') => vias.map((v, i) => v[p] - directs[i][p]);
        const direct = medianRun(directs, (r) => r.p99_us), via = medianRun(vias, (r) => r.p99_us);
        const bars = (p: 'p50_us' | 'p99_us') => [
          { label: 'direct to rs1', value: direct[p], unit: 'µs' },
          { label: 'ulvs DR via VIP', value: via[p], unit: 'µs' },
        ];
        return {
          added_latency_p50_us: trusted(this.name, 'added_latency_p50_us', { samples: added('p50_us'), unit: 'µs', latency: true }, bars('p50_us'),
            { direct, via, backgroundPps: 20000, rounds: { directs, vias } }),
          added_latency_p99_us: trusted(this.name, 'added_latency_p99_us', { samples: added('p99_us'), unit: 'µs', latency: true }, bars('p99_us'),
            { direct, via, backgroundPps: 20000 }),
        };
      });
    } finally {
      await Promise.all(echoes.map((e) => e.stop()));
    }
  },
};

interface WrkResult { rps: number; requests: number; p99Ms: number; errors: number }

/** wrk's text output -> requests/s, request count, p99 latency. */
export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const requests = /(\d+) requests in/.exec(text);
  const p99 = /\n\s*99%\s+([\d.]+)(us|ms|s)\b/.exec(text);
  if (!rps || !requests || !p99) throw new Error(`cannot read wrk's output: ${text.slice(0, 400)}`);
  const scale = { us: 1e-3, ms: 1, s: 1000 }[p99[2] as 'us' | 'ms' | 's'];
  const errors = /Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?(\d+)/.exec(text);
  return { rps: Number(rps[1]), requests: Number(requests[1]), p99Ms: Number(p99[1]) * scale, errors: errors ? Number(errors[1] ?? errors[2]) : 0 };
}

function nginxConfig(dir: string, name: string): string {
  return `worker_processes 1;
pid ${dir}/nginx-${name}.pid;
error_log ${dir}/nginx-${name}.error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/${name}-body; proxy_temp_path ${dir}/${name}-proxy; fastcgi_temp_path ${dir}/${name}-fcgi;
  uwsgi_temp_path ${dir}/${name}-uwsgi; scgi_temp_path ${dir}/${name}-scgi;
  keepalive_requests 1000000;
  server { listen ${HTTP_PORT}; location / { return 200 "${name}\\n"; } }
}
`;
}

function haproxyConfig(lab: BenchLab): string {
  const n = lab.nodes;
  return `global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bench
  bind ${n.dir1.ip}:${HTTP_PORT}
  default_backend rs
backend rs
  balance roundrobin
${(['rs1', 'rs2', 'rs3'] as const).map((r) => `  server ${r} ${n[r].ip}:${HTTP_PORT}`).join('\n')}
`;
}

const http: Experiment = {
  name: 'http',
  figures: ['http_rps_vs_haproxy', 'http_rps_vs_direct', 'http_p99_ms', 'http_cpu_s_per_10k_requests'],
  lab: 'dr',
  async run(ctx) {
    for (const tool of ['wrk', 'nginx', 'haproxy']) {
      const path = ['/usr/bin', '/usr/sbin'].map((d) => join(d, tool)).find((p) => existsSync(p));
      if (!path) throw new Error(`${tool} is missing: apt-get install -y ${tool} (or bash scripts/setup.sh)`);
    }
    const lab = await ctx.lab(false);
    const n = lab.nodes;
    const dir = mkdtempSync(join(tmpdir(), 'ulvs-bench-http-'));
    const servers = (['rs1', 'rs2', 'rs3'] as const).map((r) => {
      writeFileSync(join(dir, `${r}.conf`), nginxConfig(dir, r));
      return startIn(n[r].name, ['nginx', '-c', join(dir, `${r}.conf`), '-p', dir, '-g', 'daemon off;']);
    });
    const seconds = Math.max(3, ctx.seconds);
    const wrk = async (url: string): Promise<WrkResult> =>
      parseWrk(await runIn(n.client.name, ['wrk', '-t1', '-c32', `-d${seconds}s`, '--latency', url], (seconds + 30) * 1000));
    try {
      // nginx has no "ready" line: wait until rs1 answers.
      for (let i = 0; ; i++) {
        const r = await runIn(n.client.name, ['curl', '-s', '-m', '1', `http://${n.rs1.ip}:${HTTP_PORT}/`]).catch(() => '');
        if (r === 'rs1\n') break;
        if (i > 50) throw new Error(`nginx did not answer: ${servers[0].output()}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const viaHaproxy = () => withProc((async () => {
        writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(lab));
        const p = startIn(n.dir1.name, ['haproxy', '-f', join(dir, 'haproxy.cfg'), '-db']);
        for (let i = 0; ; i++) {
          const r = await runIn(n.client.name, ['curl', '-s', '-m', '1', `http://${n.dir1.ip}:${HTTP_PORT}/`]).catch(() => '');
          if (r.startsWith('rs')) break;
          if (i > 50) { await p.stop(); throw new Error(`haproxy did not answer: ${p.output()}`); }
          await new Promise((res) => setTimeout(res, 100));
        }
        return p;
      })(), async (p) => {
        const cpu0 = processTreeCpuSeconds(p.pid);
        const r = await wrk(`http://${n.dir1.ip}:${HTTP_PORT}/`);
        return { ...r, cpu: processTreeCpuSeconds(p.pid) - cpu0 };
      });
      const viaUlvs = () => withProc(startDirector(lab, { io: 'afxdp', extraServices: true }), async (p) => {
        const cpu0 = processTreeCpuSeconds(p.pid);
        const r = await wrk(`http://${VIP}:${HTTP_PORT}/`);
        return { ...r, cpu: processTreeCpuSeconds(p.pid) - cpu0 };
      });
      // Interleaved trials; ratios per trial, the figure their median.
      type Run = WrkResult & { cpu: number };
      const [directRuns, haproxyRuns, ulvsRuns] = await interleaved<Run>(ctx, 'http: wrk', [
        { label: 'straight to rs1', run: async () => ({ ...(await wrk(`http://${n.rs1.ip}:${HTTP_PORT}/`)), cpu: 0 }) },
        { label: 'through haproxy (TCP mode) on dir1', run: viaHaproxy },
        { label: 'through the VIP, ulvs DR over AF_XDP', run: viaUlvs },
      ]);
      const runs = { direct: directRuns, haproxy: haproxyRuns, ulvs: ulvsRuns };
      const mid = (list: Run[]) => medianRun(list, (r) => r.rps);
      const direct = mid(directRuns), haproxy = mid(haproxyRuns), ulvs = mid(ulvsRuns);
      const rps = (list: Run[]) => list.map((r) => r.rps);
      const per10k = (r: { cpu: number; requests: number }) => (r.cpu / r.requests) * 10_000;
      const rpsBars = [
        { label: 'direct to rs1', value: direct.rps, unit: 'req/s' },
        { label: 'haproxy (TCP)', value: haproxy.rps, unit: 'req/s' },
        { label: 'ulvs DR', value: ulvs.rps, unit: 'req/s' },
      ];
      const details = { wrk: `wrk -t1 -c32 -d${seconds}s --latency`, direct, haproxy, ulvs,
        rpsOfEveryRound: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((r) => r.rps)])) };
      return {
        http_rps_vs_haproxy: trusted(this.name, 'http_rps_vs_haproxy', { samples: ratios(rps(ulvsRuns), rps(haproxyRuns)), unit: 'ratio' }, rpsBars, details),
        http_rps_vs_direct: trusted(this.name, 'http_rps_vs_direct', { samples: ratios(rps(ulvsRuns), rps(directRuns)), unit: 'ratio' }, rpsBars, details),
        http_p99_ms: ok(this.name, ulvs.p99Ms, 'ms', [
          { label: 'direct to rs1', value: direct.p99Ms, unit: 'ms' },
          { label: 'haproxy (TCP)', value: haproxy.p99Ms, unit: 'ms' },
          { label: 'ulvs DR', value: ulvs.p99Ms, unit: 'ms' },
        ], 'http_p99_ms', { direct: direct.p99Ms, haproxy: haproxy.p99Ms, ulvs: ulvs.p99Ms }),
        http_cpu_s_per_10k_requests: ok(this.name, ratio(per10k(ulvs), per10k(haproxy)), 'ratio', [
          { label: 'haproxy (TCP)', value: per10k(haproxy), unit: 'CPU s/10k req' },
          { label: 'ulvs DR', value: per10k(ulvs), unit: 'CPU s/10k req' },
        ], 'http_cpu_s_per_10k_requests', { ulvs: per10k(ulvs), haproxy: per10k(haproxy) }),
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop('SIGQUIT')));
    }
  },
};

const natPps: Experiment = {
  name: 'nat_pps',
  figures: ['nat_pps_vs_reference', 'nat_pps_vs_kernel'],
  lab: 'nat',
  async run(ctx) {
    const lab = await ctx.lab(true);
    const n = lab.nodes;
    const load = { dstMacs: [n.dir1.mac], flows: MANY_FLOWS, rate: 0, seconds: ctx.seconds };
    const natReady = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].some((p) => existsSync(p));
    // The kernel's side fails on its own (nft missing, ruleset refused): ulvs vs reference stands.
    let kernelError: Error | null = natReady ? null : new Error('nft is missing: apt-get install -y nftables (or bash scripts/setup.sh)');
    const kernelRun = async (): Promise<TrafficResult> => {
      if (kernelError) return { sent: 0, delivered: 0, seconds: 1, pps: 0, busySeconds: 0, processSeconds: 0 };
      try {
        const stopNat = await startKernelNat(lab);
        try {
          return await traffic(lab, load);
        } finally {
          await stopNat();
        }
      } catch (error) {
        kernelError = error instanceof Error ? error : new Error(String(error));
        return { sent: 0, delivered: 0, seconds: 1, pps: 0, busySeconds: 0, processSeconds: 0 };
      }
    };
    const natRuns = await interleaved(ctx, 'nat_pps', [
      { label: 'C reference forwarder (NAT)', run: () => withProc(startReference(lab, XDP_OBJECT), (p) => traffic(lab, { ...load, watchPid: p.pid })) },
      { label: 'kernel forwarding with nftables DNAT', run: kernelRun },
      { label: 'ulvs NAT over AF_XDP', run: () => withProc(startDirector(lab, { io: 'afxdp' }), (p) => traffic(lab, { ...load, watchPid: p.pid })) },
    ]);
    const pps = natRuns.map((list) => list.map((r) => r.pps));
    const [ref, kernelMid, ulvs] = natRuns.map((list) => medianRun(list, (r) => r.pps));
    const all = Object.fromEntries(['reference', 'kernel', 'ulvs'].map((k, i) => [k, pps[i].map(Math.round)]));
    const kernel: TrafficResult | Error = kernelError ?? kernelMid;
    const bars = [
      { label: 'C reference', value: ref.pps, unit: 'pps' },
      ...(kernel instanceof Error ? [] : [{ label: 'kernel nftables DNAT', value: kernel.pps, unit: 'pps' }]),
      { label: 'ulvs NAT AF_XDP', value: ulvs.pps, unit: 'pps' },
    ];
    const details = { reference: summary(ref), kernel: kernel instanceof Error ? kernel.message : summary(kernel), ulvs: summary(ulvs), ppsOfEveryRound: all };
    return {
      nat_pps_vs_reference: trusted(this.name, 'nat_pps_vs_reference', { samples: ratios(pps[2], pps[0]), unit: 'ratio' }, bars, details),
      nat_pps_vs_kernel: kernel instanceof Error
        ? failed(this.name, 'nat_pps_vs_kernel', kernel.message)
        : trusted(this.name, 'nat_pps_vs_kernel', { samples: ratios(pps[2], pps[1]), unit: 'ratio' }, bars, details),
    };
  },
};

/** Runs a bench script of its own (it builds and removes its own lab) and parses its JSON. */

interface DetectionStats { median: number; min: number; max: number; n: number }
interface DetectionRun {
  formulaMs: number;
  refused: { detect: DetectionStats; recover: DetectionStats };
  blackholed: { detect: DetectionStats; recover: DetectionStats };
}

const failover: Experiment = {
  name: 'failover',
  figures: ['failover_gap_ms', 'check_detect_ms'],
  lab: null,
  async run(ctx) {
    let check: Figure;
    try {
      ctx.progress('health check detection (bench/health.js, its own lab)');
      const args = ['--only', 'detection', '--trials', ctx.quick ? '3' : '10'];
      // One retry: a trial on this shared machine can miss its deadline; the error is kept.
      const out = await runBenchScript('health.js', args).catch((err: Error) => {
        ctx.progress(`health bench failed once (${err.message}); retrying`);
        return runBenchScript('health.js', args);
      });
      const d = out.detection as DetectionRun;
      // The worst case (a blackholed server: every probe waits out connect_timeout) against
      // keepalived's formula delay_loop + connect_timeout x (retry+1) + retry x delay_before_retry.
      check = ok(this.name, d.blackholed.detect.median, 'ms', [
        { label: 'formula', value: d.formulaMs, unit: 'ms' },
        { label: 'refused (median)', value: d.refused.detect.median, unit: 'ms' },
        { label: 'blackholed (median)', value: d.blackholed.detect.median, unit: 'ms' },
        { label: 'blackholed (max)', value: d.blackholed.detect.max, unit: 'ms' },
      ], 'check_detect_ms', { ...d });
    } catch (err) {
      check = failed(this.name, 'check_detect_ms', (err as Error).message);
    }
    let gap: Figure;
    try {
      ctx.progress('VRRP failover gaps (bench/failover.js, its own lab)');
      const result = await measureFailover({ trials: ctx.quick ? 1 : 3, versions: [2, 3], pairs: ['ulvs-ulvs', 'ulvs-keepalived', 'keepalived-keepalived'], log: ctx.progress });
      const median = (pair: string, version: number): number =>
        result.summary.find((x) => x.pair === pair && x.version === version)?.gapMs?.median ?? NaN;
      // The headline is v2 (advert_int 1) ulvs -> ulvs; every pair and version is a bar.
      gap = ok(this.name, median('ulvs-ulvs', 2), 'ms', result.summary.filter((x) => x.gapMs).map((x) => ({
        label: `${x.pair} v${x.version} (master down ${x.masterDownIntervalMs} ms)`, value: x.gapMs!.median, unit: 'ms',
      })), 'failover_gap_ms', { summary: result.summary, note: result.note });
    } catch (err) {
      gap = failed(this.name, 'failover_gap_ms', (err as Error).message);
    }
    return { failover_gap_ms: gap, check_detect_ms: check };
  },
};

/** In run order: no lab first, then the DR lab's, then the NAT lab's. */
export const EXPERIMENTS: Experiment[] = [dataplane, failover, syncExperiment, drPps, drCpu, conntrackScale, latency, http, natPps];

/** Experiments selected by --only (by experiment name or by one of its figure keys). */
export function selectExperiments(only: string[] | undefined): Experiment[] {
  if (!only) return EXPERIMENTS;
  const unknown = only.filter((name) => !EXPERIMENTS.some((e) => e.name === name || e.figures.includes(name)));
  if (unknown.length) {
    const names = EXPERIMENTS.flatMap((e) => [e.name, ...e.figures]).join(', ');
    throw new Error(`unknown figure or experiment: ${unknown.join(', ')} (known: ${names})`);
  }
  return EXPERIMENTS.filter((e) => only.some((name) => e.name === name || e.figures.includes(name)));
}

export { BENCH_PREFIX, setUpLab, tearDownLab };
