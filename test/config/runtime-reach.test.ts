// Keys no other test followed from ulvs.yaml to the code that acts on them: each is loaded from
// YAML here and found where the runtime reads it (the VRRP speaker's input, the snapshot the
// workers read, the control socket, the script runners, the log level). The key-coverage test
// (key-coverage.test.ts) points at this file for them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { loadConfigText } from '../../src/config/index.js';
import { compileSnapshot, IdRegistry } from '../../src/control/compile.js';
import { watchConfigFiles } from '../../src/control/config-watch.js';
import { configuredTimeouts } from '../../src/control/reload-plan.js';
import { controlSocketPath } from '../../src/control/socket.js';
import { effectiveLogLevel } from '../../src/log.js';
import { vrrpConfigFrom } from '../../src/vrrp/from-config.js';
import { TrackScripts } from '../../src/vrrp/track-scripts.js';

const load = (yaml: string) => loadConfigText(yaml, 'reach.yaml').config;

t.test('global_defs vrrp_version, default_interface, vrrp_garp_master_* and mcast_src_ip reach the speaker and the address holder', async (t) => {
  const config = load(`
global_defs: { vrrp_version: 3, default_interface: eth7, vrrp_garp_master_delay: 9, vrrp_garp_master_repeat: 4, vrrp_garp_master_refresh: 60 }
static_ipaddress: [198.18.0.200/32]
vrrp_instances:
  - { name: VI_1, interface: eth0, virtual_router_id: 1, mcast_src_ip: 198.18.0.1, virtual_ipaddress: [198.18.0.100/32] }
`);
  const [vi] = vrrpConfigFrom(config).vrrp_instances;
  t.equal(vi.version, 3, 'vrrp_version is the instances\' default');
  t.equal(config.static_ipaddress[0].dev, 'eth7', 'default_interface: where the director holds a static address without dev');
  t.equal(vi.virtual_ipaddress[0].dev, 'eth0', 'a VRRP VIP without dev goes on its instance\'s interface, as keepalived');
  t.match(vi, { garp_master_delay: 9, garp_master_repeat: 4, garp_master_refresh: 60 });
  t.equal(vi.unicast_src_ip, '198.18.0.1', 'mcast_src_ip is the adverts\' source');
});

t.test('sh_fallback and mh_fallback reach the snapshot the workers schedule with', async (t) => {
  const config = load(`
virtual_servers:
  - { vip: 198.18.0.100, port: 80, lb_algo: sh, lb_kind: DR, sh_fallback: true, real_servers: [{ ip: 198.18.0.10 }] }
  - { vip: 198.18.0.100, port: 81, lb_algo: mh, lb_kind: DR, mh_fallback: true, real_servers: [{ ip: 198.18.0.10 }] }
`);
  const snap = compileSnapshot(config, new IdRegistry(), {
    macOf: () => null, healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true, tunnelSource: 0,
  }, 1);
  t.match(snap.services[0].schedulerFlags, { shFallback: true, mhFallback: false });
  t.match(snap.services[1].schedulerFlags, { shFallback: false, mhFallback: true });
});

t.test('dataplane.control_socket names the socket the director serves', async (t) => {
  const config = load('dataplane: { control_socket: /run/ulvs/ch-test.sock }\n');
  t.equal(controlSocketPath('default', config.dataplane.control_socket), '/run/ulvs/ch-test.sock');
  t.not(controlSocketPath('default', load('{}\n').dataplane.control_socket), '/run/ulvs/ch-test.sock');
});

t.test('dataplane.log_level is the director\'s level unless ULVS_LOG_LEVEL overrides it', async (t) => {
  const config = load('dataplane: { log_level: debug }\n');
  t.equal(effectiveLogLevel(config.dataplane.log_level, undefined), 'debug');
  t.equal(effectiveLogLevel(config.dataplane.log_level, ''), 'debug');
  t.equal(effectiveLogLevel(config.dataplane.log_level, 'warn'), 'warn');
});

t.test('vrrp_scripts init_fail starts the script failed; reverse negates its weight', async (t) => {
  const config = load(`
vrrp_scripts:
  chk_up: { script: /bin/true, weight: 5 }
  chk_init_fail: { script: /bin/true, weight: 5, init_fail: true }
  chk_reverse: { script: /bin/true, weight: 5, reverse: true }
`);
  const scripts = new TrackScripts(() => {});
  for (const [name, cfg] of Object.entries(vrrpConfigFrom(config).vrrp_scripts ?? {})) scripts.define(name, cfg);
  t.same(scripts.verdict('chk_up'), { weight: 5, up: true });
  t.same(scripts.verdict('chk_init_fail'), { weight: 5, up: false }, 'init_fail: down until it succeeds rise times');
  t.same(scripts.verdict('chk_reverse'), { weight: -5, up: true }, 'reverse: the weight lowers the priority when the script succeeds');
});

t.test('global_defs lvs_timeouts are the connection timeouts (dataplane.lvs_timeouts wins per key)', async (t) => {
  const config = load('global_defs: { lvs_timeouts: { tcp: 100, tcpfin: 20, udp: 30 } }\ndataplane: { lvs_timeouts: { udp: 40 } }\n');
  t.match(configuredTimeouts(config), { tcp: 100, tcpfin: 20, udp: 40 });
});

t.test('vrrp_scripts timeout: a script still running after it counts as failed', async (t) => {
  const config = load('vrrp_scripts:\n  chk_slow: { script: "sleep 30", interval: 1, timeout: 0.2 }\n');
  const started = Date.now();
  // TrackScripts' timers are unref'd (they never keep a director alive): hold the loop meanwhile.
  const keepAlive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const down = new Promise<number>((resolve) => {
    const scripts = new TrackScripts((_name, up) => { if (!up) { scripts.stop(); resolve(Date.now() - started); } });
    scripts.define('chk_slow', vrrpConfigFrom(config).vrrp_scripts!.chk_slow);
    scripts.startAll();
  });
  const ms = await down;
  t.ok(ms < 20_000, `failed after ${ms} ms, long before the script's 30 s (killed at its timeout)`);
});

t.test('dataplane.autoreload: the director watches the files it loaded, and a change fires once writes settle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ch-autoreload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ulvs.yaml');
  writeFileSync(file, 'dataplane: { autoreload: true }\n');
  t.equal(load('dataplane: { autoreload: true }\n').dataplane.autoreload, true);
  let fired = 0;
  const changed = new Promise<void>((resolve) => {
    const watchers = watchConfigFiles([file], () => { fired++; for (const w of watchers) w.close(); resolve(); }, pino({ level: 'silent' }));
  });
  writeFileSync(file, 'dataplane: { autoreload: true, log_level: debug }\n');
  writeFileSync(file, 'dataplane: { autoreload: true, log_level: warn }\n');
  await changed;
  t.equal(fired, 1, 'two writes in a row: one reload');
});
