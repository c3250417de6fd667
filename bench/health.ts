// Health-check figures (issue 4), run as `node dist/bench/health.js [--trials N]
// [--load-trials K] [--seconds S] [--rates 0,100000] [--only detection|load]`; prints one JSON object on stdout, progress on stderr.
//  1. Detection and recovery times of a tcp_check (delay_loop 1, connect_timeout 1, retry 1,
//     delay_before_retry 1) against keepalived's formula, over several trials, for a server
//     that refuses (its service stopped) and one that is blackholed (its packets dropped, so
//     every probe waits for connect_timeout).
//  2. The forwarding cost of checking: UDP packets/s through the VIP (C sender -> director ->
//     C sinks, as the main bench) with 1,000 extra real servers listed but unchecked, versus the
//     same 1,000 checked every second by tcp_check (1,000 listening ports on rs3).
//     Trials alternate off/on so that drift in the machine's load hits both alike.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLab, destroyLab, labNodes, startServer, stopServer, LAB_VIP } from '../src/lab/index.js';
import { dampingConfig, detectionBoundMs } from '../src/health/damping.js';
import { startDirectorFromYaml, traffic, UDP_PORT, type BenchLab } from './lab.js';
import { killAll, machineInfo, runIn, sleep, startIn, tail, waitFor, type Proc } from './sys.js';

const PREFIX = 'bhe-';
const RS2 = '198.18.0.20:80';
const EXTRA_SERVERS = 1000;
const EXTRA_FIRST_PORT = 10_000;
const EXTRA_SERVICE_PORT = 81;

const TIMING = { delay_loop: 1, connect_timeout: 1, retry: 1, delay_before_retry: 1 };

const progress = (message: string): void => { process.stderr.write(`bench health: ${message}\n`); };

// ---------------------------------------------------------------- configs

function header(): string[] {
  return [
    'global_defs: { router_id: bench-health }',
    'dataplane: { interface: eth0, io: auto }',
    'static_ipaddress:',
    `  - { address: ${LAB_VIP}/32, dev: eth0 }`,
    'virtual_servers:',
  ];
}

/** TCP VIP:80 over rs1..rs3, each with the timing above. */
export function detectionConfig(): string {
  const check = `tcp_check: { connect_timeout: ${TIMING.connect_timeout}, retry: ${TIMING.retry}, delay_before_retry: ${TIMING.delay_before_retry} }`;
  return [
    ...header(),
    `  - { vip: ${LAB_VIP}, port: 80, protocol: TCP, lb_algo: rr, lb_kind: DR, delay_loop: ${TIMING.delay_loop},`,
    '      real_servers: [',
    ...[10, 20, 30].map((n) => `        { ip: 198.18.0.${n}, port: 80, ${check} },`),
    '      ] }',
  ].join('\n') + '\n';
}

/** UDP VIP:9000 over rs1..rs3 (the measured traffic), plus a service of 1,000 real servers, checked or not. */
export function loadConfig(checked: boolean): string {
  const check = checked ? ', tcp_check: { connect_timeout: 1, retry: 0 }' : '';
  const extra: string[] = [];
  for (let i = 0; i < EXTRA_SERVERS; i++) extra.push(`        { ip: 198.18.0.30, port: ${EXTRA_FIRST_PORT + i}${check} },`);
  return [
    ...header(),
    `  - { vip: ${LAB_VIP}, port: ${UDP_PORT}, protocol: UDP, lb_algo: rr, lb_kind: DR,`,
    '      real_servers: [ { ip: 198.18.0.10 }, { ip: 198.18.0.20 }, { ip: 198.18.0.30 } ] }',
    `  - { vip: ${LAB_VIP}, port: ${EXTRA_SERVICE_PORT}, protocol: TCP, lb_algo: rr, lb_kind: DR, delay_loop: 1,`,
    '      real_servers: [',
    ...extra,
    '      ] }',
  ].join('\n') + '\n';
}

// ---------------------------------------------------------------- pure helpers

export interface Stats { n: number; min: number; median: number; max: number; mean: number }

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n: 0, min: NaN, median: NaN, max: NaN, mean: NaN };
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, min: sorted[0], median, max: sorted[n - 1], mean: sorted.reduce((a, b) => a + b, 0) / n };
}

export interface StateChange { time: number; rsKey: string; up: boolean }

/** The director's "real server X is up|down" log lines (pino JSON). */
export function stateChanges(log: string): StateChange[] {
  const out: StateChange[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('"real server ')) continue;
    try {
      const e = JSON.parse(line) as { msg?: string; time?: number; realServer?: string; up?: boolean };
      if (/^real server \S+ is (up|down)$/.test(e.msg ?? '') && typeof e.time === 'number') {
        out.push({ time: e.time, rsKey: e.realServer ?? '', up: e.up === true });
      }
    } catch { /* not a log line */ }
  }
  return out;
}

// ---------------------------------------------------------------- I/O

/** Resolves with the time of the first change of `rsKey` to `up` logged at or after `since`. */
async function changeAfter(director: Proc, rsKey: string, up: boolean, since: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = stateChanges(director.output()).find((c) => c.rsKey === rsKey && c.up === up && c.time >= since);
    if (hit) return hit.time;
    await sleep(10);
  }
  throw new Error(`${rsKey} did not go ${up ? 'up' : 'down'} within ${timeoutMs} ms`);
}

const BLACKHOLE = 'add table ip ulvs_bench_bh\nadd chain ip ulvs_bench_bh in { type filter hook input priority 0; policy accept; }\nadd rule ip ulvs_bench_bh in tcp dport 80 drop\n';

interface FailureMode {
  name: 'refused' | 'blackholed';
  fail(): Promise<void>;
  heal(): Promise<void>;
  /** keepalived's formula for this failure, ms (the bound the issue measures against, without its +1 s). */
  detectBoundMs: number;
  /** A down server is probed every delay_loop after its last probe ended. */
  recoverBoundMs: number;
}

async function detection(lab: BenchLab, dir: string, trials: number): Promise<Record<string, unknown>> {
  const rs2 = lab.nodes.rs2.name;
  const bhFile = join(dir, 'blackhole.nft');
  writeFileSync(bhFile, BLACKHOLE);
  const cfg = dampingConfig('tcp_check', TIMING);
  const formulaMs = detectionBoundMs(cfg, TIMING.connect_timeout * 1000);
  const modes: FailureMode[] = [
    {
      name: 'refused',
      fail: async () => { await stopServer(rs2); },
      heal: async () => { await startServer(rs2); },
      detectBoundMs: formulaMs,
      recoverBoundMs: cfg.delayLoopMs,
    },
    {
      name: 'blackholed',
      fail: async () => { await runIn(rs2, ['nft', '-f', bhFile]); },
      heal: async () => { await runIn(rs2, ['nft', 'delete', 'table', 'ip', 'ulvs_bench_bh']); },
      detectBoundMs: formulaMs,
      recoverBoundMs: cfg.delayLoopMs + TIMING.connect_timeout * 1000,
    },
  ];
  const director = await startDirectorFromYaml(lab, detectionConfig());
  const result: Record<string, unknown> = {
    timing: TIMING,
    formula: 'delay_loop + connect_timeout x (retry+1) + retry x delay_before_retry',
    formulaMs,
    issueBoundMs: formulaMs + 1000,
  };
  try {
    await sleep(2500); // past warmup: every server checked at least once
    for (const mode of modes) {
      const detect: number[] = [];
      const recover: number[] = [];
      for (let i = 0; i < trials; i++) {
        // A random phase against the check timer, as a real failure has.
        await sleep(500 + Math.random() * 1000);
        const failedAt = Date.now();
        await mode.fail();
        detect.push((await changeAfter(director, RS2, false, failedAt, formulaMs + 10_000)) - failedAt);
        await sleep(500 + Math.random() * 1000);
        await mode.heal();
        const healedAt = Date.now();
        recover.push((await changeAfter(director, RS2, true, healedAt, 10_000)) - healedAt);
        progress(`${mode.name} trial ${i + 1}/${trials}: detected in ${detect.at(-1)} ms, recovered in ${recover.at(-1)} ms`);
      }
      result[mode.name] = {
        detectMs: detect, detect: stats(detect), detectBoundMs: mode.detectBoundMs,
        detectWithinIssueBound: detect.every((d) => d <= formulaMs + 1000),
        recoverMs: recover, recover: stats(recover), recoverBoundMs: mode.recoverBoundMs,
        recoverWithinBoundPlus1s: recover.every((r) => r <= mode.recoverBoundMs + 1000),
      };
    }
  } catch (error) {
    const changes = stateChanges(director.output()).filter((c) => c.rsKey === RS2).slice(-6);
    throw new Error(`${(error as Error).message}\nlast changes of ${RS2}: ${JSON.stringify(changes)}\ndirector output:\n${tail(director.output(), 30)}`);
  } finally {
    await director.stop();
    await runIn(rs2, ['nft', 'delete', 'table', 'ip', 'ulvs_bench_bh']).catch(() => '');
    await startServer(rs2).catch(() => undefined);
  }
  return result;
}

/**
 * 1,000 listening ports on rs3 that never accept: the kernel completes each check's handshake
 * by itself, so answering the checks costs the shared CPUs no userspace work (on a real
 * network the real servers' work is on other machines).
 */
const LISTENER = `import socket, time
held = []
for port in range(${EXTRA_FIRST_PORT}, ${EXTRA_FIRST_PORT + EXTRA_SERVERS}):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4096)
    held.append(s)
print("ready", flush=True)
while True:
    time.sleep(3600)
`;

/** TCP handshakes rs3's kernel completed (its namespace's Tcp PassiveOpens counter). */
async function passiveOpens(lab: BenchLab): Promise<number> {
  const snmp = await runIn(lab.nodes.rs3.name, ['cat', '/proc/net/snmp']);
  const [names, values] = snmp.split('\n').filter((l) => l.startsWith('Tcp:')).map((l) => l.trim().split(/\s+/));
  return Number(values[names.indexOf('PassiveOpens')]);
}

interface LoadRun { checked: boolean; rate: number; pps: number; directorCpuSeconds: number; machineBusyCpuSeconds: number; checksPerSecond: number; downEvents: number }

function compare(runs: LoadRun[], rate: number, seconds: number): Record<string, unknown> {
  const at = (checked: boolean): LoadRun[] => runs.filter((r) => r.checked === checked && r.rate === rate);
  const off = at(false).map((r) => r.pps);
  const on = at(true).map((r) => r.pps);
  const ratio = stats(on).median / stats(off).median;
  // The director's CPU is a steadier measure of what checking costs than packets/s on a busy machine.
  const cpuOff = stats(at(false).map((r) => r.directorCpuSeconds / seconds)).mean;
  const cpuOn = stats(at(true).map((r) => r.directorCpuSeconds / seconds)).mean;
  const checksPerSecond = stats(at(true).map((r) => r.checksPerSecond)).mean;
  return {
    directorCpuCoresUnchecked: Number(cpuOff.toFixed(3)),
    directorCpuCoresChecked: Number(cpuOn.toFixed(3)),
    directorCpuUsPerCheck: Number((((cpuOn - cpuOff) / checksPerSecond) * 1e6).toFixed(1)),
    machineBusyCores: Number(stats(runs.filter((r) => r.rate === rate).map((r) => r.machineBusyCpuSeconds / seconds)).mean.toFixed(2)),
    offeredPps: rate === 0 ? 'as fast as the sender can' : rate,
    ppsUnchecked: stats(off),
    ppsChecked: stats(on),
    ratioCheckedToUnchecked: Number(ratio.toFixed(4)),
    changePercent: Number(((ratio - 1) * 100).toFixed(2)),
    withinFivePercent: Math.abs(ratio - 1) <= 0.05,
  };
}

async function checkLoad(lab: BenchLab, dir: string, trials: number, seconds: number, rates: number[]): Promise<Record<string, unknown>> {
  const listener = startIn(lab.nodes.rs3.name, ['python3', '-c', LISTENER]);
  const runs: LoadRun[] = [];
  try {
    await waitFor(listener, 'ready', 15_000);
    for (let i = 0; i < trials * 2; i++) {
      const checked = i % 2 === 1;
      const director = await startDirectorFromYaml(lab, loadConfig(checked));
      try {
        await sleep(3000); // warmup (up to delay_loop) and the first round of checks
        for (const rate of rates) {
          const opens0 = await passiveOpens(lab);
          const t0 = Date.now();
          const r = await traffic(lab, { dstMacs: [lab.nodes.dir1.mac], flows: 1000, rate, seconds, watchPid: director.pid });
          const checksPerSecond = (await passiveOpens(lab) - opens0) / ((Date.now() - t0) / 1000);
          const downEvents = stateChanges(director.output()).filter((c) => !c.up).length;
          runs.push({ checked, rate, pps: Math.round(r.pps), directorCpuSeconds: Number(r.processSeconds.toFixed(3)), machineBusyCpuSeconds: Number(r.busySeconds.toFixed(3)),
            checksPerSecond: Math.round(checksPerSecond), downEvents });
          progress(`load trial ${i + 1}/${trials * 2} (${checked ? `${EXTRA_SERVERS} checked` : 'unchecked'}, rate ${rate || 'max'}): ${Math.round(r.pps)} pps, ${Math.round(checksPerSecond)} checks/s`);
        }
      } catch (error) {
        throw new Error(`${(error as Error).message}\ndirector output:\n${tail(director.output(), 30)}`);
      } finally {
        await director.stop();
      }
    }
  } finally {
    await listener.stop();
  }
  return {
    extraRealServers: EXTRA_SERVERS,
    delayLoopS: 1,
    secondsPerTrial: seconds,
    note: 'sender, director, sinks and the checked ports (kernel only) share this machine\'s CPUs, as do whatever else runs on it',
    byRate: rates.map((rate) => compare(runs, rate, seconds)),
    runs,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '5' },
      'load-trials': { type: 'string', default: '3' },
      seconds: { type: 'string', default: '5' },
      rates: { type: 'string', default: '0,100000' },
      only: { type: 'string' },
    },
  });
  const trials = Number(values.trials);
  const loadTrials = Number(values['load-trials']);
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-bench-health-'));
  const started = Date.now();
  const interrupt = (): void => { killAll(); void destroyLab({ prefix: PREFIX }).finally(() => process.exit(130)); };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const out: Record<string, unknown> = { date: new Date().toISOString(), machine: machineInfo() };
  try {
    progress('building the lab');
    await createLab({ prefix: PREFIX });
    const lab: BenchLab = { prefix: PREFIX, nat: false, nodes: labNodes(PREFIX, { nat: false }) };
    if (values.only !== 'load') {
      progress(`detection and recovery, ${trials} trials per failure mode`);
      out.detection = await detection(lab, dir, trials);
    }
    if (values.only !== 'detection') {
      progress(`forwarding with ${EXTRA_SERVERS} real servers unchecked vs checked, ${loadTrials} trials each`);
      out.checkLoad = await checkLoad(lab, dir, loadTrials, seconds, String(values.rates).split(',').map(Number));
    }
  } finally {
    await destroyLab({ prefix: PREFIX });
    rmSync(dir, { recursive: true, force: true });
  }
  out.durationSeconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

// Importable (for the main bench's report) without running.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
