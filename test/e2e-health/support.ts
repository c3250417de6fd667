// Shared by the health end-to-end tests: a lab + director per test file, long-running helper
// processes inside namespaces (table watcher, request stream, test servers), and readers for
// what they and the director print.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { createLab, destroyLab, sleep, waitFor, type LabTopology } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from '../e2e/director.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const WATCH_LIST = join(HERE, 'watch-list.mjs');
export const STREAM_CLIENT = join(HERE, 'stream-client.mjs');
export const HELPER_SERVER = join(HERE, 'helper-server.mjs');

export { sleep, waitFor };

/** A process inside a namespace whose stdout is kept as lines. */
export interface NsProcess {
  child: ChildProcess;
  lines(): string[];
  output(): string;
  stop(): Promise<void>;
}

export function spawnIn(namespace: string, argv: string[]): NsProcess {
  const child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return {
    child,
    lines: () => out.split('\n').filter((l) => l !== ''),
    output: () => out + err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Node script started in a namespace; resolves once it prints "ready". */
export async function startHelperServer(t: Test, namespace: string, args: string[]): Promise<NsProcess> {
  const p = spawnIn(namespace, [process.execPath, HELPER_SERVER, ...args]);
  t.teardown(() => p.stop());
  const ok = await waitFor(() => p.lines().includes('ready'), 5000);
  if (!ok) throw new Error(`helper server ${args.join(' ')} in ${namespace} did not start: ${p.output()}`);
  return p;
}

export interface TableChange { t: number; servers: Record<string, number> }

/** The director's table over time, as watch-list.mjs saw it. */
export interface TableWatch {
  changes(): TableChange[];
  current(): Record<string, number> | undefined;
  /** First time at or after `since` at which `pred` held (undefined if never yet). */
  firstAfter(since: number, pred: (servers: Record<string, number>) => boolean): number | undefined;
}

export function watchTable(t: Test, namespace: string): TableWatch {
  const p = spawnIn(namespace, [process.execPath, WATCH_LIST]);
  t.teardown(() => p.stop());
  const changes = (): TableChange[] => p.lines().map((l) => JSON.parse(l) as TableChange & { error?: string })
    .filter((c) => c.error === undefined);
  return {
    changes,
    current: () => changes().at(-1)?.servers,
    firstAfter: (since, pred) => {
      const all = changes();
      for (let i = 0; i < all.length; i++) {
        // A state already in force at `since` counts from `since`.
        const end = all[i + 1]?.t ?? Infinity;
        if (end > since && pred(all[i].servers)) return Math.max(all[i].t, since);
      }
      return undefined;
    },
  };
}

export interface StreamResult { start: number; end: number; body: string }

/** A request every `everyMs` on a new connection from the client to `url`, until stopped. */
export function streamRequests(t: Test, namespace: string, url: string, everyMs: number): { results(): StreamResult[]; stop(): Promise<void> } {
  const p = spawnIn(namespace, [process.execPath, STREAM_CLIENT, url, String(everyMs)]);
  t.teardown(() => p.stop());
  return { results: () => p.lines().map((l) => JSON.parse(l) as StreamResult), stop: () => p.stop() };
}

export interface HealthLogEntry { time: number; rsKey: string; up: boolean; weight?: number; reason: string }

/** The director's "real server X is up|down" lines (pino JSON), in order. */
export function healthLog(directorLog: string): HealthLogEntry[] {
  const out: HealthLogEntry[] = [];
  for (const line of directorLog.split('\n')) {
    if (!line.includes('real server')) continue;
    let entry: { msg?: string; time?: number; realServer?: string; up?: boolean; weight?: number; reason?: string };
    try { entry = JSON.parse(line); } catch { continue; }
    if (!/^real server \S+ is (up|down)$/.test(entry.msg ?? '')) continue;
    out.push({ time: entry.time!, rsKey: entry.realServer!, up: entry.up!, weight: entry.weight, reason: entry.reason ?? '' });
  }
  return out;
}

export interface LabDirector { lab: LabTopology; director: RunningDirector; dir1: string; client: string }

/** A fresh lab under `prefix` (real servers' HTTP services running), destroyed when the test ends. */
export async function startLab(t: Test, prefix: string): Promise<LabTopology> {
  t.teardown(() => destroyLab({ prefix }));
  return createLab({ prefix });
}

/** A director in the lab's dir1 running `yaml`, stopped when the test ends. */
export async function runDirector(t: Test, lab: LabTopology, yaml: string): Promise<LabDirector> {
  const director = await startDirector(lab.nodes.dir1.name, writeConfig(yaml));
  // Registered after startLab's teardown, so it runs first (tap runs teardowns in reverse).
  t.teardown(async () => {
    await director.stop();
    if (!t.passing()) t.comment(`director log (tail):\n${director.log().trim().split('\n').slice(-40).join('\n')}`);
  });
  return { lab, director, dir1: lab.nodes.dir1.name, client: lab.nodes.client.name };
}

/** Both of the above. */
export async function labWithDirector(t: Test, prefix: string, yaml: string): Promise<LabDirector> {
  return runDirector(t, await startLab(t, prefix), yaml);
}

/** A DR service on the lab VIP:80 with the given real-server entries (YAML flow maps) and service keys. */
export function drConfig(realServers: string[], serviceExtra = ''): string {
  return `global_defs:
  router_id: e2e-health
dataplane:
  interface: eth0
  io: auto
static_ipaddress:
  - { address: 198.18.0.100/32, dev: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: wrr
    lb_kind: DR
${serviceExtra.split('\n').filter((l) => l.trim() !== '').map((l) => `    ${l}`).join('\n')}
    real_servers:
${realServers.map((rs) => `      - ${rs}`).join('\n')}
`;
}
