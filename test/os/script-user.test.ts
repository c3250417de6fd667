// Script users and enable_script_security, the pure parts: "USER [GROUP]" and keepalived's
// lookups (over an account table), the path check against real temp files and directories
// with chosen owners and modes, and the spawn plan (uid/gid, setpriv for supplementary groups).
import t from 'tap';
import fc from 'fast-check';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUserSpec, prepareScript, resolveUser, scriptIdentity, type AccountLookup } from '../../src/os/script-user.js';
import { pathComponents, scriptRefusal, unsafeComponent } from '../../src/os/script-security.js';
import { loadConfigText } from '../../src/config/load.js';

const accounts: AccountLookup = {
  passwd: (n) => ({ root: { uid: 0, gid: 0 }, nobody: { uid: 65534, gid: 65534 }, web: { uid: 1001, gid: 1001 } } as Record<string, { uid: number; gid: number }>)[n] ?? null,
  group: (n) => ({ root: 0, nogroup: 65534, web: 1001, adm: 4 } as Record<string, number>)[n] ?? null,
  groupList: (n) => (n === 'web' ? [1001, 4] : n === 'nobody' ? [65534] : [0]),
};

t.test('"USER [GROUP]" as keepalived reads it', async (t) => {
  t.same(parseUserSpec('nobody'), { user: 'nobody', supplementary: false });
  t.same(parseUserSpec(' nobody  nogroup '), { user: 'nobody', group: 'nogroup', supplementary: false });
  t.same(parseUserSpec('web :adm'), { user: 'web', group: 'adm', supplementary: true });
  t.same(parseUserSpec('web :'), { user: 'web', supplementary: true });
  t.equal(parseUserSpec('a b c'), null);
  t.equal(parseUserSpec('  '), null);
  fc.assert(fc.property(fc.string(), (s) => { parseUserSpec(s); return true; }));
});

t.test('lookups: keepalived\'s messages, groups only with ":"', async (t) => {
  t.same(resolveUser('nobody', accounts), { user: 'nobody', uid: 65534, gid: 65534, groups: [] });
  t.same(resolveUser('nobody web', accounts), { user: 'nobody', uid: 65534, gid: 1001, groups: [] });
  t.same(resolveUser('web :', accounts), { user: 'web', uid: 1001, gid: 1001, groups: [1001, 4] });
  t.same(resolveUser('web :adm', accounts), { user: 'web', uid: 1001, gid: 4, groups: [1001, 4] });
  t.same(resolveUser('ghost', accounts), { error: "Script user 'ghost' does not exist" });
  t.same(resolveUser('nobody ghosts', accounts), { error: "Script group 'ghosts' does not exist" });
  t.equal(scriptIdentity({}, accounts), null, 'no keepalived_script user: ulvs\'s own');
  t.same(scriptIdentity({ scriptUser: 'nobody' }, accounts)?.uid, 65534, 'script_user');
  t.same(scriptIdentity({ scriptUser: 'nobody', user: 'web' }, accounts)?.uid, 1001, 'the block\'s user wins');
  const withDefault: AccountLookup = { ...accounts, passwd: (n) => (n === 'keepalived_script' ? { uid: 990, gid: 990 } : accounts.passwd(n)) };
  t.same(scriptIdentity({}, withDefault)?.uid, 990, 'keepalived_script when it exists');
  t.throws(() => scriptIdentity({ scriptUser: 'ghost' }, accounts), /Script user 'ghost'/);
});

t.test('spawn plan: uid/gid through spawn, setpriv for supplementary groups', async (t) => {
  t.same(prepareScript(['/bin/x', 'a'], { user: 'nobody' }, accounts), { file: '/bin/x', args: ['a'], uid: 65534, gid: 65534 });
  t.same(prepareScript(['/bin/x'], { user: 'web :' }, accounts), { file: 'setpriv', args: ['--reuid=1001', '--regid=1001', '--groups=1001,4', '--', '/bin/x'] });
  t.same(prepareScript(['/bin/x'], {}, accounts), { file: '/bin/x', args: [] }, 'as ulvs itself');
  t.match(prepareScript(['/bin/x'], { user: 'ghost' }, accounts), { refused: /does not exist/ });
  t.match(prepareScript([], {}, accounts), { refused: 'empty command' });
});

t.test('path check against real files and directories (keepalived check_security)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'al-sec-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const mk = (rel: string, mode: number, uid = 0, gid = 0, body = '#!/bin/sh\nexit 0\n'): string => {
    const p = join(root, rel);
    writeFileSync(p, body);
    chmodSync(p, mode);
    chownSync(p, uid, gid);
    return p;
  };
  const dir = (rel: string, mode: number, uid = 0, gid = 0): string => {
    const p = join(root, rel);
    mkdirSync(p);
    chmodSync(p, mode);
    chownSync(p, uid, gid);
    return p;
  };
  t.same(pathComponents('/a/b/c'), ['/', '/a', '/a/b', '/a/b/c']);
  t.equal(unsafeComponent(mk('ok.sh', 0o755)), null, 'root-owned 0755 script in root-owned 0755 dirs');
  t.match(unsafeComponent(mk('world.sh', 0o757)), /^Unsafe permissions found for script '.*world\.sh' - disabling\./, 'world-writable file');
  t.match(unsafeComponent(mk('group.sh', 0o775, 0, 100)), /Unsafe permissions/, 'writable by a non-root group');
  t.equal(unsafeComponent(mk('rootgroup.sh', 0o775, 0, 0)), null, 'group-writable by root\'s group is fine');
  t.match(unsafeComponent(mk('owned.sh', 0o755, 65534, 65534)), /Unsafe permissions.*owner 65534/, 'owned by nobody');
  const open = dir('open', 0o777);
  t.match(unsafeComponent(mk('open/s.sh', 0o755)), /Unsafe permissions.*open: owner 0, mode 777/, 'a world-writable directory on the path');
  chmodSync(open, 0o1777);
  t.equal(unsafeComponent(join(open, 's.sh')), null, 'sticky directory (like /tmp) is fine');
  dir('userdir', 0o755, 65534, 65534);
  t.match(unsafeComponent(mk('userdir/s.sh', 0o755)), /Unsafe permissions.*userdir: owner 65534/, 'a directory owned by a user');
  t.match(unsafeComponent(join(root, 'nope.sh')), /could not find script/);
  t.match(unsafeComponent(`${join(root, 'ok.sh')}/x`), /Wrong file type/);
  // Through a symbolic link: the link's own path is safe, its target is not.
  const target = mk('open/target.sh', 0o777);
  symlinkSync(target, join(root, 'link.sh'));
  t.match(scriptRefusal(join(root, 'link.sh')), /Unsafe permissions found for script '.*target\.sh'/, 'the resolved file is checked too');
  t.equal(scriptRefusal(join(root, 'ok.sh')), null);
  t.match(scriptRefusal('no-such-program-al'), /Cannot find script/);

  const asRoot = prepareScript([join(root, 'world.sh')], { security: true }, accounts);
  t.match(asRoot, { refused: /Unsafe permissions/ }, 'refused when it would run as root with enable_script_security');
  t.same(prepareScript([join(root, 'world.sh')], { security: false }, accounts), { file: join(root, 'world.sh'), args: [] }, 'runs without it');
  t.same(prepareScript([join(root, 'world.sh')], { security: true, user: 'nobody' }, accounts).constructor, Object);
  t.notMatch(prepareScript([join(root, 'world.sh')], { security: true, user: 'nobody' }, accounts), { refused: /./ }, 'keepalived checks only scripts run as root');
  t.match(prepareScript(['/bin/sh', '-c', `${join(root, 'world.sh')} arg`], { security: true }, accounts), { refused: /world\.sh/ }, 'vrrp_script lines: the script, not /bin/sh');
});

t.test('config load: unknown users and groups are FILE:LINE:COL errors; insecure scripts warned', async (t) => {
  t.throws(() => loadConfigText('global_defs: { script_user: no-such-user-al }\n', 'u.yaml'), { message: /u\.yaml:1:29: Script user 'no-such-user-al' does not exist/ });
  t.throws(() => loadConfigText('vrrp_scripts:\n  c: { script: /bin/true, user: "nobody no-such-group-al" }\n', 'g.yaml'), { message: /g\.yaml:2:33: Script group 'no-such-group-al' does not exist/ });
  const ok = loadConfigText('global_defs: { script_user: "nobody nogroup", enable_script_security: true }\nvrrp_scripts:\n  c: { script: /bin/true }\n');
  t.same(ok.warnings, [], 'an existing user, a script run as nobody: nothing to say');
  const dir = mkdtempSync(join(tmpdir(), 'al-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const script = join(dir, 'chk.sh');
  writeFileSync(script, '#!/bin/sh\n');
  chmodSync(script, 0o777);
  const warned = loadConfigText(`global_defs: { enable_script_security: true }\nvrrp_scripts:\n  c: { script: ${script} }\n`, 'w.yaml');
  t.match(warned.warnings.map((w) => `${w.line}: ${w.message}`), [/^3: Unsafe permissions found for script '.*chk\.sh' - disabling\./]);
});
