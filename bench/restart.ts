// A director that comes back (issue 11's "forwards within 2 s"): per trial, a clean start of
// `ulvs run`, then `kill -9`, then `ulvs run` again over what the dead process left (VIPs, the
// XDP program, the state file), each timed from the spawn to the first HTTP answer through
// the VIP (a poller in the client namespace, a new connection every 50 ms at most). Each start
// is also split into phases from the director's own log timestamps (pino `time`): node and
// the CLI up to the first log line, config + leftovers + neighbours up to the worker starting,
// the worker (addon load, AF_XDP socket, XDP attach) up to "packets taken", VRRP claiming
// MASTER, and the client's first answer. Prints JSON: median/min/max of each.
//
//   node dist/bench/restart.js [--trials 3] [--prefix syr-]
// Root only; the lab is torn down at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createLab, destroyLab, labDirectorConfig, type LabTopology } from '../src/lab/index.js';
import { ULVS, sleep, startIn, waitFor, type Proc } from './sys.js';

const CONFIG = labDirectorConfig({ vrrp: [{ state: 'MASTER', virtualRouterId: 68, priority: 150, version: 3, advertInt: 0.1 }] });

const POLLER = `
import http from 'node:http';
const url = process.argv[2];
const get = () => new Promise((res) => {
  const req = http.get(url, { agent: false, timeout: 150 }, (r) => { let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => res(/^rs[123]/.test(b))); });
  req.on('timeout', () => req.destroy());
  req.on('error', () => res(false));
});
process.stdout.write('ready\\n');
const deadline = Date.now() + 60000;
while (Date.now() < deadline) {
  const round = Date.now();
  if (await get()) { process.stdout.write(Date.now() + '\\n'); process.exit(0); }
  await new Promise((r) => setTimeout(r, Math.max(0, round + 50 - Date.now())));
}
process.exit(1);
`;

/** Log messages that end each phase (the first line matching each, in order). */
const PHASES: Array<[string, RegExp]> = [
  ['node_and_cli_ms', /./],
  ['config_leftovers_neighbours_ms', /real server next hop resolved|adopted|left by/],
  ['worker_addon_xdp_ms', /packets taken with/],
  ['vrrp_master_ms', /VRRP VI_1: \w+ -> MASTER/],
];

interface Start { firstAnswerMs: number; phases: Record<string, number>; proc: Proc }

async function timedStart(lab: LabTopology, file: string): Promise<Start> {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-restart-'));
  const script = join(dir, 'poller.mjs');
  writeFileSync(script, POLLER);
  const poller = spawn('ip', ['netns', 'exec', lab.nodes.client.name, process.execPath, script, `http://${lab.vip}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  poller.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const pollerExit = new Promise<number | null>((res) => poller.once('exit', res));
  for (let i = 0; i < 3000 && !out.includes('ready\n'); i++) await sleep(10);
  const spawnedAt = Date.now();
  const proc = startIn(lab.nodes.dir1.name, [process.execPath, ULVS, 'run', '-c', file]);
  await waitFor(proc, 'director running', 90_000);
  if (await pollerExit !== 0) throw new Error(`no answer through the VIP:\n${proc.output()}`);
  const answeredAt = Number(out.split('\n')[1]);
  const entries = proc.output().split('\n').flatMap((l) => { try { return [JSON.parse(l) as { time: number; msg: string }]; } catch { return []; } });
  const phases: Record<string, number> = {};
  let from = spawnedAt;
  for (const [name, re] of PHASES) {
    const e = entries.find((x) => x.time >= from && re.test(x.msg));
    if (!e) continue;
    phases[name] = e.time - from;
    from = e.time;
  }
  phases.until_client_answer_ms = answeredAt - from;
  return { firstAnswerMs: answeredAt - spawnedAt, phases, proc };
}

function summary(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

async function main(): Promise<void> {
  const o = new Command('bench-restart').option('--trials <n>', '', '3').option('--prefix <p>', '', 'syr-')
    .parse(process.argv).opts<{ trials: string; prefix: string }>();
  const file = join(mkdtempSync(join(tmpdir(), 'ulvs-restart-')), 'ulvs.yaml');
  writeFileSync(file, CONFIG);
  const lab = await createLab({ prefix: o.prefix });
  const clean: Start[] = [], restart: Start[] = [];
  let running: Proc | null = null;
  try {
    for (let i = 0; i < Number(o.trials); i++) {
      const a = await timedStart(lab, file);
      running = a.proc;
      clean.push(a);
      await a.proc.stop('SIGKILL');
      const b = await timedStart(lab, file);
      running = b.proc;
      restart.push(b);
      if (!/was left by ulvs pid \d+/.test(b.proc.output())) throw new Error(`the restart found nothing left by the killed director:\n${b.proc.output()}`);
      await b.proc.stop('SIGTERM');
      running = null;
    }
  } finally {
    await running?.stop('SIGKILL');
    await destroyLab({ prefix: o.prefix });
  }
  const phases = (starts: Start[]): Record<string, { median: number; min: number; max: number }> =>
    Object.fromEntries(Object.keys(starts[0].phases).map((k) => [k, summary(starts.map((s) => s.phases[k] ?? NaN))]));
  process.stdout.write(JSON.stringify({
    note: 'spawn of `ulvs run` to the first HTTP answer through the VIP; shared 2-core machine under load',
    loadavg_1m: Number((await import('node:os')).loadavg()[0].toFixed(1)),
    trials: clean.length,
    clean_start_ms: summary(clean.map((s) => s.firstAnswerMs)),
    restart_after_kill9_ms: summary(restart.map((s) => s.firstAnswerMs)),
    clean_phases: phases(clean), restart_phases: phases(restart),
    each: { clean: clean.map((s) => s.firstAnswerMs), restart: restart.map((s) => s.firstAnswerMs) },
  }, null, 2) + '\n');
}

main().catch((err: Error) => { process.stderr.write(`Error: ${err.message}\n`); process.exitCode = 1; });
