// The control socket's decision: changes need root or CAP_NET_ADMIN; reading also the read group.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessNeeded, decide, peerOf, type Peer } from '../../src/control/permissions.js';
import { groupId } from '../../src/os/groups.js';

const nobody: Peer = { pid: 10, uid: 65534, gid: 65534, groups: [], capEff: 0n };
const READ_GID = 990;

t.test('what needs what: the read list, timeout with and without set, anything else is a change', async (t) => {
  for (const command of ['list', 'conns', 'stats', 'status', 'timeout', 'runtime']) t.equal(accessNeeded({ command }), 'read', command);
  t.equal(accessNeeded({ command: 'timeout', args: { set: { tcp: 1 } } }), 'change');
  for (const command of ['reload', 'zero', 'ipvsadm', 'anything-new']) t.equal(accessNeeded({ command }), 'change', command);
});

t.test('root and CAP_NET_ADMIN may do everything; nobody nothing; the read group only reads', async (t) => {
  const reqs = [{ command: 'list' }, { command: 'reload' }, { command: 'timeout', args: { set: { tcp: 1 } } }, { command: 'zero' }];
  for (const req of reqs) {
    t.equal(decide({ ...nobody, uid: 0, gid: 0 }, req, READ_GID), null, `root: ${req.command}`);
    t.equal(decide({ ...nobody, capEff: 1n << 12n }, req, undefined), null, `CAP_NET_ADMIN: ${req.command}`);
  }
  t.match(decide(nobody, { command: 'list' }, READ_GID), /^permission denied: list needs root, CAP_NET_ADMIN or the control read_group \(uid 65534\)$/);
  t.match(decide(nobody, { command: 'list' }, undefined), /^permission denied: list needs root or CAP_NET_ADMIN|needs root, CAP_NET_ADMIN \(uid/);
  t.match(decide(nobody, { command: 'timeout', args: { set: {} } }, READ_GID), /^permission denied: timeout set changes the director and needs root or CAP_NET_ADMIN \(uid 65534\)$/);
  t.equal(decide({ ...nobody, capEff: (1n << 21n) | (1n << 13n) }, { command: 'reload' }, undefined) !== null, true, 'CAP_SYS_ADMIN/CAP_NET_RAW are not CAP_NET_ADMIN');
  const member = { ...nobody, groups: [100, READ_GID] };
  t.equal(decide(member, { command: 'list' }, READ_GID), null, 'a supplementary member reads');
  t.equal(decide({ ...nobody, gid: READ_GID }, { command: 'stats' }, READ_GID), null, 'a primary member reads');
  t.match(decide(member, { command: 'reload' }, READ_GID), /reload changes the director/);
  t.match(decide(member, { command: 'zero' }, READ_GID), /zero changes the director/);
});

t.test('peerOf reads Groups and CapEff, and refuses a pid whose Uid no longer matches (pid reuse)', async (t) => {
  const proc = mkdtempSync(join(tmpdir(), 'mt-proc-'));
  t.teardown(() => rmSync(proc, { recursive: true, force: true }));
  mkdirSync(join(proc, '42'));
  writeFileSync(join(proc, '42', 'status'), 'Name:\tx\nUid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\nGroups:\t4 990 \nCapEff:\t0000000000001000\n');
  t.same(peerOf({ pid: 42, uid: 65534, gid: 65534 }, proc), { pid: 42, uid: 65534, gid: 65534, groups: [4, 990], capEff: 0x1000n });
  t.equal(peerOf({ pid: 42, uid: 1000, gid: 1000 }, proc), null, 'another uid now holds the pid');
  t.equal(peerOf({ pid: 43, uid: 65534, gid: 65534 }, proc), null, 'the peer has exited');
  const self = peerOf({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  t.ok(self, 'this process reads its own /proc status');
});

t.test('groupId reads /etc/group', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mt-group-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'group'), 'root:x:0:\nulvsadm:x:990:alice,bob\nbroken:x:\n');
  t.equal(groupId('ulvsadm', join(dir, 'group')), 990);
  t.equal(groupId('root', join(dir, 'group')), 0);
  t.equal(groupId('broken', join(dir, 'group')), undefined);
  t.equal(groupId('nope', join(dir, 'group')), undefined);
  t.equal(groupId('root'), 0, 'the system file');
});
