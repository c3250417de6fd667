// Every sample in configs/ loads without errors or warnings, and says what the lab needs.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatDiagnostic, loadConfig, type LoadedConfig } from '../../src/config/index.js';

const CONFIGS = 'configs';

function load(name: string): LoadedConfig {
  try {
    return loadConfig(join(CONFIGS, name));
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`${name} does not load:\n${err.format()}`);
    throw err;
  }
}

const samples = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml')).sort();

t.test('the samples are there', async (t) => {
  for (const expected of [
    'lab-dr.yaml', 'lab-nat.yaml', 'lab-tun.yaml', 'seed-000-dr-master.yaml', 'seed-000-dr-backup.yaml',
    'seed-001-dr-nginx.yaml', 'seed-002-nat.yaml', 'seed-002-ldirectord-dr.yaml',
    'seed-003-double-master-dir1.yaml', 'seed-003-double-master-dir2.yaml', 'seed-004-wrr-dr.yaml',
  ]) t.ok(samples.includes(expected), expected);
});

for (const name of samples) {
  t.test(`${name} loads cleanly`, async (t) => {
    const { warnings } = load(name);
    t.same(warnings.map(formatDiagnostic), [], 'no warnings');
  });
}

t.test('lab-dr: wrr 1:3:3 over rs1..3 in DR, VIP held statically on eth0', async (t) => {
  const { config } = load('lab-dr.yaml');
  t.equal(config.dataplane.interface, 'eth0');
  t.equal(config.dataplane.io, 'auto');
  t.same(config.static_ipaddress.map((a) => [a.address, a.dev]), [['198.18.0.100/32', 'eth0']]);
  t.equal(config.virtual_servers.length, 1);
  const vs = config.virtual_servers[0];
  t.same([vs.vip, vs.port, vs.protocol, vs.lb_algo, vs.lb_kind], ['198.18.0.100', 80, 'TCP', 'wrr', 'DR']);
  t.same(vs.real_servers.map((r) => [r.ip, r.port, r.weight]), [
    ['198.18.0.10', 80, 1], ['198.18.0.20', 80, 3], ['198.18.0.30', 80, 3],
  ]);
  t.same(config.dataplane.lvs_timeouts, { tcp: 900, tcpfin: 120, udp: 300 });
  t.equal(config.dataplane.conn_table_size, 1048576);
});

t.test('lab-nat: rr NAT from eth0 to 198.18.1.0/24 on eth1', async (t) => {
  const { config } = load('lab-nat.yaml');
  t.equal(config.dataplane.inside, 'eth1');
  t.same(config.static_ipaddress.map((a) => [a.address, a.dev]), [['198.18.0.100/32', 'eth0'], ['198.18.1.254/24', 'eth1']]);
  const vs = config.virtual_servers[0];
  t.same([vs.lb_algo, vs.lb_kind], ['rr', 'NAT']);
  t.same(vs.real_servers.map((r) => `${r.ip}:${r.port}/${r.weight}`), ['198.18.1.10:80/1', '198.18.1.20:80/1', '198.18.1.30:80/1']);
});

t.test('lab-tun: the DR lab tunnelled', async (t) => {
  const vs = load('lab-tun.yaml').config.virtual_servers[0];
  t.equal(vs.lb_kind, 'TUN');
  t.same(vs.real_servers.map((r) => r.weight), [1, 3, 3]);
});

t.test('seed 000: MASTER/BACKUP pair, tcp_check with keepalived timings (nb_get_retry -> retry)', async (t) => {
  const master = load('seed-000-dr-master.yaml').config;
  const backup = load('seed-000-dr-backup.yaml').config;
  t.same([master.vrrp_instances[0].state, master.vrrp_instances[0].priority], ['MASTER', 100]);
  t.same([backup.vrrp_instances[0].state, backup.vrrp_instances[0].priority], ['BACKUP', 50]);
  t.equal(master.vrrp_instances[0].virtual_router_id, backup.vrrp_instances[0].virtual_router_id);
  t.same(master.vrrp_instances[0].virtual_ipaddress.map((a) => `${a.address} ${a.dev}`), ['198.18.0.100/32 eth0']);
  t.same(master.vrrp_instances[0].authentication, { auth_type: 'PASS', auth_pass: '1111' });
  const vs = master.virtual_servers[0];
  t.equal(vs.persistence_timeout, 50);
  const check = vs.real_servers[0].check;
  t.ok(check);
  t.match(check, { checker: 'tcp_check', connect_timeout: 3, retry: 3, delay_before_retry: 3, connect_port: 80, delay_loop: 6 });
  t.notOk('nb_get_retry' in check!, 'the old name is folded into retry');
});

t.test('seed 002: ldirectord negotiate check as http_get with regex, fallback as sorry_server', async (t) => {
  const { config } = load('seed-002-ldirectord-dr.yaml');
  t.equal(config.dataplane.autoreload, true);
  const vs = config.virtual_servers[0];
  t.same(vs.sorry_server, { ip: '198.18.0.3', port: 80 });
  const check = vs.real_servers[0].check!;
  t.equal(check.checker, 'http_get');
  if (check.checker !== 'http_get') return;
  t.equal(check.connect_timeout, 3, 'inherited from the virtual server');
  t.equal(check.delay_loop, 1);
  t.same(check.url[0].status_code, [{ from: 200, to: 299 }], 'keepalived default 200-299');
  t.equal(check.url[0].regex, 'rs[0-9]');
});

t.test('seed 003: two instances, opposite roles on the two directors, scripts tracked', async (t) => {
  const d1 = load('seed-003-double-master-dir1.yaml').config;
  const d2 = load('seed-003-double-master-dir2.yaml').config;
  t.same(d1.vrrp_instances.map((i) => `${i.name}:${i.state}:${i.priority}`), ['VI_1:MASTER:100', 'VI_2:BACKUP:98']);
  t.same(d2.vrrp_instances.map((i) => `${i.name}:${i.state}:${i.priority}`), ['VI_1:BACKUP:98', 'VI_2:MASTER:100']);
  t.same(d1.vrrp_instances[0].track_script, [{ name: 'chk_down', reverse: false }, { name: 'chk_httpd', reverse: false }]);
  t.equal(d1.vrrp_scripts.chk_httpd.weight, -5);
  t.equal(d1.vrrp_scripts.chk_httpd.timeout, 2, 'timeout defaults to interval');
  t.equal(d1.vrrp_instances[0].mcast_dst_ip, '224.0.4.18', 'vrrp_mcast_group4 applies to instances');
  t.equal(d1.vrrp_instances[0].notify_master, '/etc/ulvs/notify.sh master');
  t.equal(d1.vrrp_instances[1].virtual_ipaddress[0].label, 'eth0:1');
});

t.test('seed 004: split over included files, http_get with status 200', async (t) => {
  const { config, files } = load('seed-004-wrr-dr.yaml');
  t.equal(files.length, 3);
  t.ok(files.every((f) => f.startsWith('/')), 'absolute paths for autoreload');
  const web = config.virtual_servers.find((v) => v.port === 80)!;
  t.equal(web.lb_algo, 'wrr');
  t.same(web.sorry_server, { ip: '198.18.0.2', port: 8080 });
  const check = web.real_servers[0].check!;
  t.match(check, { checker: 'http_get', retry: 3, connect_timeout: 5 });
  if (check.checker === 'http_get') t.same(check.url[0].status_code, [{ from: 200, to: 200 }]);
});

t.test('samples only use lab addresses (198.18.0.0/15), multicast groups and loopback aside', async (t) => {
  for (const name of samples) {
    const text = JSON.stringify(load(name).config);
    const addresses = [...text.matchAll(/"(\d+\.\d+\.\d+\.\d+)(?:\/\d+)?"/g)].map((m) => m[1]);
    const foreign = addresses.filter((a) => !/^198\.1[89]\./.test(a) && !/^22[4-9]\./.test(a) && !/^255\./.test(a) && !/^127\./.test(a));
    t.same(foreign, [], name);
  }
});
