// HealthManager with real loopback servers: probe sharing, events, non-blocking timers,
// notify and quorum scripts, sorry server, dynamic weights.
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthManager, type CheckDefinition, type HealthEvent, type QuorumEvent } from '../../src/health/manager.js';
import type { CheckResult } from '../../src/health/types.js';
import { waitFor } from '../../src/lab/index.js';
import { ManualClock, trackedChecks } from '../support/manual-clock.js';

/** For injected runners that answer at once: let the manager take their result in. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A TCP server that counts connections and can be stopped and restarted on the same port. */
async function countingServer(t: Tap.Test, onConn: (s: net.Socket) => void = (s) => s.end()) {
  let connections = 0;
  let server: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  let port = 0;
  const start = () => new Promise<void>((r) => {
    server = net.createServer((s) => { connections++; sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); onConn(s); });
    server.listen(port, '127.0.0.1', () => { port = (server!.address() as net.AddressInfo).port; r(); });
  });
  const stop = () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); if (server) server.close(() => r()); else r(); server = null; });
  await start();
  t.teardown(stop);
  return { get port() { return port; }, get connections() { return connections; }, start, stop };
}

const fast = { delay_loop: 0.2, warmup: 0, connect_timeout: 0.5, retry: 0 };

t.test('two services checking the same endpoint identically share one probe', async (t) => {
  const srv = await countingServer(t);
  const target = { ip: '127.0.0.1', port: srv.port };
  const defs: CheckDefinition[] = [
    { serviceId: 'web80', rsKey: `127.0.0.1:${srv.port}`, target, type: 'tcp_check', params: { ...fast } },
    { serviceId: 'web443', rsKey: `127.0.0.1:${srv.port}`, target, type: 'tcp_check', params: { retry: 0, connect_timeout: 0.5, warmup: 0, delay_loop: 0.2 } },
    { serviceId: 'other', rsKey: `127.0.0.1:${srv.port}`, target, type: 'tcp_check', params: { ...fast, connect_timeout: 0.4 } },
  ];
  const clock = new ManualClock();
  const checks = trackedChecks();
  const hm = new HealthManager(defs, { clock, runner: checks.runner });
  t.equal(hm.probeCount, 2, 'identical checks (any key order) collapse; a different timeout does not');
  const events: HealthEvent[] = [];
  hm.on('change', (e) => events.push(e));
  hm.start();
  t.teardown(() => hm.stop());
  await clock.advance(1100, checks.settle);
  await hm.stop();
  const runs = [...hm.probeRuns().values()];
  // The server counts a connection when its accept event comes round, maybe after the probe's.
  await waitFor(() => srv.connections >= runs[0] + runs[1], 1000);
  t.equal(srv.connections, runs[0] + runs[1], `one connection per probe run (${srv.connections} = ${runs.join(' + ')})`);
  t.ok(runs[0] >= 3 && runs[0] <= 7, `shared probe ran every delay_loop (${runs[0]} runs in 1.1 s)`);
  t.same(events[0].serviceIds.sort(), ['other', 'web443', 'web80'], 'initial state announced once for all services');
  t.equal(events[0].up, true);
});

t.test('down and back up: events carry every service, notify scripts run as given', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-health-mgr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notify = join(dir, 'notify.sh');
  writeFileSync(notify, `#!/bin/sh\necho "$# $*" >> ${join(dir, 'log')}\n`);
  chmodSync(notify, 0o755);
  const srv = await countingServer(t);
  const target = { ip: '127.0.0.1', port: srv.port };
  const rsKey = `127.0.0.1:${srv.port}`;
  const common = { rsKey, target, type: 'tcp_check' as const, params: { ...fast } };
  const clock = new ManualClock();
  const checks = trackedChecks();
  const hm = new HealthManager([
    { ...common, serviceId: 'a', notify_up: `${notify} up a`, notify_down: `${notify} down a` },
    { ...common, serviceId: 'b' },
  ], { clock, runner: checks.runner, services: [{ id: 'a', sorry_server: { ip: '127.0.0.1', port: 1 }, quorum_up: `${notify} quorum_up`, quorum_down: `${notify} quorum_down` }] });
  const events: HealthEvent[] = [];
  const quorum: QuorumEvent[] = [];
  hm.on('change', (e) => events.push(e));
  hm.on('quorum', (e) => quorum.push(e));
  hm.start();
  t.teardown(() => hm.stop());
  t.equal(quorum.find((q) => q.serviceId === 'a')?.sorryServerActive, false, 'start: quorum up, no sorry server');
  await clock.advance(300, checks.settle);
  const t0 = clock.now();
  await srv.stop();
  t.ok(await clock.advanceUntil(() => events.some((e) => !e.up), 2000, checks.settle), 'down event');
  const detectMs = clock.now() - t0;
  const down = events.find((e) => !e.up)!;
  t.same(down.serviceIds.sort(), ['a', 'b']);
  t.equal(down.rsKey, rsKey);
  t.match(down.reason, /tcp_check: .*ECONNREFUSED/);
  t.ok(detectMs <= 200 + 500 + 800, `detected in ${detectMs} ms (delay_loop + connect_timeout)`);
  const qa = quorum.filter((q) => q.serviceId === 'a');
  t.equal(qa.at(-1)?.quorumUp, false, 'service a lost quorum');
  t.equal(qa.at(-1)?.sorryServerActive, true, 'sorry server takes over');
  await srv.start();
  t.ok(await clock.advanceUntil(() => events.filter((e) => e.up).length >= 2, 2000, checks.settle), 'up event after restart');
  t.equal(quorum.filter((q) => q.serviceId === 'a').at(-1)?.sorryServerActive, false, 'sorry server leaves');
  await hm.stop();
  // The scripts are processes of their own: wait for them in real time.
  t.ok(await waitFor(() => existsSync(join(dir, 'log')) && readFileSync(join(dir, 'log'), 'utf8').split('\n').length >= 5, 2000));
  const lines = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').sort();
  t.same(lines, ['1 quorum_down', '1 quorum_up', '2 down a', '2 up a'], 'scripts ran with exactly their configured arguments');
});

t.test('a hanging probe does not hold up the others', async (t) => {
  const hang = await countingServer(t, () => {});
  const good = await countingServer(t);
  const clock = new ManualClock();
  const checks = trackedChecks([hang.port]);
  const hm = new HealthManager([
    { serviceId: 's', rsKey: 'hang', target: { ip: '127.0.0.1', port: hang.port }, type: 'http_get', params: { delay_loop: 5, warmup: 0, retry: 0, connect_timeout: 1.5, url: [{ path: '/' }] } },
    { serviceId: 's', rsKey: 'good', target: { ip: '127.0.0.1', port: good.port }, type: 'tcp_check', params: { ...fast } },
  ], { clock, runner: checks.runner });
  const events: HealthEvent[] = [];
  hm.on('change', (e) => events.push(e));
  const started = Date.now();
  hm.start();
  t.teardown(() => hm.stop());
  await clock.advance(1000, checks.settle);
  await waitFor(() => good.connections >= 3, 1000); // the server's accept events trail the probes'
  const goodRuns = good.connections;
  t.ok(goodRuns >= 3, `the good server was checked ${goodRuns} times while the other hung`);
  t.notOk(events.some((e) => e.rsKey === 'hang' && !e.up), 'hung check not yet timed out');
  // connect_timeout is the checker's own (real) timer.
  // A busy machine may deliver the timer late, never early: wait with margin and check the lower bound.
  t.ok(await waitFor(() => events.some((e) => e.rsKey === 'hang' && !e.up), 8000), 'hung check cut at connect_timeout');
  const cutMs = Date.now() - started;
  t.ok(cutMs >= 1400, `cut after ${cutMs} ms, not before connect_timeout (1500 ms)`);
  const t0 = Date.now();
  await hm.stop();
  t.ok(Date.now() - t0 < 500, 'stop does not wait for timeouts');
});

t.test('a real server is up iff all its checks are; dynamic weights flow into events', async (t) => {
  const results = new Map<string, CheckResult>([
    ['tcp_check', { ok: true, reason: 'ok' }],
    ['misc_check', { ok: true, weight: 7, reason: 'exit 9' }],
  ]);
  const clock = new ManualClock();
  const until = (cond: () => boolean, ms: number): Promise<boolean> => clock.advanceUntil(cond, ms, flush);
  const hm = new HealthManager([
    { serviceId: 's', rsKey: 'rs1', target: { ip: '127.0.0.1', port: 1 }, type: 'tcp_check', params: { ...fast }, weight: 3 },
    { serviceId: 's', rsKey: 'rs1', target: { ip: '127.0.0.1', port: 1 }, type: 'misc_check', params: { misc_path: 'x', delay_loop: 0.1, warmup: 0 }, weight: 3 },
  ], { clock, runner: async (type) => results.get(type)! , services: [{ id: 's', quorum: 5 }] });
  const events: HealthEvent[] = [];
  const quorum: QuorumEvent[] = [];
  hm.on('change', (e) => events.push(e));
  hm.on('quorum', (e) => quorum.push(e));
  hm.start();
  t.teardown(() => hm.stop());
  t.equal(quorum[0].quorumUp, false, 'configured weight 3 < quorum 5 at start');
  t.ok(await until(() => events.some((e) => e.weight === 7), 1000), 'misc_dynamic weight 7 reported');
  t.ok(await until(() => quorum.some((q) => q.quorumUp), 1000), 'weight 7 reaches quorum 5');
  results.set('tcp_check', { ok: false, reason: 'refused' });
  t.ok(await until(() => events.some((e) => !e.up), 1000), 'one failing check takes the real server down');
  t.match(events.find((e) => !e.up)!.reason, /tcp_check: refused/);
  results.set('tcp_check', { ok: true, reason: 'ok' });
  t.ok(await until(() => events.filter((e) => e.up).length >= 3, 1000), 'back up');
  t.same(hm.status(), [{ serviceId: 's', rsKey: 'rs1', up: true, weight: 7, reason: 'tcp_check: ok; misc_check: exit 9' }]);
});

t.test('alpha: starts down, comes up on the first success', async (t) => {
  const srv = await countingServer(t);
  const clock = new ManualClock();
  const checks = trackedChecks();
  const hm = new HealthManager([
    { serviceId: 's', rsKey: 'r', target: { ip: '127.0.0.1', port: srv.port }, type: 'tcp_check', params: { ...fast, alpha: true } },
  ], { clock, runner: checks.runner });
  const events: HealthEvent[] = [];
  hm.on('change', (e) => events.push(e));
  hm.start();
  t.teardown(() => hm.stop());
  t.equal(events[0].up, false, 'initial event: down');
  t.ok(await clock.advanceUntil(() => events.length >= 2, 1000, checks.settle));
  t.equal(events[1].up, true);
});

t.test('reload keeps state of surviving probes, starts new ones, stops removed ones', async (t) => {
  const srv = await countingServer(t);
  const dead = await countingServer(t);
  await dead.stop();
  const mk = (rsKey: string, port: number, serviceId = 's'): CheckDefinition =>
    ({ serviceId, rsKey, target: { ip: '127.0.0.1', port }, type: 'tcp_check', params: { ...fast } });
  const clock = new ManualClock();
  const checks = trackedChecks();
  const hm = new HealthManager([mk('good', srv.port), mk('dead', dead.port)], { clock, runner: checks.runner });
  const events: HealthEvent[] = [];
  hm.on('change', (e) => events.push(e));
  hm.start();
  t.teardown(() => hm.stop());
  t.ok(await clock.advanceUntil(() => events.some((e) => e.rsKey === 'dead' && !e.up), 1500, checks.settle), 'dead server down');
  const before = events.length;
  hm.reload([mk('good', srv.port), mk('dead', dead.port), mk('good', srv.port, 's2'), mk('new', srv.port + 0, 's3')]);
  t.equal(hm.probeCount, 2, 'the same two endpoints, still shared');
  const after = events.slice(before);
  t.notOk(after.some((e) => e.rsKey === 'dead'), 'the down server stays down without a new event (not re-added)');
  t.ok(after.some((e) => e.rsKey === 'good' && e.serviceIds.includes('s2') && e.up), 'a new service using a known probe is announced with its state');
  t.same(hm.status().find((m) => m.rsKey === 'dead')?.up, false);
  const runsBefore = srv.connections;
  hm.reload([mk('dead', dead.port)]);
  t.equal(hm.probeCount, 1);
  await clock.advance(600, checks.settle);
  t.ok(srv.connections - runsBefore <= 1, `removed probe stopped (${srv.connections - runsBefore} more connections)`);
});
