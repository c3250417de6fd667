// The small pure pieces: edit distance, addresses, group members, globs, inheritance of defaults.
import t from 'tap';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closestMatch, didYouMean, editDistance } from '../../src/config/did-you-mean.js';
import { formatIpv4, isNetmask, parseCidr, parseIpv4 } from '../../src/config/ipv4.js';
import { expandGlob } from '../../src/config/glob.js';
import { ConfigError, formatDiagnostic, loadConfig, loadConfigText, parseGroupMember, ulvsConfigSchema } from '../../src/config/index.js';
import { commandPath } from '../../src/config/cross-checks.js';

t.test('editDistance is a metric and counts a swap as one', async (t) => {
  t.equal(editDistance('weight', 'wieght'), 1);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('lb_algo', 'lb_algoo'), 1);
  fc.assert(fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
    const d = editDistance(a, b);
    return d === editDistance(b, a) && (d === 0) === (a === b) && d <= Math.max(a.length, b.length);
  }));
});

t.test('did-you-mean: close words only, keepalived spellings folded', async (t) => {
  t.equal(closestMatch('TCP_CHECK', ['tcp_check', 'http_get']), 'tcp_check');
  t.equal(closestMatch('sh-port', ['sh_port', 'mh_port']), 'sh_port');
  t.equal(closestMatch('conect_timeout', ['connect_timeout', 'connect_port']), 'connect_timeout');
  t.equal(closestMatch('zzz', ['rr', 'wrr']), undefined);
  t.equal(closestMatch('weight', []), undefined);
  t.equal(didYouMean('wrrr', ['rr', 'wrr']), 'did you mean "wrr"?');
});

t.test('IPv4 parsing', async (t) => {
  t.equal(parseIpv4('198.18.0.1'), 0xc6120001);
  for (const bad of ['198.18.0', '198.18.0.256', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '']) t.equal(parseIpv4(bad), null, bad);
  fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (v) => parseIpv4(formatIpv4(v)) === v));
  t.ok(isNetmask('255.255.255.0'));
  t.ok(isNetmask('0.0.0.0'));
  t.notOk(isNetmask('255.0.255.0'));
  t.same(parseCidr('198.18.0.100'), { ip: '198.18.0.100', prefix: 32 });
  t.same(parseCidr('198.18.1.254/24'), { ip: '198.18.1.254', prefix: 24 });
  t.equal(parseCidr('198.18.1.254/33'), null);
});

t.test('virtual_server_groups members as keepalived writes them', async (t) => {
  t.same(parseGroupMember('198.18.0.100 80'), { text: '198.18.0.100 80', first: '198.18.0.100', last: '198.18.0.100', port: 80 });
  t.same(parseGroupMember('198.18.0.101-110 80'), { text: '198.18.0.101-110 80', first: '198.18.0.101', last: '198.18.0.110', port: 80 });
  t.same(parseGroupMember('198.18.0.250-198.18.1.10 443'), { text: '198.18.0.250-198.18.1.10 443', first: '198.18.0.250', last: '198.18.1.10', port: 443 });
  t.same(parseGroupMember('198.18.0.8/29'), { text: '198.18.0.8/29', first: '198.18.0.8', last: '198.18.0.15', port: 0 });
  t.type(parseGroupMember('198.18.0.110-101 80'), 'string');
  t.type(parseGroupMember('fwmark 80'), 'string');
  t.type(parseGroupMember('198.18.0.1 70000'), 'string');
});

t.test('command paths', async (t) => {
  t.equal(commandPath('/usr/bin/check --x'), '/usr/bin/check');
  t.equal(commandPath('"/opt/my check/run.sh" a b'), '/opt/my check/run.sh');
  t.equal(commandPath('  pidof nginx'), 'pidof');
});

t.test('include globs: sorted, per segment, no hidden files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-glob-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'conf.d', 'sub.yaml'));
  for (const f of ['b.yaml', 'a.yaml', '.hidden.yaml', 'c.txt']) writeFileSync(join(dir, 'conf.d', f), '');
  t.same(expandGlob('conf.d/*.yaml', dir), [join(dir, 'conf.d/a.yaml'), join(dir, 'conf.d/b.yaml')]);
  t.same(expandGlob('conf.d/[ab].yaml', dir), [join(dir, 'conf.d/a.yaml'), join(dir, 'conf.d/b.yaml')]);
  t.same(expandGlob('conf.d/?.txt', dir), [join(dir, 'conf.d/c.txt')]);
  t.same(expandGlob('*/a.yaml', dir), [join(dir, 'conf.d/a.yaml')]);
  t.same(expandGlob('conf.d/a.yaml', dir), [join(dir, 'conf.d/a.yaml')]);
  t.same(expandGlob('conf.d/none.yaml', dir), []);
  t.same(expandGlob(join(dir, 'conf.d/b*'), '/'), [join(dir, 'conf.d/b.yaml')]);
});

function tmpConfig(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, 'main.yaml');
}

function errorsOf(path: string): string[] {
  try {
    loadConfig(path);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}${d.hint ? ` (${d.hint})` : ''}`);
    throw err;
  }
}

t.test('defaults flow virtual server -> real server -> checker, as keepalived', async (t) => {
  const path = tmpConfig(t, {
    'main.yaml': `
dataplane: { interface: eth0, inside: eth1 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lvs_sched: sh
    sh_port: true
    connect_timeout: 7
    delay_loop: 10
    virtualhost: www.example.test
    inhibit_on_failure: true
    real_servers:
      - ip: 198.18.0.10
        retry: 4
        http_get: { url: [ { path: /, status_code: [200, "301-302"] } ] }
      - ip: 198.18.0.20
        port: 8080
        inhibit_on_failure: false
        dns_check: { type: MX, name: example.test }
      - ip: 198.18.0.30
        misc_check: { misc_path: /bin/true }
      - ip: 198.18.0.40
`,
  });
  const { config } = loadConfig(path);
  const vs = config.virtual_servers[0];
  t.equal(vs.lb_algo, 'sh', 'lvs_sched is lb_algo');
  t.equal(vs.lb_kind, 'NAT', 'keepalived default forwarding');
  t.notOk('lvs_sched' in vs);
  const [a, b, c, d] = vs.real_servers;
  t.same([a.port, b.port, a.weight], [80, 8080, 1]);
  t.same([a.inhibit_on_failure, b.inhibit_on_failure], [true, false]);
  t.match(a.check, {
    checker: 'http_get', connect_timeout: 7, delay_loop: 10, retry: 4, delay_before_retry: 3, warmup: 10,
    rise: 1, fall: 1, http_protocol: '1.0', virtualhost: 'www.example.test',
  });
  if (a.check?.checker === 'http_get') {
    t.same(a.check.url[0].status_code, [{ from: 200, to: 200 }, { from: 301, to: 302 }]);
    t.equal(a.check.url[0].virtualhost, 'www.example.test');
  }
  t.match(b.check, { checker: 'dns_check', retry: 3, delay_before_retry: 10, name: 'example.test', type: 'MX' });
  t.match(c.check, { checker: 'misc_check', retry: 0, delay_before_retry: 1, misc_timeout: 10, misc_dynamic: false });
  t.equal(d.check, null);
});

t.test('vrrp instances inherit global_defs; addresses get dev and prefix', async (t) => {
  const path = tmpConfig(t, {
    'main.yaml': `
global_defs: { vrrp_version: 3, vrrp_garp_master_delay: 2, default_interface: eth3 }
dataplane: { interface: eth0, lvs_timeouts: { tcp: 60 } }
static_ipaddress: [198.18.0.100]
vrrp_instances:
  - name: VI_1
    interface: eth1
    virtual_router_id: 7
    advert_int: 0.1
    garp_master_repeat: 1
    virtual_ipaddress: [198.18.0.101/24, { address: 198.18.0.102, dev: eth2 }]
    track_interface: [eth1, { name: eth2, weight: -10 }]
`,
  });
  const { config } = loadConfig(path);
  const vi = config.vrrp_instances[0];
  t.same([vi.version, vi.garp_master_delay, vi.garp_master_repeat, vi.garp_master_refresh], [3, 2, 1, 0]);
  t.same([vi.state, vi.priority, vi.mcast_dst_ip], ['BACKUP', 100, '224.0.0.18']);
  t.same(vi.virtual_ipaddress.map((a) => `${a.address}@${a.dev}`), ['198.18.0.101/24@eth1', '198.18.0.102/32@eth2']);
  t.same(vi.track_interface, [{ name: 'eth1', reverse: false }, { name: 'eth2', weight: -10, reverse: false }]);
  t.same(config.static_ipaddress[0], { address: '198.18.0.100/32', ip: '198.18.0.100', prefix: 32, dev: 'eth3' });
  t.same(config.dataplane.lvs_timeouts, { tcp: 60, tcpfin: 120, udp: 300 });
});

t.test('every mistake at once, across phases (schema and cross-field)', async (t) => {
  const path = tmpConfig(t, {
    'main.yaml': `
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    lb_algo: wlcc
    real_servers:
      - { ip: 198.18.0.10, weight: 1 }
      - { ip: 198.18.0.10, weight: many }
  - vip: 198.18.0.100
    port: 80
    lb_kind: NAT
`,
  });
  t.same(errorsOf(path), [
    '7:14: lb_algo must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos, not "wlcc" (did you mean "wlc"?)',
    '10:15: real server 198.18.0.10:80 is listed twice in this service (first at ' + path + ':9:15)',
    '10:36: weight must be a number, not "many"',
    '11:10: service TCP 198.18.0.100:80 is defined twice (first at ' + path + ':4:10)',
  ]);
});

t.test('includes: relative to the including file, nested, positions in the included file', async (t) => {
  const path = tmpConfig(t, {
    'main.yaml': 'dataplane: { interface: eth0 }\ninclude: [conf.d/*.yaml]\n',
    'conf.d/a.yaml': 'include: [../more/b.yaml]\nvirtual_servers:\n  - { vip: 198.18.0.100, port: 80, lb_kind: DR }\n',
    'more/b.yaml': 'virtual_servers:\n  - { vip: 198.18.0.101, port: 80, lb_kind: DR, real_servers: [ { ip: 198.18.0.10, wieght: 2 } ] }\n',
  });
  const dir = join(path, '..');
  try {
    loadConfig(path);
    t.fail('should not load');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    t.same((err as ConfigError).diagnostics.map(formatDiagnostic), [
      `${join(dir, 'more/b.yaml')}:2:84: unknown key "wieght" in real_servers[0] (did you mean "weight"?)`,
    ]);
  }
});

t.test('alias bombs and self-referencing aliases are errors, not hangs', async (t) => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const bomb = tmpConfig(t, { 'main.yaml': lines.join('\n') + '\n' });
  t.match(errorsOf(bomb).join('\n'), /more than 1000 aliases/);
  const self = tmpConfig(t, { 'main.yaml': 'virtual_servers: &v\n  - *v\n' });
  t.match(errorsOf(self).join('\n'), /refers to a value that contains it/);
});

t.test('a large valid config loads', async (t) => {
  const services: string[] = ['dataplane: { interface: eth0 }', 'virtual_servers:'];
  for (let i = 0; i < 2000; i++) {
    services.push(`  - { vip: 198.18.${(i >> 8) & 255}.${i & 255}, port: 80, lb_kind: DR, real_servers: [ { ip: 198.19.0.1, tcp_check: {} }, { ip: 198.19.0.2 } ] }`);
  }
  const path = tmpConfig(t, { 'main.yaml': services.join('\n') + '\n' });
  t.equal(loadConfig(path).config.virtual_servers.length, 2000);
});

t.test('the schema refuses what the loader would never pass (keys stay strict)', async (t) => {
  const r = ulvsConfigSchema.safeParse({ virtual_servers: [{ vip: '198.18.0.1', port: 80, bogus: 1 }] });
  t.notOk(r.success);
});

t.test('loadConfigText validates text that is not a file (migrate output)', async (t) => {
  const ok = loadConfigText('dataplane: { interface: eth0 }\nvirtual_servers: [ { vip: 198.18.0.100, port: 80, lb_kind: DR } ]\n', 'migrated.yaml');
  t.equal(ok.config.virtual_servers[0].lb_kind, 'DR');
  t.same(ok.files, [join(process.cwd(), 'migrated.yaml')]);
  try {
    loadConfigText('virtual_servers:\n  - { vip: 198.18.0.100, port: 80, lb_kind: DRR }\n', 'migrated.yaml');
    t.fail('should not load');
  } catch (err) {
    t.same((err as ConfigError).diagnostics.map(formatDiagnostic), [
      'migrated.yaml:2:45: lb_kind must be one of DR, NAT, TUN, FNAT, not "DRR" (did you mean "DR"?)',
    ]);
  }
});
