// IPv6 in configuration: keepalived's family rules as cross-checks (table), keepalived's IPv6
// group ranges (table + property), and the load path: IPv6 refused at FILE:LINE:COL with the
// reason, mixed families reported beside it, exit 2 from check-config.
import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFamilies } from '../../src/config/check-families.js';
import { Findings, type Obj } from '../../src/config/cross-check-kit.js';
import { familyOf, parseIpv6Cidr, parseIpv6Range } from '../../src/config/ipv6.js';
import { parseGroupMember } from '../../src/config/raw-schema-services.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/diagnostics.js';
import { formatIpv6, parseIpv6 } from '../../src/packet/addr6.js';

function run(cfg: Obj): string[] {
  const r = new Findings();
  checkFamilies(cfg, r);
  return r.list.map((f) => `${f.path.join('.')}: ${f.message}`);
}

const vs = (vip: string, ...ips: string[]): Obj => ({ vip, port: 80, lb_kind: 'DR', real_servers: ips.map((ip) => ({ ip })) });

t.test('checkFamilies', async (t) => {
  const cases: [string, Obj, string[]][] = [
    ['IPv4 service', { virtual_servers: [vs('198.18.0.100', '198.18.0.10')] }, []],
    ['IPv6 service', { virtual_servers: [vs('2001:2::100', '2001:2::10', '2001:2::20')] }, []],
    ['IPv6 real server under an IPv4 VIP', { virtual_servers: [vs('198.18.0.100', '198.18.0.10', '2001:2::20')] },
      ['virtual_servers.0.real_servers.1.ip: real server 2001:2::20 is IPv6 but the virtual server\'s VIP 198.18.0.100 is IPv4']],
    ['IPv4 sorry server under an IPv6 VIP', { virtual_servers: [{ ...vs('2001:2::100'), sorry_server: { ip: '198.18.0.30' } }] },
      ['virtual_servers.0.sorry_server.ip: sorry server 198.18.0.30 is IPv4 but the virtual server\'s VIP 2001:2::100 is IPv6']],
    ['TUN may tunnel one family in the other', { virtual_servers: [{ ...vs('2001:2::100', '198.18.0.10'), lb_kind: 'TUN' }] }, []],
    ['group family decides', { virtual_server_groups: [{ name: 'g', members: ['ae00::2-9 80', 'ae00::1 80'] }],
      virtual_servers: [{ group: 'g', real_servers: [{ ip: '198.18.0.10' }] }] },
    ['virtual_servers.0.real_servers.0.ip: real server 198.18.0.10 is IPv4 but the virtual server\'s group g is IPv6']],
    ['mixed group', { virtual_server_groups: [{ name: 'g', members: ['198.18.0.100 80', '2001:2::100 80'] }] },
      ['virtual_server_groups.0.members.1: IPv6 member in a group whose first member is IPv4']],
    ['link-local real server checked without bind_if', { virtual_servers: [{ ...vs('2001:2::100', 'fe80::10'), real_servers: [{ ip: 'fe80::10', tcp_check: {} }] }] },
      ['virtual_servers.0.real_servers.0.tcp_check: checker link-local address fe80::10 requires a bind_if']],
    ['link-local with bind_if', { virtual_servers: [{ ...vs('2001:2::100'), real_servers: [{ ip: 'fe80::10', tcp_check: { bind_if: 'eth0' } }] }] }, []],
    ['link-local connect_ip', { virtual_servers: [{ ...vs('2001:2::100'), real_servers: [{ ip: '2001:2::10', http_get: { connect_ip: 'fe80::1' } }] }] },
      ['virtual_servers.0.real_servers.0.http_get.connect_ip: checker link-local address fe80::1 requires a bind_if']],
    ['bindto of the other family', { virtual_servers: [{ ...vs('2001:2::100'), real_servers: [{ ip: '2001:2::10', tcp_check: { bindto: '198.18.0.2' } }] }] },
      ['virtual_servers.0.real_servers.0.tcp_check.bindto: bindto 198.18.0.2 is IPv4 but the checker connects to IPv6 2001:2::10']],
    ['IPv6 VIP in an IPv4 instance', { vrrp_instances: [{ virtual_ipaddress: ['198.18.0.100/32', { address: '2001:2::100/64' }] }] },
      ['vrrp_instances.0.virtual_ipaddress.1: IPv6 VIP 2001:2::100/64 in an IPv4 vrrp_instance (its first virtual_ipaddress 198.18.0.100/32)']],
    ['excluded may mix, as keepalived', { vrrp_instances: [{ virtual_ipaddress: ['198.18.0.100'], virtual_ipaddress_excluded: ['2001:2::100'] }] }, []],
    ['unicast peer of the other family', { vrrp_instances: [{ virtual_ipaddress: ['2001:2::100'], unicast_src_ip: '2001:2::2', unicast_peer: ['2001:2::3', '198.18.0.3'] }] },
      ['vrrp_instances.0.unicast_peer.1: IPv4 unicast peer 198.18.0.3 in an IPv6 vrrp_instance (its first virtual_ipaddress 2001:2::100)']],
    ['peers decide without VIPs', { vrrp_instances: [{ unicast_peer: ['2001:2::3'], mcast_src_ip: '198.18.0.2' }] },
      ['vrrp_instances.0.mcast_src_ip: IPv4 mcast_src_ip 198.18.0.2 in an IPv6 vrrp_instance (its unicast peers)']],
  ];
  for (const [name, cfg, out] of cases) t.same(run(cfg), out, name);
});

t.test('IPv6 group ranges as keepalived writes them (inet_stor)', async (t) => {
  t.same(parseIpv6Range('ae00::2-9'), { first: 'ae00::2', last: 'ae00::9' });
  t.same(parseIpv6Range('ae00::2-ff'), { first: 'ae00::2', last: 'ae00::ff' }, 'the end is hex');
  t.same(parseIpv6Range('ae00::1:2-ae00::2:0'), { first: 'ae00::1:2', last: 'ae00::2:0' });
  t.same(parseIpv6Range('2001:2::17/124'), { first: '2001:2::10', last: '2001:2::1f' });
  t.equal(parseIpv6Range('ae00::9-2'), 'range ends before it starts');
  t.match(parseIpv6Range('ae00::2-10000'), /not a hex group/);
  t.match(parseIpv6Range('ae00::/129'), /not 0-128/);
  t.match(parseIpv6Range('ae00:::1'), /not an IPv6 address/);
  t.same(parseGroupMember('ae00::2-9 80'), { text: 'ae00::2-9 80', first: 'ae00::2', last: 'ae00::9', port: 80 }, 'a well-formed member is a range');
  t.match(parseGroupMember('ae00::/64 80'), /range of 18446744073709551616 addresses/, 'a range too large to steer is refused with the reason');
  t.equal(parseGroupMember('ae00::9-2 80'), 'range ends before it starts', 'a malformed one says what is wrong');
  t.same(parseIpv6Cidr('2001:2::100/64'), { ip: '2001:2::100', prefix: 64 });
  t.equal(parseIpv6Cidr('2001:2::100/129'), null);
  t.equal(familyOf('198.18.0.1/24'), 4);
  t.equal(familyOf('2001:2::1'), 6);
  t.equal(familyOf('ae00::2-9'), null);
  fc.assert(fc.property(fc.ipV6(), fc.nat({ max: 128 }), (ip, prefix) => {
    const r = parseIpv6Range(`${ip}/${prefix}`);
    if (typeof r === 'string') return false;
    const first = parseIpv6(r.first), last = parseIpv6(r.last), self = parseIpv6(ip);
    // The range is the prefix's block and holds the address.
    return Buffer.compare(first, self) <= 0 && Buffer.compare(self, last) <= 0
      && formatIpv6(first) === r.first && (prefix < 128 || r.first === r.last);
  }), { numRuns: 1000 });
});

const YAML = `dataplane:
  interface: eth0
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - ip: 198.18.0.10
      - ip: 2001:2::20
  - vip: "2001:2::100"
    port: 80
    lb_kind: DR
    real_servers:
      - ip: 2001:2::10
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_ipaddress:
      - 198.18.0.100/32
      - 2001:2::100/64
`;

t.test('load: mixed families at FILE:LINE:COL', async (t) => {
  let error: unknown;
  try { loadConfigText(YAML, 'v6.yaml'); } catch (e) { error = e; }
  t.ok(error instanceof ConfigError, 'refused');
  const text = (error as ConfigError).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n');
  t.match(text, /9:13 .*real server 2001:2::20 is IPv6 but the virtual server's VIP 198\.18\.0\.100 is IPv4/, 'mixed family');
  t.notMatch(text, /10:10 /, 'the IPv6 DR service itself is accepted');
  t.match(text, /21:9 .*IPv6 VIP 2001:2::100\/64 in an IPv4 vrrp_instance/, 'IPv6 VIP in an IPv4 instance');
  t.notMatch(text, /is not an IPv4 address/, 'never called malformed');
  if (!t.passing()) t.comment(text);
});

t.test('check-config exits 2 with FILE:LINE:COL lines and no stack', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-v6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'v6.yaml');
  writeFileSync(file, YAML);
  const r = spawnSync(process.execPath, ['bin/ulvs.js', 'check-config', file], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 2);
  t.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:9:13: `));
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

const CHECK_YAML = (connectIp: string, bindto: string) => `dataplane:
  interface: eth0
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - ip: 198.18.0.10
        tcp_check:
          connect_ip: "${connectIp}"
          bindto: "${bindto}"
`;

t.test('load: health checks take IPv6 connect_ip/bindto; bindto in another family is FILE:LINE:COL', async (t) => {
  const cfg = loadConfigText(CHECK_YAML('2001:2::10', '2001:2::2'), 'c6.yaml');
  t.match(JSON.stringify(cfg.config.virtual_servers[0].real_servers[0]), /"connect_ip":"2001:2::10"/, 'accepted and kept');
  let error: unknown;
  try { loadConfigText(CHECK_YAML('2001:2::10', '198.18.0.2'), 'c6.yaml'); } catch (e) { error = e; }
  t.ok(error instanceof ConfigError, 'mixed families refused');
  const text = (error as ConfigError).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n');
  t.match(text, /11:\d+ .*bindto 198\.18\.0\.2 is IPv4 but the checker connects to IPv6 2001:2::10/);
  error = undefined;
  try { loadConfigText(CHECK_YAML('2001:2::zz', '2001:2::2'), 'c6.yaml'); } catch (e) { error = e; }
  t.match((error as ConfigError).diagnostics.map((d) => d.message).join('\n'), /is not an IPv4 \(a\.b\.c\.d\) or IPv6 address/);
});

t.test('load: static_ipaddress takes IPv6 (a /128 when no prefix); VRRP VIPs still refused', async (t) => {
  const cfg = loadConfigText(`dataplane:\n  interface: eth0\nstatic_ipaddress:\n  - 2001:2::100\n  - { address: "2001:2::101/64", dev: eth0 }\n`, 's6.yaml');
  t.same(cfg.config.static_ipaddress.map((a) => [a.ip, a.prefix, a.address]), [['2001:2::100', 128, '2001:2::100/128'], ['2001:2::101', 64, '2001:2::101/64']]);
  let error: unknown;
  try { loadConfigText(`dataplane:\n  interface: eth0\nstatic_ipaddress:\n  - 2001:2::zz\n`, 's6.yaml'); } catch (e) { error = e; }
  t.match((error as ConfigError).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'), /4:5 .*is not an IPv4 \(a\.b\.c\.d\[\/nn\]\) or IPv6/);
});
