// Several labs at once, and cleanup after a crash: a lab only ever touches its own names.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import {
  createLab,
  destroyLab,
  labExec,
  labNamespaceNames,
  labNodes,
  labStatus,
  listLabPrefixes,
  pidfilePath,
  runningServerPid,
  waitForOrFail,
} from '../../src/lab/index.js';

// The second prefix starts with the first: destroying 'tlb-i-' must not match 'tlb-i-x-client'.
const A = 'tlb-i-';
const B = 'tlb-i-x-';

const present = (ns: string) => existsSync(`/run/netns/${ns}`);
const curlName = async (prefix: string, rs: 'rs1' | 'rs2' | 'rs3') =>
  (await labExec(prefix + 'client', ['curl', '-s', '--max-time', '3', `http://${labNodes(prefix)[rs].ip}/`])).stdout;

t.teardown(async () => {
  await destroyLab({ prefix: A });
  await destroyLab({ prefix: B });
});

t.test('two labs side by side, torn down independently', async (t) => {
  await Promise.all([createLab({ prefix: A }), createLab({ prefix: B, nat: true })]);
  t.equal(await curlName(A, 'rs1'), 'rs1\n');
  t.equal(await curlName(A, 'rs3'), 'rs3\n');
  const natRs2 = labNodes(B, { nat: true }).rs2.ip;
  t.equal((await labExec(B + 'dir1', ['curl', '-s', '--max-time', '3', `http://${natRs2}/`])).stdout, 'rs2\n');
  t.ok(listLabPrefixes().includes(A) && listLabPrefixes().includes(B), 'both labs listed');
  const [sa, sb] = await Promise.all([labStatus({ prefix: A }), labStatus({ prefix: B })]);
  t.ok(sa.up && !sa.nat, 'A up, DR');
  t.ok(sb.up && sb.nat, 'B up, NAT');

  await destroyLab({ prefix: A });
  t.notOk(labNamespaceNames(A).some(present), 'A gone');
  t.ok(labNamespaceNames(B).every(present), 'B untouched');
  t.ok(runningServerPid(B + 'rs1') !== undefined, "B's servers untouched");
  const bDir = labExec(B + 'dir2', ['curl', '-s', '--max-time', '3', `http://${labNodes(B, { nat: true }).rs1.ip}/`]);
  t.equal((await bDir).stdout, 'rs1\n');
  await destroyLab({ prefix: B });
  t.notOk(labNamespaceNames(B).some(present), 'B gone');
});

t.test('down after a crash: partial lab, stray processes, stale pidfiles', async (t) => {
  await createLab({ prefix: A, servers: false });
  // A process left behind in dir1 (a director that outlived its test) and a stale pidfile.
  const stray = spawn('ip', ['netns', 'exec', A + 'dir1', 'sleep', '300'], { stdio: 'ignore' });
  t.teardown(() => {
    if (stray.exitCode === null) stray.kill('SIGKILL');
  });
  const strayExit = new Promise<string | null>((resolve) => stray.once('exit', (_c, sig) => resolve(sig)));
  writeFileSync(pidfilePath(A + 'rs2'), '999999\n');
  const inDir1 = (): boolean => execFileSync('ip', ['netns', 'pids', A + 'dir1'], { encoding: 'utf8' }).split(/\s+/).includes(String(stray.pid));
  await waitForOrFail('the stray process to be inside dir1', inDir1, 5_000);
  // Half a lab, as if createLab died midway.
  await new Promise<void>((resolve, reject) =>
    spawn('ip', ['netns', 'del', A + 'rs3']).once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`exit ${c}`)))),
  );
  const status = await labStatus({ prefix: A });
  t.ok(status.partial && !status.up, 'reported as partial');
  t.equal(runningServerPid(A + 'rs2'), undefined, 'a stale pidfile is not a running server');

  await destroyLab({ prefix: A });
  t.notOk(labNamespaceNames(A).some(present), 'all namespaces removed');
  t.equal(await strayExit, 'SIGTERM', 'the stray process inside the lab was terminated');
  t.notOk(existsSync(pidfilePath(A + 'rs2')), 'stale pidfile removed');
  t.notOk(readdirSync('/run/netns').some((ns) => ns.startsWith(A)), 'nothing with the prefix left');
});
