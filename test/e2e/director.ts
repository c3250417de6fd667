// Test support: a real director process inside a lab namespace, started from a YAML config.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDirectorConfig, labExec } from '../../src/lab/index.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ULVS = join(REPO, 'bin/ulvs.js');
export const HTTP_CLIENT = join(REPO, 'scripts/lab-http-client.mjs');

export interface RunningDirector {
  process: ChildProcess;
  log: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** The config directories this test process made, removed when it exits (they held only the YAML). */
const configDirs = new Set<string>();
process.once('exit', () => { for (const dir of configDirs) rmSync(dir, { recursive: true, force: true }); });

export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-e2e-'));
  configDirs.add(dir);
  const file = join(dir, 'ulvs.yaml');
  writeFileSync(file, yaml);
  return file;
}

// The lab's veths take XDP programs, so `io: auto` must end on AF_XDP there: a director that
// fell back to TAP would pass every forwarding test while AF_XDP is broken.
const IO_AUTO = /\bio:\s*auto\b/;
const TOOK_TAP = /packets taken with tap/;

/**
 * Starts `ulvs run` in the namespace and resolves once it says "director running"; with
 * `io: auto`, rejects if it took packets with TAP instead of AF_XDP.
 */
// 90 s: on a busy machine (stress-ng on both cores) a start took over 30 s; the worker pool
// itself allows a worker 60 s to attach.
// `env`: more environment for the director (e.g. libfaketime's, test/e2e/clock-jump.test.ts).
export function startDirector(namespace: string, configFile: string, timeoutMs = 90_000, env: NodeJS.ProcessEnv = {}): Promise<RunningDirector> {
  const ioAuto = IO_AUTO.test(readFileSync(configFile, 'utf8'));
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ULVS, 'run', '-c', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const handle: RunningDirector = {
    process: child,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`director did not start:\n${output}`)); }, timeoutMs);
    const check = (): void => {
      if (!output.includes('director running')) return;
      clearTimeout(timer);
      if (ioAuto && TOOK_TAP.test(output)) {
        child.kill('SIGKILL');
        rej(new Error(`io: auto fell back to TAP where AF_XDP is expected:\n${output}`));
      } else res(handle);
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); rej(new Error(`director exited ${code} before it started:\n${output}`)); });
  });
}

/** `starts[i]`: when request i started (Date.now() in the client; the same clock as the test's). */
export interface ClientResult { bodies: string[]; sockets: number; starts: number[] }

/** HTTP requests from inside a namespace (see scripts/lab-http-client.mjs for the modes). */
export async function httpFrom(namespace: string, url: string, count: number, mode: 'new' | 'keepalive' | 'duration' = 'new', pauseMs = 0): Promise<ClientResult> {
  const r = await labExec(namespace, [process.execPath, HTTP_CLIENT, url, String(count), mode, String(pauseMs)], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`http client failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ClientResult;
}

export function tally(bodies: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const b of bodies) counts[b] = (counts[b] ?? 0) + 1;
  return counts;
}

/** `ulvs <args>` inside the namespace (talks to that namespace's director). */
export async function ulvsIn(namespace: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return labExec(namespace, [process.execPath, ULVS, ...args], { timeoutMs: 90_000 }); // a node start-up: seconds on a loaded machine
}

/**
 * The lab's DR director: VIP 198.18.0.100:80/TCP held as a static address, real servers given
 * as [last octet, weight] on 198.18.0.0/24 (rs1 = 10, rs2 = 20, rs3 = 30).
 */
export function labDrConfig(o: { lbAlgo: string; weights?: Array<[number, number]>; dataplane?: string }): string {
  const weights = o.weights ?? [[10, 1], [20, 1], [30, 1]];
  return labDirectorConfig({
    dataplane: `io: auto${o.dataplane ? `, ${o.dataplane}` : ''}`,
    services: [{ lbAlgo: o.lbAlgo, realServers: weights.map(([octet, weight]) => ({ ip: `198.18.0.${octet}`, weight })) }],
  });
}
