// keepalived's own doc/samples/keepalived.conf.IPv6 (copied from acassen/keepalived): migrate
// translates its IPv6 services and check-config accepts them, except what ulvs does not do
// over IPv6 yet (persistence), refused with the reason at its line; no address is ever called
// malformed.
import t from 'tap';
import { spawnSync } from 'node:child_process';

t.test('keepalived.conf.IPv6: translated; only IPv6 persistence refused, with the reason', async (t) => {
  const r = spawnSync(process.execPath, ['bin/ulvs.js', 'migrate', 'test/migrate/fixtures/keepalived.conf.IPv6'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 1, 'exit 1: the output does not pass check-config');
  t.match(r.stdout, /vip: ae00::1\n/, 'the virtual server is translated');
  t.match(r.stdout, /ip: ae00::10\n/, 'its real server too');
  t.match(r.stdout, /ae00::2-9 80/, 'the group range is translated');
  const errors = r.stderr.split('\n').filter((l) => /^migrated\.yaml:\d+:\d+: /.test(l));
  t.equal(errors.length, 1, errors.join(' | '));
  t.match(errors[0], /persistence for IPv6 services is not done yet/, 'the one refusal: IPv6 persistence');
  t.notMatch(r.stderr, /is not an IPv4 address|is not "IP \[PORT\]"|is an IPv6 address/, 'no address refused or called malformed');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
