import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { checkerNotifyCommand, runNotify, vrrpNotifyCommand } from '../../src/os/notify.js';

const dir = mkdtempSync(join(tmpdir(), 'ulvs-notify-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// Notify children and their timers are unref'd (the daemon never waits for them): keep this
// process alive while the tests await them, as the daemon's own sockets do.
const keepAlive = setInterval(() => {}, 1000);
t.teardown(() => clearInterval(keepAlive));

/** Killed: gone, or a zombie its new parent has not reaped yet. */
function deadOrZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function recorder(): { warnings: Array<[object, string | undefined]>; warn(obj: object, msg?: string): void } {
  const warnings: Array<[object, string | undefined]> = [];
  return { warnings, warn(obj, msg) { warnings.push([obj, msg]); } };
}

t.test('VRRP notify: keepalived arguments appended, the line runs through the shell', async (t) => {
  const out = join(dir, 'vrrp.log');
  const result = await runNotify(vrrpNotifyCommand(`echo >>${out}`, ['INSTANCE', 'VI_1', 'MASTER', '150']));
  t.same(result, { code: 0, signal: null });
  t.equal(readFileSync(out, 'utf8'), 'INSTANCE VI_1 MASTER 150\n');
});

t.test('checker notify: run as given, split into words, no shell', async (t) => {
  const out = join(dir, 'checker.log');
  const result = await runNotify(checkerNotifyCommand(`/bin/sh -c "echo up >${out}; exit 3"`));
  t.same(result, { code: 3, signal: null });
  t.equal(readFileSync(out, 'utf8'), 'up\n');
  t.same(checkerNotifyCommand('/x.sh "a b" c >/f').argv, ['/x.sh', 'a b', 'c', '>/f'], 'a redirection is only a word');
});

t.test('a script that outlives its timeout has its whole process group killed, and it is logged', async (t) => {
  const log = recorder();
  const pidFile = join(dir, 'child.pid');
  // The shell forks a sleeper and waits: killing the group must take the sleeper too.
  const started = Date.now();
  const result = await runNotify(vrrpNotifyCommand(`sleep 30 & echo $! >${pidFile}; wait`, []), { timeoutMs: 300, logger: log });
  t.equal(result.signal, 'SIGKILL');
  t.ok(Date.now() - started < 10_000, 'resolved soon after the timeout');
  const sleeper = Number(readFileSync(pidFile, 'utf8').trim());
  await new Promise((r) => setTimeout(r, 200));
  t.ok(deadOrZombie(sleeper), 'the forked sleeper is killed too');
  t.match(log.warnings, [[{ command: /sleep 30/, timeoutMs: 300 }, 'notify script killed after its timeout']]);
});

t.test('a script that cannot start: an outcome and a warning, never a throw', async (t) => {
  const log = recorder();
  const missing = await runNotify(checkerNotifyCommand('/nonexistent/notify.sh up'), { logger: log });
  t.match(missing, { code: null, signal: null, error: 'ENOENT' });
  const empty = await runNotify(checkerNotifyCommand('   '), { logger: log });
  t.match(empty, { error: 'empty command' });
  t.same(log.warnings.map(([, msg]) => msg), ['notify script failed to start', 'notify script failed to start']);
});

t.test('runAs (issue 12): the notify script runs as the user and group given, an unknown user does not run', async (t) => {
  const log = recorder();
  const shared = join(dir, 'shared');
  mkdirSync(shared, { mode: 0o1777 });
  chmodSync(shared, 0o1777);
  chmodSync(dir, 0o755);
  const out = join(shared, 'user.log');
  const result = await runNotify(vrrpNotifyCommand(`id -u >>${out}; id -g >>${out}; id -G >>${out}`, []), { runAs: { user: 'nobody nogroup' }, logger: log });
  t.match(result, { code: 0 });
  t.same(readFileSync(out, 'utf8').trim().split('\n'), ['65534', '65534', '65534'], 'uid, gid and no supplementary group of root');
  const missing = await runNotify(vrrpNotifyCommand(`echo >>${out}.2`, []), { runAs: { scriptUser: 'no-such-user-al' }, logger: log });
  t.match(missing, { code: null, error: /Script user 'no-such-user-al' does not exist/ });
  t.throws(() => readFileSync(`${out}.2`), { code: 'ENOENT' });
});
