// ldirectord.cf translation, the cases the first translator got wrong: checktype=off (no real
// or fallback server activated), connect on UDP, negotiate dns with receive, real= ranges,
// <l:N>/<u:N> thresholds, ops, virtual6/real6 (IPv6: translated; check-config refuses it
// with the services reason until IPv6 services forward), the
// emailalert hint. Fixture: fixtures/ldirectord-fixes.cf.
import { parse } from 'yaml';
import t from 'tap';
import { EXIT_INVALID_OUTPUT, runMigrate } from '../../src/cli/migrate.js';
import { loadConfigText } from '../../src/config/index.js';
import { ldirectordChecker, parseRealLine, MAX_REAL_RANGE } from '../../src/migrate/ldirectord-checks.js';

class Sink { text = ''; write(s: string): boolean { this.text += s; return true; } }
const FILE = 'test/migrate/fixtures/ldirectord-fixes.cf';
const out = new Sink();
const err = new Sink();
const status = runMigrate(FILE, { interface: 'eth0' }, out, err);
type Obj = Record<string, any>;
const doc = parse(out.text) as Obj;
const service = (vip: string): Obj => doc.virtual_servers.find((v: Obj) => v.vip === vip);
const reportAt = (line: number) => err.text.split('\n').filter((l) => l.startsWith(`${FILE}:${line}: `));

// Its virtual6=/real6= services forward now (issue 16), so the migrated YAML is a clean config.
t.test('the migrated YAML, IPv6 services included, passes check-config', async (t) => {
  t.doesNotThrow(() => loadConfigText(out.text, 'migrated.yaml'));
  t.equal(status, 0, 'exit 0');
  t.notMatch(err.text, /^lost in translation: \d+ of 4 virtual servers/m, 'every virtual server translated');
});

t.test('checktype=off: every real server at weight 0, no fallback (ldirectord activates none)', async (t) => {
  const vs = service('198.18.0.100');
  t.equal(vs.sorry_server, undefined);
  t.same(vs.real_servers.map((r: Obj) => r.weight), [0, 0, 0]);
  t.notOk(vs.real_servers.some((r: Obj) => Object.keys(r).some((k) => k.endsWith('_check') || k.endsWith('_get'))), 'no checker');
  t.match(reportAt(13), [/checktype=off: ldirectord activates no real or fallback server/]);
});

t.test('real=A->B:80 is a range of real servers, with <l:N> <u:N> thresholds', async (t) => {
  const vs = service('198.18.0.100');
  t.same(vs.real_servers.map((r: Obj) => [r.ip, r.port, r.lthreshold, r.uthreshold]),
    [['198.18.0.10', 80, 10, 100], ['198.18.0.11', 80, 10, 100], ['198.18.0.12', 80, 10, 100]]);
  t.match(reportAt(7), [/real= range 198\.18\.0\.10->198\.18\.0\.12:80: 3 real servers/]);
  t.notMatch(err.text, /not IP:PORT/);
  t.same(parseRealLine(['198.18.0.1->198.18.1.255:80', 'gate']), `range 198.18.0.1->198.18.1.255:80 has 511 addresses, more than ${MAX_REAL_RANGE}`);
  t.match(parseRealLine(['198.18.0.9->198.18.0.1']), /ends before it starts/);
  t.match(parseRealLine(['www.example.org:80']), /not names/);
});

t.test('checktype=connect on UDP is a udp_check, not a TCP probe; ops=yes is ops', async (t) => {
  const vs = service('198.18.0.101');
  t.equal(vs.protocol, 'UDP');
  t.equal(vs.ops, true);
  t.ok('udp_check' in vs.real_servers[0]);
  t.notOk('tcp_check' in vs.real_servers[0]);
  t.same(ldirectordChecker({ type: 'connect', service: 'none', protocol: 'TCP', connect: {} }), ['tcp_check', {}]);
});

t.test('negotiate for dns with receive: the dns_check is kept (name from request), the receive reported', async (t) => {
  t.same(service('198.18.0.102').real_servers[0].dns_check, { name: 'example.org' });
  t.match(reportAt(26), [/receive= of a dns negotiate check not supported by ulvs .*the check is kept without it/]);
});

t.test('virtual6 and real6: translated as an IPv6 service, [ADDR]:PORT read', async (t) => {
  const vs = service('2001:2::1');
  t.ok(vs, 'virtual6=[2001:2::1]:80 is a virtual server');
  t.equal(vs.port, 80);
  t.equal(vs.lb_algo, 'rr', 'its own scheduler');
  t.same(vs.real_servers.map((r: Obj) => [r.ip, r.port]), [['2001:2::10', 80]], 'real6=[2001:2::10]:80');
  t.ok(doc.static_ipaddress.some((a: Obj) => a.address === '2001:2::1/128'), 'its VIP held as a /128');
  t.notMatch(err.text, /unknown ldirectord setting/);
  t.notMatch(err.text, /scheduler= given twice/, 'the virtual6 block keeps its own settings');
  t.same(parseRealLine(['[2001:2::20]:8080', 'gate', '2']), { ips: ['2001:2::20'], port: 8080, rest: ['gate', '2'] });
  t.match(parseRealLine(['[2001:2::zz]:80']), /is not IP/);
});

t.test('emailalert points to what works, once', async (t) => {
  const lines = reportAt(4);
  t.equal(lines.length, 1, 'a global setting is reported once, not once per virtual');
  t.match(lines[0], /emailalert not supported by ulvs \(write global_defs notification_email: \[ADDRESS\], smtp_server: HOST and smtp_alert: true/);
});
