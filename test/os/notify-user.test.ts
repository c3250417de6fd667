// A notify script with its own user (keepalived's `notify_master "/path/script" USER [GROUP]`):
// migrate keeps the user, load checks it exists (an error at load, not at the first run), and
// the script runs as that user and group, for VRRP and checker notify scripts alike.
import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfigText } from '../../src/config/index.js';
import { migrateFile } from '../../src/migrate/index.js';
import { checkerNotifyCommand, runNotify, vrrpNotifyCommand } from '../../src/os/notify.js';

const NOBODY = 65534; // Debian's nobody:nogroup

const CONFIG = (user: string) => `
dataplane: { interface: eth0 }
vrrp_instances:
  - name: VI_1
    interface: eth0
    state: BACKUP
    virtual_router_id: 51
    priority: 100
    virtual_ipaddress: [ 198.18.0.100/32 ]
    notify_master: { script: /bin/true, user: ${user} }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    quorum_up: { script: /bin/true, user: nobody }
    real_servers:
      - { ip: 198.18.0.10, port: 80, notify_down: { script: /bin/true, user: "${user}" } }
`;

t.test('migrate keeps a notify script\'s user and group', async (t) => {
  const text = 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n 198.18.0.100/32\n }\n notify_master "/bin/true master" nobody nogroup\n notify_backup /bin/true\n}\n' +
    'virtual_server 198.18.0.100 80 {\n lb_kind DR\n real_server 198.18.0.10 80 {\n notify_up "/bin/true up" nobody\n }\n}\n';
  const r = migrateFile('in.conf', { from: 'keepalived', routerId: 'lab', interface: 'eth0', readText: () => text });
  t.same(r.errors, [], 'passes check-config');
  t.same(r.reports, [], 'nothing reported: the user is translated, not dropped');
  const doc = parse(r.yaml);
  t.same(doc.vrrp_instances[0].notify_master, { script: '/bin/true master', user: 'nobody nogroup' });
  t.equal(doc.vrrp_instances[0].notify_backup, '/bin/true', 'a script without a user stays a line');
  t.same(doc.virtual_servers[0].real_servers[0].notify_up, { script: '/bin/true up', user: 'nobody' });
});

t.test('a notify script user that does not exist is an error at load, FILE:LINE:COL', async (t) => {
  t.doesNotThrow(() => loadConfigText(CONFIG('nobody nogroup'), 'n.yaml'), 'nobody nogroup exist');
  let message = '';
  try { loadConfigText(CONFIG('k2nosuchuser'), 'n.yaml'); } catch (e) { message = (e as Error).message; }
  t.match(message, /^n\.yaml:10:47: Script user 'k2nosuchuser' does not exist/m, 'the instance\'s notify_master');
  t.match(message, /^n\.yaml:17:78: Script user 'k2nosuchuser' does not exist/m, 'the real server\'s notify_down');
  try { loadConfigText(CONFIG('nobody k2nosuchgroup'), 'n.yaml'); } catch (e) { message = (e as Error).message; }
  t.match(message, /Script group 'k2nosuchgroup' does not exist/);
});

t.test('the script runs as its own user and group', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'k2-notify-'));
  // runNotify unrefs its child (fire and forget): hold the event loop until the scripts exit.
  const hold = setInterval(() => undefined, 1000);
  t.teardown(() => { clearInterval(hold); rmSync(dir, { recursive: true, force: true }); });
  chmodSync(dir, 0o777);
  const vrrp = join(dir, 'vrrp'), checker = join(dir, 'checker'), plain = join(dir, 'plain');
  // The runner's own user would be root (no keepalived_script here): the script's user wins.
  const a = await runNotify(vrrpNotifyCommand({ script: `id -u > ${vrrp}; id -g >> ${vrrp}; echo`, user: 'nobody nogroup' }, ['INSTANCE', 'VI_1', 'MASTER', '100']));
  t.same(a, { code: 0, signal: null });
  t.equal(readFileSync(vrrp, 'utf8'), `${NOBODY}\n${NOBODY}\n`, 'VRRP notify: uid and gid of nobody:nogroup');
  const b = await runNotify(checkerNotifyCommand({ script: `/bin/sh -c "id -u > ${checker}"`, user: 'nobody' }));
  t.same(b, { code: 0, signal: null });
  t.equal(readFileSync(checker, 'utf8'), `${NOBODY}\n`, 'checker notify: uid of nobody');
  const c = await runNotify(vrrpNotifyCommand(`id -u > ${plain}`, []), { runAs: { scriptUser: 'nobody' } });
  t.same(c, { code: 0, signal: null });
  t.equal(readFileSync(plain, 'utf8'), `${NOBODY}\n`, 'without its own user: global script_user');
  t.ok(existsSync(vrrp));
});
