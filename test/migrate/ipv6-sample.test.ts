// keepalived's own doc/samples/keepalived.conf.IPv6 (copied from acassen/keepalived): migrate
// translates its IPv6 services (persistence with a prefix length included) and check-config
// accepts them all; no address is ever called malformed.
import t from 'tap';
import { spawnSync } from 'node:child_process';

t.test('keepalived.conf.IPv6: translated and accepted, IPv6 persistence included', async (t) => {
  const r = spawnSync(process.execPath, ['bin/ulvs.js', 'migrate', 'test/migrate/fixtures/keepalived.conf.IPv6'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, `exit 0: the output passes check-config (${r.stderr})`);
  t.match(r.stdout, /vip: ae00::1\n/, 'the virtual server is translated');
  t.match(r.stdout, /ip: ae00::10\n/, 'its real server too');
  t.match(r.stdout, /ae00::2-9 80/, 'the group range is translated');
  t.match(r.stdout, /persistence_timeout: \d+/, 'persistence kept');
  const errors = r.stderr.split('\n').filter((l) => /^migrated\.yaml:\d+:\d+: /.test(l));
  t.same(errors, [], 'no refusal');
  t.notMatch(r.stderr, /is not an IPv4 address|is not "IP \[PORT\]"|is an IPv6 address/, 'no address refused or called malformed');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
