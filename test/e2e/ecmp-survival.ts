// Connection survival behind ECMP (issue 19 part 3), shared by the per-scheduler e2e files: in
// the --ecmp lab, 100 long-lived keep-alive connections stream through the VIP while (a) dir3
// joins, (b) dir2 is drained (`ulvs bgp disable`, then the route is gone), (c) dir1 is killed
// with kill -9. Each event gets its own 100 connections, opened before it and read once every
// connection still open has answered after the router's route changed (or a minute passed: a
// connection stalled since then is broken). Last, dir2 (enabled again) dies whole (its link cut,
// as a host that loses power): the time to the route gone on the router is the BGP hold time
// without BFD and BFD's detection with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';
import { labExec } from '../../src/lab/index.js';
import { REPO, ULVS } from './director.js';
import { ecmpRig, type EcmpRig } from './ecmp-support.js';

const STREAMS = join(REPO, 'test/e2e/ecmp-streams.mjs');
export const CONNECTIONS = 100;
const EVERY_MS = 200;
/** Packets a director must receive over the window to count as carrying some of the streams (BGP, ARP and sync are a few a second). */
const CARRYING = 100;

export interface StreamResult { answers: number; last: number; error: string | null; errorAt: number; bodies: string[] }

/** The client's streams (ecmp-streams.mjs) in its namespace. */
export class Streams {
  private child: ChildProcess;
  private answered: number[] = [];
  private readyResolve!: () => void;
  private resultsResolve!: (r: StreamResult[]) => void;
  private resultsReject!: (e: Error) => void;
  readonly ready: Promise<void>;
  readonly results: Promise<StreamResult[]>;
  private stderr = '';

  constructor(namespace: string, count = CONNECTIONS) {
    this.ready = new Promise((res) => { this.readyResolve = res; });
    this.results = new Promise((res, rej) => { this.resultsResolve = res; this.resultsReject = rej; });
    this.results.catch(() => undefined);
    this.child = spawn('ip', ['netns', 'exec', namespace, process.execPath, STREAMS, '198.18.0.100', '80', String(count), String(EVERY_MS), '600000'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const msg = JSON.parse(text) as { ready?: true; tick?: number; answered?: number[]; results?: StreamResult[] };
      if (msg.ready) this.readyResolve();
      if (msg.answered) this.answered = msg.answered;
      if (msg.results) this.resultsResolve(msg.results);
    });
    // After the results line this rejects nothing (a promise settles once).
    this.child.once('exit', (code) => this.resultsReject(new Error(`ecmp-streams exited ${code} without results: ${this.stderr}`)));
  }

  async waitReady(timeoutMs = 90_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`not every stream answered within ${timeoutMs} ms: ${this.stderr}`)), timeoutMs); });
    try { await Promise.race([this.ready, late]); } finally { clearTimeout(timer); }
  }

  /** Waits until every connection still open has answered after `since`; false if some had not after timeoutMs. */
  async answeredAfter(since: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.answered.length && this.answered.every((last) => last === 0 || last > since)) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  }

  stop(): Promise<StreamResult[]> {
    this.child.stdin!.end('stop\n');
    return this.results;
  }

  kill(): void { this.child.kill('SIGKILL'); }
}

/** Broken: failed (reset, closed) or no answer since the route changed at `since`. */
export function brokenOf(results: readonly StreamResult[], since: number): { broken: number; errors: Record<string, number> } {
  const errors: Record<string, number> = {};
  let broken = 0;
  for (const r of results) {
    const why = r.error ?? (r.last <= since ? 'STALLED' : null);
    if (why === null) continue;
    broken++;
    errors[why] = (errors[why] ?? 0) + 1;
  }
  return { broken, errors };
}

/** Frames the switch sent to the director's port (what it received) over `ms`. */
async function received(rig: EcmpRig, short: string, ms: number): Promise<number> {
  const read = async (): Promise<number> => {
    const { stdout } = await labExec(rig.lab.topology.switchNamespace, ['ip', '-s', '-j', 'link', 'show', 'dev', short]);
    return (JSON.parse(stdout) as { stats64: { tx: { packets: number } } }[])[0].stats64.tx.packets;
  };
  const before = await read();
  await new Promise((r) => setTimeout(r, ms));
  return (await read()) - before;
}

const cli = (ns: string, args: string[]) => labExec(ns, [process.execPath, ULVS, ...args], { timeoutMs: 90_000 });

export async function stats(ns: string): Promise<Record<string, number>> {
  const r = await cli(ns, ['stats', '--json']);
  if (r.code !== 0) throw new Error(`ulvs stats in ${ns}: ${r.code} ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

export interface SurvivalOptions {
  prefix: string;
  config: string;
  bfd: boolean;
  label: string;
  /** Checks after dir3 joined (e.g. that it picked flows up, by sync or mid-flow). */
  afterJoin?(t: Test, rig: EcmpRig, ns: (short: string) => string): Promise<void>;
}

export interface SurvivalFigures { broken: Record<'a' | 'b' | 'c', number>; killToRouteMs: number; hostDeathToRouteMs: number }

export async function runSurvival(t: Test, o: SurvivalOptions): Promise<SurvivalFigures> {
  const rig = await ecmpRig(o.prefix, { config: o.config, bfd: o.bfd });
  t.teardown(() => rig.teardown());
  const ns = (short: string): string => rig.lab.directors.find((d) => d.short === short)!.namespace;
  const client = rig.lab.client.namespace;
  const broken = { a: -1, b: -1, c: -1 };

  // One at a time: two node starts at once are slow on a loaded machine.
  await rig.start('dir1');
  await rig.start('dir2');
  await rig.waitHops('dir1 and dir2 announce', ['dir1', 'dir2'], 60_000);

  const event = async (name: 'a' | 'b' | 'c', what: string, before: () => Promise<void>, act: () => Promise<number>, goal: number): Promise<void> => {
    const streams = new Streams(client);
    try {
      await streams.waitReady();
      await before();
      const changed = await act();
      const settled = await streams.answeredAfter(changed, 60_000);
      const { broken: n, errors } = brokenOf(await streams.stop(), changed);
      broken[name] = n;
      t.comment(`${o.label} (${name}) ${what}: ${n} of ${CONNECTIONS} connections broken${n ? ` ${JSON.stringify(errors)}` : ''}${settled ? '' : ' (some stalled a minute after the route changed)'}`);
      t.ok(n <= goal, `(${name}) ${what}: at most ${goal} of ${CONNECTIONS} broken (${n})`);
    } finally {
      streams.kill();
    }
  };

  await event('a', 'dir3 joins', async () => undefined, async () => {
    await rig.start('dir3');
    await rig.waitHops('dir3 joins', ['dir1', 'dir2', 'dir3'], 60_000);
    const at = Date.now();
    t.ok(await received(rig, 'dir3', 3000) >= CARRYING, 'dir3 carries some of the streams once it is announced');
    return at;
  }, 0);
  await o.afterJoin?.(t, rig, ns);

  await event('b', 'dir2 drained (ulvs bgp disable)', async () => {
    t.ok(await received(rig, 'dir2', 2000) >= CARRYING, 'dir2 carries some of the streams before its drain');
  }, async () => {
    const r = await cli(ns('dir2'), ['bgp', 'disable']);
    t.equal(r.code, 0, r.stderr);
    const ms = await rig.waitHops('dir2 drained', ['dir1', 'dir3'], 60_000);
    t.comment(`${o.label}: ulvs bgp disable returned -> route gone on the router: ${ms} ms`);
    return Date.now();
  }, 0);

  let killToRouteMs = -1;
  await event('c', 'dir1 killed (kill -9)', async () => {
    t.ok(await received(rig, 'dir1', 2000) >= CARRYING, 'dir1 carries some of the streams before its kill');
  }, async () => {
    const killed = Date.now();
    rig.directors.get('dir1')!.process.kill('SIGKILL');
    await rig.waitHops('dir1 withdrawn after kill -9', ['dir3'], 60_000);
    const at = Date.now();
    killToRouteMs = at - killed;
    t.comment(`${o.label}: kill -9 of ulvs on dir1 -> route gone on the router: ${killToRouteMs} ms (its bird withdraws when ulvs's liveness interface goes; BFD ${o.bfd ? 'on' : 'off'})`);
    return at;
  }, Math.floor(CONNECTIONS / 100));
  rig.directors.delete('dir1');

  // The whole director dies (power, kernel panic, cable): nothing more leaves it, no FIN closes
  // its BGP session (a killed bird's kernel would send one). Only the router's BGP hold timer,
  // or BFD, sees it: its switch port goes down.
  const enabled = await cli(ns('dir2'), ['bgp', 'enable']);
  t.equal(enabled.code, 0, enabled.stderr);
  await rig.waitHops('dir2 back after enable', ['dir2', 'dir3'], 60_000);
  const died = Date.now();
  const cut = await labExec(rig.lab.topology.switchNamespace, ['ip', 'link', 'set', 'dir2', 'down']);
  t.equal(cut.code, 0, cut.stderr);
  await rig.waitHops('dir2 gone after its host died', ['dir3'], 60_000);
  const hostDeathToRouteMs = Date.now() - died;
  t.comment(`${o.label}: dir2 dies whole (its link cut) -> route gone on the router: ${hostDeathToRouteMs} ms, BFD ${o.bfd ? 'on (100 ms x 3)' : 'off (hold time 6 s)'}`);
  if (o.bfd) t.ok(hostDeathToRouteMs < 6000, `BFD sees it before the hold time (${hostDeathToRouteMs} ms < 6,000 ms)`);
  else t.ok(hostDeathToRouteMs >= 3000, `without BFD the router waits for its hold time (${hostDeathToRouteMs} ms; 6 s, a keepalive may have come up to 2 s before)`);
  return { broken, killToRouteMs, hostDeathToRouteMs };
}
