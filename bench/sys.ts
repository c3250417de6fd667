// The bench's I/O shell: child processes inside namespaces (tracked so that Ctrl-C can end
// them), CPU accounting from /proc, machine information.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, hostname, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './report.js';

/** The repository root (this file runs as dist/bench/sys.js or bench/sys.ts). */
export const REPO = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'bench')}`) ? resolve(here, '../..') : resolve(here, '..');
})();
export const TOOLS = join(REPO, 'build/bench');
export const XDP_OBJECT = join(REPO, 'build/native/Release/ulvs_xdp.o');
export const ULVS = join(REPO, 'bin/ulvs.js');

const CLOCK_TICKS = 100; // USER_HZ on Linux

const running = new Set<ChildProcess>();

export interface Proc {
  child: ChildProcess;
  pid: number;
  output(): string;
  stdout(): string;
  /** Resolves with the exit code once it ends (128 + n when killed by signal n). */
  exited: Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** Starts argv in a namespace (`ip netns exec` execs, so the pid is the program's). */
export function startIn(namespace: string, argv: string[]): Proc {
  const child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let all = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); all += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { all += d.toString(); });
  const exited = new Promise<number>((res) => {
    child.once('close', (code, signal) => { running.delete(child); res(code ?? 128 + (signal ? 15 : 0)); });
    child.once('error', () => { running.delete(child); res(127); });
  });
  return {
    child,
    pid: child.pid ?? -1,
    output: () => all,
    stdout: () => out,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resolves once the process prints `marker`, rejects if it exits first or after timeoutMs. */
export function waitFor(proc: Proc, marker: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { cleanup(); rej(new Error(`timed out waiting for "${marker}":\n${tail(proc.output())}`)); }, timeoutMs);
    const check = (): void => { if (proc.output().includes(marker)) { cleanup(); res(); } };
    const cleanup = (): void => {
      clearTimeout(timer);
      proc.child.stdout!.off('data', check);
      proc.child.stderr!.off('data', check);
    };
    proc.child.stdout!.on('data', check);
    proc.child.stderr!.on('data', check);
    void proc.exited.then((code) => { if (!proc.output().includes(marker)) { cleanup(); rej(new Error(`exited ${code} before "${marker}":\n${tail(proc.output())}`)); } });
    check();
  });
}

/** Runs to completion; rejects on a non-zero exit with the output's tail. */
export async function runIn(namespace: string, argv: string[], timeoutMs = 120_000): Promise<string> {
  const proc = startIn(namespace, argv);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${argv[0]} exited ${code}: ${tail(proc.output())}`);
  return proc.stdout();
}

/** Kills every process the bench started and that still runs (Ctrl-C, failures). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** Whole machine busy CPU (all cores; user+nice+system+irq+softirq+steal), in seconds. */
export function machineBusySeconds(stat = readFileSync('/proc/stat', 'utf8')): number {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no cpu line');
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal ?? 0)) / CLOCK_TICKS;
}

/** A process's CPU (utime + stime, all threads), in seconds. */
export function processCpuSeconds(pid: number, stat = readFileSync(`/proc/${pid}/stat`, 'utf8')): number {
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** A process's CPU with its waited-for children (utime + stime + cutime + cstime), in seconds. */
export function processWithChildrenCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** Live children of every thread of `pid` (/proc/PID/task/TID/children). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch { /* the thread ended */ }
  }
  return out;
}

/**
 * CPU of a process tree in seconds: the process (all its threads), its children that ended
 * (cutime/cstime) and its live descendants, walked through every thread's children list. A
 * process that ends between two reads drops out of the sum (its parent's cutime gains it only
 * once waited for), so compare trees whose children live through the run.
 */
export function processTreeCpuSeconds(pid: number, read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  children: (pid: number) => number[] = childPids): number {
  let total = 0;
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      total += processWithChildrenCpuSeconds(read(`/proc/${p}/stat`));
    } catch {
      continue; // it ended
    }
    stack.push(...children(p));
  }
  return total;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length || 1,
    kernel: release(),
    node: process.version,
    hostname: hostname(),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** Runs a bench script of this directory (dist/bench/<script>) and parses the JSON it prints. */
export async function runBenchScript(script: string, args: string[]): Promise<Record<string, unknown>> {
  const { execFile } = await import('node:child_process');
  const path = join(dirname(fileURLToPath(import.meta.url)), script);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path, ...args], { maxBuffer: 16 << 20, timeout: 15 * 60_000 }, (err, stdout, stderr) => {
      // The script's own error is the first "Error:" line; the rest is context (director logs).
      const reason = /^\S*Error: .*$/m.exec(stderr)?.[0] ?? tail(stderr || err?.message || '');
      if (err) reject(new Error(`${script}: ${reason}`));
      else resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}
