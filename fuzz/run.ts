/**
 * `npm run fuzz [-- --quick] [--seconds N] [--target NAME] [--save] [--write-seeds]`: runs
 * Jazzer.js (libFuzzer, coverage-guided) on each target in fuzz/targets/ for a bounded time.
 * --quick: 10 s per target (CI). Default: 60 s. Each run starts from test/fuzz/corpus/<target>/
 * and writes new inputs to a scratch directory (--save merges them into the corpus). A crash
 * leaves its input in test/fuzz/crashes/ and makes the exit status 1. Prints one line per
 * target (executions, coverage) and writes the numbers to bench/results/fuzz.json (--json PATH).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { seedsFor } from './seeds.js';

export const TARGETS = ['frame-parser', 'pipeline', 'vrrp', 'sync', 'config', 'keepalived', 'ldirectord', 'ipvsadm', 'control'];
const CORPUS = 'test/fuzz/corpus';
const CRASHES = 'test/fuzz/crashes';
const JAZZER = 'node_modules/@jazzer.js/core/dist/cli.js';

export interface TargetResult { target: string; seconds: number; executions: number; coverage: number; features: number; corpus: number; crashed: boolean; crash?: string }

/** libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/..." (or the last pulse/NEW). */
export function parseLibFuzzerOutput(text: string): Omit<TargetResult, 'target' | 'seconds' | 'crashed'> {
  let executions = 0, coverage = 0, features = 0, corpus = 0;
  for (const m of text.matchAll(/^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/gm)) {
    executions = Math.max(executions, Number(m[1])); coverage = Number(m[2]); features = Number(m[3]); corpus = Number(m[4]);
  }
  const done = /^Done (\d+) runs/m.exec(text);
  if (done) executions = Math.max(executions, Number(done[1]));
  const crash = /Test unit written to (\S+)/.exec(text);
  return { executions, coverage, features, corpus, ...(crash ? { crash: crash[1] } : {}) };
}

function writeSeeds(target: string): void {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  for (const seed of seedsFor(target)) {
    writeFileSync(join(dir, `seed-${createHash('sha1').update(seed).digest('hex').slice(0, 16)}`), seed);
  }
}

function runTarget(target: string, seconds: number, save: boolean): Promise<TargetResult> {
  const scratch = mkdtempSync(join(tmpdir(), `ulvs-fuzz-${target}-`));
  mkdirSync(CRASHES, { recursive: true });
  const corpus = join(CORPUS, target);
  if (!existsSync(corpus)) writeSeeds(target);
  const args = [
    JAZZER, `dist/fuzz/targets/${target}.js`, scratch, corpus, '--sync', '-i', 'dist/src', '--timeout', '10000',
    // Config includes and migrate inputs name whatever path the operator chose: by design, not traversal.
    '--disable_bug_detectors', 'path-traversal', '--',
    `-max_total_time=${seconds}`, `-artifact_prefix=${CRASHES}/${target}-`, '-rss_limit_mb=2048', '-max_len=4096', '-print_final_stats=1',
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => { text += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { text += d.toString(); });
    // Bounded: libFuzzer stops at max_total_time; this is the backstop if it hangs.
    const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('close', (code) => {
      clearTimeout(kill);
      const parsed = parseLibFuzzerOutput(text);
      const crashed = code !== 0;
      if (crashed) process.stderr.write(text.split('\n').filter((l) => !/^#\d+/.test(l)).slice(-40).join('\n') + '\n');
      if (save) for (const f of readdirSync(scratch)) copyFileSync(join(scratch, f), join(corpus, f));
      rmSync(scratch, { recursive: true, force: true });
      resolve({ target, seconds, crashed, ...parsed });
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const value = (flag: string): string | undefined => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
  const seconds = Number(value('--seconds') ?? (argv.includes('--quick') ? 10 : 60));
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86400) throw new Error('--seconds must be a number of seconds (1..86400)');
  const only = value('--target');
  const targets = only ? only.split(',') : TARGETS;
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (targets: ${TARGETS.join(', ')})`);
  if (argv.includes('--write-seeds')) { for (const t of targets) writeSeeds(t); return; }
  const results: TargetResult[] = [];
  for (const t of targets) {
    const r = await runTarget(t, seconds, argv.includes('--save'));
    results.push(r);
    console.log(`${t.padEnd(13)} ${r.crashed ? 'CRASH' : 'ok   '} ${String(r.executions).padStart(9)} execs  cov ${String(r.coverage).padStart(5)} edges  ft ${String(r.features).padStart(5)}  corpus ${r.corpus}${r.crash ? `  input ${r.crash}` : ''}`);
  }
  const json = value('--json') ?? 'bench/results/fuzz.json';
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ when: new Date().toISOString(), seconds, results }, null, 2) + '\n');
  if (results.some((r) => r.crashed)) process.exitCode = 1;
}

if (process.argv[1]?.endsWith('run.js')) {
  main().catch((err: Error) => { console.error(`fuzz: ${err.message}`); process.exitCode = 2; });
}
