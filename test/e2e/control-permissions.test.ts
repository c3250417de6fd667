// The control socket of a real director only obeys the right people (issue 13 part 5): as
// uid 65534 inside the director's namespace, `timeout set` and `reload` are refused with exit 4
// and change nothing; a member of control.read_group can list; CAP_NET_ADMIN without root can
// change; root can do all. Refusals are logged with the peer's uid.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { groupId } from '../../src/os/groups.js';
import { checkoutReadableByNobody, UNPRIVILEGED_UID } from '../support/readable-checkout.js';
import { labDrConfig, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const PREFIX = 'mtp-';
const GROUP = 'mtulvsadm';

t.test('unprivileged peers are refused changes; the read group lists; root and CAP_NET_ADMIN change', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await destroyLab({ prefix: PREFIX });
    spawnSync('groupdel', [GROUP]);
  });
  spawnSync('groupdel', [GROUP]);
  const add = spawnSync('groupadd', [GROUP], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`groupadd ${GROUP}: ${add.stderr}`);
  const gid = groupId(GROUP)!;
  const lab = await createLab({ prefix: PREFIX, servers: false });
  const ns = lab.nodes.dir1.name;
  const yaml = `${labDrConfig({ lbAlgo: 'rr' })}control: { read_group: ${GROUP} }\n`;
  const config = writeConfig(yaml);
  director = await startDirector(ns, config);

  const ulvs = join(checkoutReadableByNobody(), 'bin', 'ulvs.js');
  // env -i: the test runner's NODE_OPTIONS (its loaders write where nobody may not) stay out.
  const as = (creds: string[], args: string[]) => labExec(ns, ['env', '-i', `PATH=${process.env.PATH}`, 'setpriv', '--reuid', String(UNPRIVILEGED_UID),
    '--regid', String(UNPRIVILEGED_UID), ...creds, process.execPath, ulvs, ...args], { timeoutMs: 30_000 });
  const nobody = (args: string[]) => as(['--clear-groups'], args);
  const member = (args: string[]) => as([`--groups=${gid}`], args);

  const before = await ulvsIn(ns, ['timeout']);
  t.equal(before.code, 0);
  t.match(before.stdout, /Timeout \(tcp tcpfin udp\): 900 120 300/);

  const set = await nobody(['timeout', 'set', '1', '1', '1']);
  t.equal(set.code, 4, 'timeout set as nobody: exit 4');
  t.equal(set.stderr.trim().split('\n').length, 1, `one line: ${set.stderr.trim()}`);
  t.match(set.stderr, /permission denied: timeout set changes the director and needs root or CAP_NET_ADMIN \(uid 65534\)/);
  t.match((await ulvsIn(ns, ['timeout'])).stdout, /900 120 300/, 'the timeouts are unchanged');

  // A config edit that nobody tries to apply.
  writeFileSync(config, readFileSync(config, 'utf8').replace('ip: 198.18.0.10, port: 80, weight: 1', 'ip: 198.18.0.10, port: 80, weight: 7'));
  const reload = await nobody(['reload']);
  t.equal(reload.code, 4, 'reload as nobody: exit 4');
  t.match(reload.stderr, /permission denied: reload changes the director/);
  t.match((await ulvsIn(ns, ['list', '-n'])).stdout, /198\.18\.0\.10:80 +Route +1 /, 'the running table is unchanged');

  const list = await nobody(['list', '-n']);
  t.equal(list.code, 4, 'nobody outside the read group cannot list');
  t.match(list.stderr, /permission denied: list needs root, CAP_NET_ADMIN or the control read_group \(uid 65534\)/);
  t.equal((await nobody(['stats'])).code, 4, 'nor read the counters');

  const listed = await member(['list', '-n']);
  t.equal(listed.code, 0, `a member of ${GROUP} lists: ${listed.stderr}`);
  t.match(listed.stdout, /TCP  198\.18\.0\.100:80 rr/);
  t.equal((await member(['timeout'])).code, 0, 'and reads the timeouts');
  const memberSet = await member(['timeout', 'set', '1', '1', '1']);
  t.equal(memberSet.code, 4, 'but may not change them');
  t.match((await ulvsIn(ns, ['timeout'])).stdout, /900 120 300/);

  const capable = await as(['--clear-groups', '--inh-caps=+net_admin', '--ambient-caps=+net_admin'], ['timeout', 'set', '600', '0', '0']);
  t.equal(capable.code, 0, `uid 65534 with CAP_NET_ADMIN changes the timeouts: ${capable.stderr}`);
  t.match((await ulvsIn(ns, ['timeout'])).stdout, /600 120 300/);

  const rootReload = await ulvsIn(ns, ['reload']);
  t.equal(rootReload.code, 0, 'root reloads');
  t.match((await ulvsIn(ns, ['list', '-n'])).stdout, /198\.18\.0\.10:80 +Route +7 /, 'root\'s reload applied the edit');
  t.match(director.log(), /"uid":65534[^\n]*control request refused|control request refused[^\n]*"uid":65534/, 'refusals are logged with the uid');
});
