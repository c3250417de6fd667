// The wall clock of a running director jumps an hour forward, back, and an hour back again
// (an NTP step, an operator's `date -s`) while connections stream through it: connection
// timeouts, persistence templates, VRRP adverts and health checks run on the monotonic clock,
// so nothing expires early, nothing stalls, and the backup never takes over.
//
// The host's clock is shared with every test running beside this one, so only the director's is
// moved: libfaketime (Debian's faketime, installed by scripts/setup.sh) preloaded into dir1 with
// FAKETIME_DONT_FAKE_MONOTONIC, its offset read from a file this test rewrites. The director's
// own answers prove the move: its health checks' "last result at" is an hour off.
// test/dataplane/monotonic-clock.test.ts is the unit-level half (and the Date.now() audit).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labDirectorConfig, waitForOrFail } from '../../src/lab/index.js';
import { httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from '../e2e/director.js';
import { brokenStreams, statsOf, streamingClient, type StreamingClient } from '../e2e/failover-harness.js';

const prefix = 'e2cj-';
const HOUR_S = 3600;
const PERSISTENCE_S = 600;
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'].find(existsSync);

interface Status {
  vrrp: { state: string; advertsReceived: number; advertsSent: number; lastTransition: { to: string } | null }[];
  health?: { checkers: { runs: number; lastResult: { at: string } | null }[] };
}
interface Conn { protocol: string; state: string; expiresIn: number; source: string; destination: string }

function config(state: 'MASTER' | 'BACKUP', priority: number): string {
  const check = 'tcp_check: { connect_timeout: 1, retry: 0 }';
  return labDirectorConfig({
    vrrp: [{ state, virtualRouterId: 61, priority, advertInt: 1, authPass: 'cj' }],
    services: [{ keys: ['delay_loop: 1', `persistence_timeout: ${PERSISTENCE_S}`], realServers: [10, 20, 30].map((o) => ({ ip: `198.18.0.${o}`, extra: check })) }],
  });
}

async function statusOf(ns: string): Promise<Status> {
  return JSON.parse((await ulvsIn(ns, ['status', '--json'])).stdout) as Status;
}

/** How far the director's wall clock is from ours, in seconds, from its newest check result. */
async function wallOffsetS(ns: string): Promise<number | null> {
  const at = (await statusOf(ns)).health?.checkers.map((c) => c.lastResult?.at).filter((a): a is string => !!a).sort().at(-1);
  return at === undefined ? null : (Date.parse(at) - Date.now()) / 1000;
}

t.test('a wall clock an hour forward and back changes no timer of a running director', async (t) => {
  t.ok(LIBFAKETIME, 'libfaketime is installed (scripts/setup.sh installs Debian\'s faketime)');
  if (!LIBFAKETIME) return;
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-clock-'));
  const offsetFile = join(dir, 'offset');
  writeFileSync(offsetFile, '+0\n');
  let dir1: RunningDirector | null = null;
  let dir2: RunningDirector | null = null;
  let client: StreamingClient | null = null;
  t.teardown(async () => {
    client?.kill();
    await dir1?.stop(); await dir2?.stop(); await destroyLab({ prefix });
    rmSync(dir, { recursive: true, force: true });
  });
  const lab = await createLab({ prefix });
  const [n1, n2, nc] = [lab.nodes.dir1.name, lab.nodes.dir2.name, lab.nodes.client.name];
  dir1 = await startDirector(n1, writeConfig(config('MASTER', 150)), undefined, {
    LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_CACHE_DURATION: '1',
  });
  dir2 = await startDirector(n2, writeConfig(config('BACKUP', 100)));
  await waitForOrFail('dir1 MASTER and dir2 BACKUP', async () => (await statusOf(n1)).vrrp[0]?.state === 'MASTER'
    && (await statusOf(n2)).vrrp[0]?.state === 'BACKUP', 60_000, 500);
  await waitForOrFail('dir1\'s checks to report', async () => (await wallOffsetS(n1)) !== null, 60_000, 500);

  // Persistence: the client's first connection picks the server all later ones go to.
  const first = tally((await httpFrom(nc, `http://${lab.vip}/`, 3)).bodies);
  const chosen = Object.keys(first);
  t.equal(chosen.length, 1, `persistence sends the client to one server (${JSON.stringify(first)})`);
  client = streamingClient(nc, lab.vip, 4);
  await client.ready;
  const transitionsBefore = [(await statusOf(n1)).vrrp[0].lastTransition, (await statusOf(n2)).vrrp[0].lastTransition];

  let followed = 0;
  for (const [what, offset, expected] of [['forward', '+1h', HOUR_S], ['back', '+0', 0], ['back again', '-1h', -HOUR_S]] as const) {
    writeFileSync(offsetFile, `${offset}\n`);
    // The event: dir1 itself reports the new wall clock (a check result stamped an hour off).
    await waitForOrFail(`dir1's wall clock to be ${offset}`, async () => {
      const seen = await wallOffsetS(n1);
      return seen !== null && Math.abs(seen - expected) < 120;
    }, 60_000, 500);
    const [s1, s2] = [await statusOf(n1), await statusOf(n2)];
    // dir2 hears several adverts after the jump: dir1's advert timer neither stalled nor raced.
    await waitForOrFail(`dir2 to hear 5 more adverts after the jump ${what}`,
      async () => (await statusOf(n2)).vrrp[0].advertsReceived >= s2.vrrp[0].advertsReceived + 5, 60_000, 500);
    const [after1, after2] = [await statusOf(n1), await statusOf(n2)];
    t.equal(after1.vrrp[0].state, 'MASTER', `dir1 stays MASTER after the jump ${what}`);
    t.equal(after2.vrrp[0].state, 'BACKUP', `dir2 stays BACKUP after the jump ${what}`);
    const runs = (s: Status) => (s.health?.checkers ?? []).reduce((n, c) => n + c.runs, 0);
    t.ok(runs(after1) > runs(s1), `dir1's health checks keep running after the jump ${what} (${runs(s1)} -> ${runs(after1)} runs)`);

    const conns = JSON.parse((await ulvsIn(n1, ['conns', '--json'])).stdout) as Conn[];
    const streams = conns.filter((c) => c.protocol === 'TCP' && c.state === 'ESTABLISHED');
    const templates = conns.filter((c) => c.state === 'NONE');
    t.ok(streams.length >= 4, `the 4 streaming connections are still tracked after the jump ${what} (${streams.length})`);
    t.ok(streams.every((c) => c.expiresIn > 800 && c.expiresIn <= 900), `their timeouts are neither run out nor an hour longer (${streams.map((c) => c.expiresIn).join(' ')} s)`);
    t.equal(templates.length, 1, `the client's persistence template is still there after the jump ${what}`);
    t.ok(templates[0] !== undefined && templates[0].expiresIn > PERSISTENCE_S - 300 && templates[0].expiresIn <= PERSISTENCE_S,
      `and expires in ${templates[0]?.expiresIn} s of ${PERSISTENCE_S}`);
    t.equal((await statsOf(n1)).conn_expired ?? 0, 0, 'no connection expired');
    const again = tally((await httpFrom(nc, `http://${lab.vip}/`, 3)).bodies);
    followed += again[chosen[0]] ?? 0;
    t.same(Object.keys(again), chosen, `new connections still go to the persistent server ${chosen[0]} (${JSON.stringify(again)})`);
  }

  const endAt = Date.now();
  const streams = await client.stop();
  client = null;
  const broken = brokenStreams(streams, endAt);
  t.equal(broken, 0, 'no streaming connection broke or stalled');
  t.comment(`FAULT-MATRIX | wall clock +1 h, back, -1 h (dir1, libfaketime) | streams 4, broken ${broken} | new connections to the persistent server ${followed} of 9`);
  t.ok(streams.every((s) => s.bodies.length === 1 && s.bodies[0] === chosen[0]), `each stream was answered by ${chosen[0]} only`);
  t.same([(await statusOf(n1)).vrrp[0].lastTransition, (await statusOf(n2)).vrrp[0].lastTransition], transitionsBefore,
    'neither director changed VRRP state');
});
