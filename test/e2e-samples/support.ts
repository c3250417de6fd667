// Test support for running the sample configs (configs/*.yaml) and the migrated seeds in the lab:
// what each seed is expected to do (services, real servers, shares) lives in one table, so the
// hand-written sample and `ulvs migrate`'s output for the same seed are held to the same bar.
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Test } from 'tap';
import { labExec, sleep, type LabTopology } from '../../src/lab/index.js';
import { migrateFile } from '../../src/migrate/index.js';
import { REPO, httpFrom, startDirector, tally, ulvsIn, type RunningDirector } from '../e2e/director.js';

export const CONFIGS = join(REPO, 'configs');
export const FIXTURES = join(REPO, 'test/migrate/fixtures');

export type VrrpState = 'MASTER' | 'BACKUP';

export interface ExpectedService {
  /** As `ulvs list -n` prints the service line, e.g. "TCP  198.18.0.100:80 rr persistent 50". */
  line: string;
  /** "ip:port forward weight" per real server, in config order. */
  realServers: string[];
}

export interface ExpectedTraffic {
  url: string;
  requests: number;
  /** Exact shares per answering server name, or 'one' for persistence (every request to one server). */
  shares: Record<string, number> | 'one';
}

/** A temp dir standing in for the samples' absolute script paths (/etc/ulvs, /etc/keepalived). */
export interface ScriptsDir { dir: string; notifyLog: string }

export function makeScriptsDir(): ScriptsDir {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-samples-'));
  const notifyLog = join(dir, 'notify.log');
  // keepalived's notify scripts get their argument; record it with the namespace that ran it.
  writeFileSync(join(dir, 'notify.sh'), `#!/bin/sh\necho "$(ip netns identify $$) $*" >> ${notifyLog}\n`);
  chmodSync(join(dir, 'notify.sh'), 0o755);
  writeFileSync(notifyLog, '');
  return { dir, notifyLog };
}

/** A copy of a config with its absolute script directories pointed at `scripts.dir`. */
export function withScriptsDir(yaml: string, scripts: ScriptsDir): string {
  return yaml.replace(/\/etc\/(ulvs|keepalived)\//g, `${scripts.dir}/`);
}

/** Writes YAML next to nothing else (no includes) in its own temp dir. */
export function writeYaml(yaml: string, name = 'ulvs.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-samples-'));
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

export function readSample(name: string): string {
  return readFileSync(join(CONFIGS, name), 'utf8');
}

/** `ulvs migrate` of a fixture; fails the test when the YAML does not validate. */
export function migrateFixture(t: Test, fixture: string): string {
  const result = migrateFile(join(FIXTURES, fixture));
  t.same(result.errors, [], `migrated ${fixture} validates`);
  return result.yaml;
}

export async function vrrpStates(ns: string): Promise<Record<string, string>> {
  const r = await ulvsIn(ns, ['status', '--json']);
  if (r.code !== 0) return {};
  const reply = JSON.parse(r.stdout) as { vrrp: { name: string; state: string }[] };
  return Object.fromEntries(reply.vrrp.map((s) => [s.name, s.state]));
}

/** Polls `ulvs status` until every instance is in the expected state (or the time is up). */
export async function waitForVrrp(t: Test, ns: string, expected: Record<string, VrrpState>, timeoutMs = 12_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let states: Record<string, string> = {};
  while (Date.now() < deadline) {
    states = await vrrpStates(ns);
    if (Object.entries(expected).every(([name, state]) => states[name] === state)) break;
    await sleep(250);
  }
  t.same(states, expected, `${ns}: ulvs status shows ${Object.entries(expected).map(([n, s]) => `${n} ${s}`).join(', ')}`);
  const text = (await ulvsIn(ns, ['status'])).stdout;
  for (const [name, state] of Object.entries(expected)) t.match(text, new RegExp(`${name}\\s+${state}`), `${ns}: status text ${name} ${state}`);
}

interface ListedService {
  protocol: string; vip: string; port: number; scheduler: string; persistenceTimeout: number;
  realServers: { ip: string; port: number; forward: string; weight: number }[];
}

export async function listServices(ns: string): Promise<ListedService[]> {
  const r = await ulvsIn(ns, ['list', '-n', '--json']);
  if (r.code !== 0) throw new Error(`ulvs list -n failed in ${ns}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ListedService[];
}

/** `ulvs list -n` shows exactly the expected services and real servers (text and JSON agree). */
export async function checkList(t: Test, ns: string, expected: ExpectedService[]): Promise<void> {
  const listed = (await listServices(ns)).map((s) => ({
    line: `${s.protocol.padEnd(4)} ${s.vip}:${s.port} ${s.scheduler}${s.persistenceTimeout > 0 ? ` persistent ${s.persistenceTimeout}` : ''}`,
    realServers: s.realServers.map((r) => `${r.ip}:${r.port} ${r.forward} ${r.weight}`),
  }));
  const byLine = (a: ExpectedService, b: ExpectedService): number => a.line.localeCompare(b.line);
  t.same([...listed].sort(byLine), [...expected].sort(byLine), `${ns}: ulvs list -n shows the configured services`);
  const text = (await ulvsIn(ns, ['list', '-n'])).stdout;
  for (const s of expected) t.ok(text.includes(`${s.line}\n`), `${ns}: list -n text has "${s.line}"`);
}

/** New connections from the client: answered by the expected servers with the expected shares. */
export async function checkTraffic(t: Test, lab: LabTopology, traffic: ExpectedTraffic): Promise<Record<string, number>> {
  const { bodies } = await httpFrom(lab.nodes.client.name, traffic.url, traffic.requests, 'new');
  const shares = tally(bodies);
  if (traffic.shares === 'one') {
    const names = Object.keys(shares);
    t.ok(names.length === 1 && /^rs[123]$/.test(names[0]) && shares[names[0]] === traffic.requests,
      `${traffic.url}: persistence sends all ${traffic.requests} connections to one real server (${JSON.stringify(shares)})`);
  } else {
    t.same(shares, traffic.shares, `${traffic.url}: ${traffic.requests} new connections shared ${JSON.stringify(traffic.shares)}`);
  }
  return shares;
}

export async function addresses(ns: string): Promise<string> {
  return (await labExec(ns, ['ip', '-4', 'addr', 'show'])).stdout;
}

/** VIPs present (or absent) on a director's interfaces. */
export async function checkVips(t: Test, ns: string, vips: string[], present: boolean): Promise<void> {
  const text = await addresses(ns);
  for (const vip of vips) {
    const has = new RegExp(`inet ${vip.replace(/\./g, '\\.')}/`).test(text);
    t.equal(has, present, `${ns}: VIP ${vip} ${present ? 'is held' : 'is gone'}`);
  }
}

/** SIGTERM; exit 0; the VIPs and any XDP program are gone. */
export async function stopAndCheck(t: Test, director: RunningDirector, ns: string, vips: string[]): Promise<void> {
  const code = await director.stop();
  t.equal(code, 0, `${ns}: the director stops cleanly on SIGTERM`);
  await checkVips(t, ns, vips, false);
  const links = (await labExec(ns, ['ip', '-d', 'link', 'show'])).stdout;
  t.notMatch(links, /prog\/xdp|xdpgeneric|xdpdrv/, `${ns}: no XDP program left attached`);
}

/** Starts a director, failing the test with the director's log when it does not start. */
export async function start(ns: string, configFile: string, running: Set<RunningDirector>): Promise<RunningDirector> {
  const d = await startDirector(ns, configFile);
  running.add(d);
  return d;
}

export async function stopAll(running: Set<RunningDirector>): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
  running.clear();
}

/**
 * A process named `name` (comm), for vrrp_scripts such as `killall -0 httpd`: a copy of sleep.
 * Returns a function that ends it.
 */
export function fakeDaemon(name: string): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-daemon-'));
  const bin = join(dir, name);
  copyFileSync('/bin/sleep', bin);
  chmodSync(bin, 0o755);
  const child = spawn(bin, ['600'], { stdio: 'ignore' });
  return () => { child.kill('SIGKILL'); };
}

/**
 * An HTTP server in a real server's namespace that, unlike the lab's, serves /index.html (the
 * seeds' health-check page, containing "Server" as the ldirectord seed expects) besides `/`
 * (answers its name). Replaces the lab server on port 80 for the seeds that check index.html.
 */
export async function startIndexServer(ns: string, name: string, port = 80): Promise<void> {
  const script = `require('http').createServer((q,s)=>{` +
    `if(q.url==='/')return s.end('${name}\\n');` +
    `if(q.url==='/index.html')return s.end('<html><body>Server ${name}</body></html>\\n');` +
    `s.statusCode=404;s.end('not found\\n')}).listen(${port},'0.0.0.0',()=>console.log('ready'))`;
  const r = await labExec(ns, ['sh', '-c', `nohup ${process.execPath} -e "${script}" > /tmp/ulvs-index-${ns}.log 2>&1 & echo $!`]);
  if (r.code !== 0) throw new Error(`cannot start index server in ${ns}: ${r.stderr}`);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const probe = await labExec(ns, ['curl', '-s', '-m', '1', `http://127.0.0.1:${port}/index.html`]);
    if (probe.stdout.includes('Server')) return;
    await sleep(50);
  }
  throw new Error(`index server in ${ns} did not start`);
}

/** A second lab server (scripts/lab-server.mjs) on another port, e.g. a sorry page on 8080. */
export async function startExtraLabServer(ns: string, name: string, port: number): Promise<void> {
  const r = await labExec(ns, ['sh', '-c',
    `nohup ${process.execPath} ${join(REPO, 'scripts/lab-server.mjs')} --name ${name} --port ${port} > /tmp/ulvs-extra-${ns}-${port}.log 2>&1 & echo $!`]);
  if (r.code !== 0) throw new Error(`cannot start lab server on ${ns}:${port}: ${r.stderr}`);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const probe = await labExec(ns, ['curl', '-s', '-m', '1', `http://127.0.0.1:${port}/`]);
    if (probe.stdout.trim() === name) return;
    await sleep(50);
  }
  throw new Error(`lab server ${name}:${port} in ${ns} did not start`);
}

export { sleep };
