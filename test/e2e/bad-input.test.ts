// What bad input gets: config mistakes, a missing interface, no root, and garbage frames.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec, waitFor } from '../../src/lab/index.js';
import { checkoutReadableByNobody } from '../support/readable-checkout.js';
import { REPO, ULVS, httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'e2bad-';

t.test('a config mistake: FILE:LINE:COL, exit 2, no stack trace', async (t) => {
  const file = writeConfig('dataplane:\n  interface: eth0\nvirtual_servers:\n  - vip: 198.18.0.100\n    port: 80\n    lb_algo: wrrr\n    real_servers: []\n');
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, [ULVS, 'run', '-c', file], { encoding: 'utf8' });
  t.equal(run.status, 2, 'exit code 2');
  t.match(run.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6:14: .*wrrr.*\\(did you mean "wrr"\\?\\)`, 'm'), 'FILE:LINE:COL with a did-you-mean');
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
});

t.test('environment problems give one clear line', async (t) => {
  t.teardown(() => destroyLab({ prefix }));
  const lab = await createLab({ prefix, servers: false });
  const { spawnSync } = await import('node:child_process');
  const sample = readFileSync(join(REPO, 'configs/lab-dr.yaml'), 'utf8');
  const noIface = writeConfig(sample.replace('interface: eth0', 'interface: eth9').replace('dev: eth0', 'dev: eth9'));
  const r1 = spawnSync('ip', ['netns', 'exec', lab.nodes.dir1.name, process.execPath, ULVS, 'run', '-c', noIface], { encoding: 'utf8' });
  t.equal(r1.status, 1, 'missing interface: exit 1');
  t.match(r1.stderr, /^ulvs: interface eth9 does not exist in this network namespace: check dataplane\.interface\n$/, 'missing interface: one line that says what to check');
  const cfg = writeConfig(sample);
  // A clean environment: tap's coverage hooks in NODE_OPTIONS would try to write as nobody.
  // Run from a checkout nobody can read (a copy if this one lies under a private directory).
  const readable = checkoutReadableByNobody();
  const r2 = spawnSync('env', ['-u', 'NODE_OPTIONS', 'runuser', '-u', 'nobody', '--', process.execPath, join(readable, 'bin/ulvs.js'), 'run', '-c', cfg],
    { encoding: 'utf8', cwd: readable });
  t.equal(r2.status, 1, 'not root: exit 1');
  t.match(r2.stderr, /^ulvs: ulvs run needs CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_PERFMON, CAP_IPC_LOCK: run as root or grant them\n$/, `not root: one line that says what to do (${r2.stderr})`);
});

t.test('garbage frames are dropped and counted; the dataplane keeps forwarding', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(readFileSync(join(REPO, 'configs/lab-dr.yaml'), 'utf8')));
  const c = lab.nodes.client;
  const sent = await labExec(c.name, ['python3', join(REPO, 'test/e2e/fixtures/send-garbage.py'), 'eth0',
    lab.nodes.dir1.mac, c.mac, c.ip, lab.vip, '2000', '7'], { timeoutMs: 60_000 });
  t.equal(sent.code, 0, `garbage sender ran (${sent.stderr.trim()})`);
  t.equal(Number(sent.stdout.trim()), 2007, 'sent 2,007 malformed frames');
  // The frames are counted once the dataplane has been through them.
  const readStats = async (): Promise<Record<string, number>> =>
    JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['stats', '--json'])).stdout) as Record<string, number>;
  await waitFor(async () => (await readStats()).drop_bad_ip_checksum >= 1, 5000, 100);
  const stats = await readStats();
  const drops = Object.entries(stats).filter(([k]) => k.startsWith('drop_')).reduce((n, [, v]) => n + v, 0);
  t.ok(drops > 0, `malformed frames that reached the dataplane were dropped and counted (${drops})`);
  t.ok(stats.drop_bad_ip_checksum >= 1, `bad IPv4 checksum counted under its reason (${JSON.stringify(stats)})`);
  t.ok(director.process.exitCode === null, 'the director is still running');
  const after = await httpFrom(c.name, `http://${lab.vip}/`, 7, 'new');
  t.same(tally(after.bodies), { rs1: 1, rs2: 3, rs3: 3 }, 'and still forwards (7 new connections shared 1/3/3)');
});
