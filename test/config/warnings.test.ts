// Where keepalived warns, ulvs warns (FILE:LINE:COL: warning: ...) and goes on: a MISC_CHECK
// script missing on this machine (disabled at run time, in one log line), a VIP listed twice
// in one instance (the repeat dropped). check-config prints the warnings and exits 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t from 'tap';
import { runCheckConfig } from '../../src/cli/check-config.js';
import { formatWarning, loadConfigText } from '../../src/config/index.js';
import { withoutMissingMiscScripts } from '../../src/control/misc-scripts.js';

class Sink { text = ''; write(s: string): boolean { this.text += s; return true; } }

const MISSING_MISC = `dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - ip: 198.18.0.10
        misc_check: { misc_path: "/nonexistent/ch-check.sh --port 80" }
      - ip: 198.18.0.11
        misc_check: { misc_path: "/bin/true" }
`;

t.test('check-config: a missing misc_path script is a warning with its line, and the config is OK', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ch-warn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'misc.yaml');
  writeFileSync(file, MISSING_MISC);
  const out = new Sink();
  const err = new Sink();
  t.equal(runCheckConfig(file, out, err), 0, 'warnings are not fatal');
  t.match(out.text, /OK: 1 virtual server, 2 real servers/);
  t.equal(err.text, `${file}:8:34: warning: misc_path script "/nonexistent/ch-check.sh" does not exist on this machine (a director that cannot run it disables the checker and leaves the real server unchecked, as keepalived does)\n`);
});

t.test('at run time the MISC_CHECK whose script is missing is disabled, in one log line', async (t) => {
  const config = loadConfigText(MISSING_MISC, 'misc.yaml').config;
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
  const running = withoutMissingMiscScripts(config, log);
  const [missing, present] = running.virtual_servers[0].real_servers;
  t.equal(missing.check, null, 'the checker is gone: the real server is not checked, as in keepalived');
  t.match(present.check, { checker: 'misc_check', misc_path: '/bin/true' }, 'a script that exists keeps its checker');
  await new Promise((r) => setImmediate(r));
  t.equal(lines.length, 1, 'one line');
  t.match(JSON.parse(lines[0]), { level: 40, realServer: '198.18.0.10:80', msg: /MISC_CHECK of 198\.18\.0\.10:80 disabled: script \/nonexistent\/ch-check\.sh does not exist on this machine/ });
  t.equal(config.virtual_servers[0].real_servers[0].check?.checker, 'misc_check', 'the loaded config itself is not changed');
  t.equal(withoutMissingMiscScripts(running, log), running, 'nothing to disable: the same config back');
});

t.test('a VIP listed twice in one instance: a warning, and the instance holds it once', async (t) => {
  const yaml = `vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_ipaddress:
      - 198.18.0.100/32
      - 198.18.0.101/32
      - 198.18.0.100/32
`;
  const { config, warnings } = loadConfigText(yaml, 'dup.yaml');
  t.same(config.vrrp_instances[0].virtual_ipaddress.map((a) => a.address), ['198.18.0.100/32', '198.18.0.101/32']);
  t.equal(warnings.length, 1);
  t.match(warnings[0], { file: 'dup.yaml', line: 8, col: 9, message: '198.18.0.100 is listed twice in this instance: the repeat is dropped, as keepalived drops it' });
  // Across instances it stays an error: two instances cannot both hold an address.
  const twoInstances = `${yaml}  - { name: VI_2, interface: eth0, virtual_router_id: 52, virtual_ipaddress: [198.18.0.101/32] }\n`;
  t.throws(() => loadConfigText(twoInstances, 'dup.yaml'), /198\.18\.0\.101 is already held by vrrp instance "VI_1"/);
});

t.test('a dedicated sync link (lvs_sync_daemon on another interface than its instance) is a warning, as keepalived takes it', async (t) => {
  const yaml = `global_defs:
  lvs_sync_daemon: { interface: eth1, instance: VI_1 }
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_ipaddress: [ 198.18.0.100 ]
`;
  const { config, warnings } = loadConfigText(yaml, 'sync.yaml');
  t.equal(config.global_defs.lvs_sync_daemon?.interface, 'eth1', 'the sync interface is kept');
  t.same(warnings.map(formatWarning), [
    'sync.yaml:2:33: warning: lvs_sync_daemon interface eth1 is not the interface of vrrp_instance VI_1 (eth0) (sync messages go out of and come in on eth1 while the role follows VI_1 on eth0: the other directors must be reachable on eth1)',
  ]);
});
