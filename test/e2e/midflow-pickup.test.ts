// Mid-flow pickup across a failover (IPVS's sloppy_tcp): two ulvs directors (VRRPv3, advert
// 0.1 s, DR, lb_algo mh with mh-port so the 30 connections spread over the three servers), 30
// keep-alive HTTP connections from the client each asking every 50 ms, `kill -9` of the
// MASTER. With the default sloppy_tcp (auto: mh picks up) the backup schedules each
// connection's next segment onto the server the master had chosen and none breaks; with
// sloppy_tcp: false (IPVS's default) the backup drops them and every connection stalls.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createLab, destroyLab, labExec, type LabTopology } from '../../src/lab/index.js';
import { REPO, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'mfp-';
const STREAMS = join(REPO, 'test/e2e/keepalive-streams.mjs');
const CONNECTIONS = 30;
const EVERY_MS = 50;
/** Streaming before the kill, once every connection has been answered. */
const BEFORE_KILL_MS = 1500;
/** Streaming after dir2 says MASTER. */
const AFTER_TAKEOVER_MS = 5000;
/** A connection that got no answer in the last STALL_MS of the run has broken. */
const STALL_MS = 2500;

interface Stream { answers: number[]; bodies: string[]; error: string | null }

function config(state: 'MASTER' | 'BACKUP', priority: number, sloppyTcp: string): string {
  return `dataplane: { interface: eth0, io: auto${sloppyTcp ? `, sloppy_tcp: ${sloppyTcp}` : ''} }
vrrp_instances:
  - name: VI_1
    state: ${state}
    interface: eth0
    virtual_router_id: 61
    version: 3
    priority: ${priority}
    advert_int: 0.1
    # Under the shared machine's load adverts come late and dir2 may briefly take over (and be
    # preempted); the MASTER's GARP refresh brings the client back to it within a second.
    garp_master_refresh: 1
    virtual_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ]
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: mh
    mh_port: true
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
      - { ip: 198.18.0.30, port: 80 }
`;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The director's VRRP state from its own log (polling `ulvs status` would load the machine). */
function stateOf(dir: RunningDirector): string | undefined {
  const moves = [...dir.log().matchAll(/VRRP VI_1: \w+ -> (\w+)/g)];
  return moves.at(-1)?.[1];
}

async function stats(ns: string): Promise<Record<string, number>> {
  return JSON.parse((await ulvsIn(ns, ['stats', '--json'])).stdout) as Record<string, number>;
}

interface Outcome { broken: number; errors: Record<string, number>; streams: Stream[]; killedAt: number; backupStats: Record<string, number> }

/** The streaming client in the client namespace: resolves `ready` when all are answered; stop() ends it. */
function streamingClient(namespace: string, vip: string) {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, STREAMS, vip, '80', String(CONNECTIONS), String(EVERY_MS), '60000'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const ready = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`client not ready in 45 s: ${out} ${err}`)), 45_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) { clearTimeout(timer); res(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`client exited ${code}: ${out} ${err}`)); });
  });
  const exited = new Promise<number | null>((res) => child.once('exit', res));
  const stop = async (): Promise<Stream[]> => {
    child.stdin.end('stop\n');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(kill);
    if (code !== 0) throw new Error(`client exited ${code}: ${err}`);
    return JSON.parse(out.slice('ready\n'.length)) as Stream[];
  };
  return { ready, stop, kill: () => child.kill('SIGKILL') };
}

/** Brings up a fresh lab and both directors, streams, kills dir1 with -9, tears all down. */
async function failover(t: Tap.Test, sloppyTcp: string): Promise<Outcome> {
  let dir1: RunningDirector | null = null;
  let dir2: RunningDirector | null = null;
  let client: ReturnType<typeof streamingClient> | null = null;
  const logs: string[] = [];
  // ip netns delete of the lab also takes the VIP and XDP program the killed dir1 left behind.
  t.teardown(async () => { client?.kill(); await dir1?.stop(); await dir2?.stop(); await destroyLab({ prefix }); });
  t.teardown(() => {
    if (!t.passing()) t.comment(`dir1:\n${logs[0] ?? dir1?.log() ?? ''}\ndir2:\n${dir2?.log() ?? ''}`);
  });
  const lab: LabTopology = await createLab({ prefix });
  // Both directors' kernels ignore the VIP's segments that ulvs does not take (netfilter runs
  // after XDP, so this changes nothing for what ulvs steers). Why: (1) a process killed with -9
  // leaves its host up; its XDP program falls back to XDP_PASS and dir1's kernel, which still
  // holds the VIP, would RST every segment that reaches it before dir2's GARP moves the
  // client; a dead host is silent (what a director does about its own leftovers after a crash
  // is issue 11 part 3). (2) Under the shared machine's load, VRRP at advert 0.1 s flaps (dir2
  // goes MASTER, is preempted), and while the VIP is on dir2's interface but not steered (just
  // before the address goes) its kernel would RST too: a VRRP/address-ordering matter, not the
  // pickup this test is about. Without this, neither scenario could tell pickup from RSTs.
  for (const node of [lab.nodes.dir1.name, lab.nodes.dir2.name]) {
    const silence = await labExec(node, ['nft', '-f', '-'], {
      input: `table ip mfp_quiet {\n  chain input {\n    type filter hook input priority 0;\n    ip daddr ${lab.vip} tcp dport 80 drop\n  }\n}\n`,
    });
    t.equal(silence.code, 0, `${node}'s kernel ignores the VIP's segments ${silence.stderr}`);
  }
  dir1 = await startDirector(lab.nodes.dir1.name, writeConfig(config('MASTER', 150, sloppyTcp)));
  dir2 = await startDirector(lab.nodes.dir2.name, writeConfig(config('BACKUP', 100, sloppyTcp)));
  await waitFor('dir1 MASTER and dir2 BACKUP', async () => stateOf(dir1!) === 'MASTER' && stateOf(dir2!) === 'BACKUP', 15_000);

  client = streamingClient(lab.nodes.client.name, lab.vip);
  await client.ready;
  await new Promise((r) => setTimeout(r, BEFORE_KILL_MS));
  const killedAt = Date.now();
  dir1.process.kill('SIGKILL');
  await dir1.stop();
  logs[0] = dir1.log();
  dir1 = null;
  await waitFor('dir2 to take over', async () => stateOf(dir2!) === 'MASTER', 5000);
  await new Promise((r) => setTimeout(r, AFTER_TAKEOVER_MS));
  const endAt = Date.now();
  const streams = await client.stop();
  client = null;
  t.equal(streams.length, CONNECTIONS, 'the client reports every connection');
  const broken = streams.filter((s) => s.error !== null || !s.answers.some((a) => a > endAt - STALL_MS)).length;
  const errors: Record<string, number> = {};
  for (const s of streams) errors[s.error ?? 'none'] = (errors[s.error ?? 'none'] ?? 0) + 1;
  const backupStats = await stats(lab.nodes.dir2.name);
  const flaps = (dir2.log().match(/VRRP VI_1: BACKUP -> MASTER/g) ?? []).length - 1;
  t.comment(`errors ${JSON.stringify(errors)}; dir2 became MASTER ${flaps} times before the kill; dir2 stats ${JSON.stringify(backupStats)}`);
  return { broken, errors, streams, killedAt, backupStats };
}

t.test('default sloppy_tcp (auto) with mh: a kill -9 of the MASTER breaks 0 of 30 connections', { timeout: 180_000 }, async (t) => {
  const o = await failover(t, '');
  t.equal(o.broken, 0, `${o.broken} of ${CONNECTIONS} connections broke`);
  const servers = new Set(o.streams.flatMap((s) => s.bodies));
  t.ok(servers.size > 1, `mh-port spread the connections over ${[...servers].join(', ')}`);
  t.ok(o.streams.every((s) => s.bodies.length === 1), 'each connection stayed on one server');
  t.ok(o.streams.every((s) => s.answers.filter((a) => a > o.killedAt).length >= 20), 'each kept getting answers after the takeover');
  // At least one pickup per connection, unless a VRRP flap under load (advert 0.1 s) let dir2
  // pick some up earlier and keep their entries.
  t.ok(o.backupStats.sloppy_pickups > 0, `the backup picked them up mid-flow (sloppy_pickups ${o.backupStats.sloppy_pickups})`);
});

t.test('sloppy_tcp: false (IPVS default): the same failover breaks the connections', { timeout: 180_000 }, async (t) => {
  const o = await failover(t, 'false');
  t.ok(o.broken >= CONNECTIONS - 5, `${o.broken} of ${CONNECTIONS} connections broke`);
  t.equal(o.backupStats.sloppy_pickups, 0, 'nothing picked up');
  t.ok(o.backupStats.drop_no_flow > 0, `the backup dropped their segments (drop_no_flow ${o.backupStats.drop_no_flow})`);
});
