// keepalived's own doc/samples/keepalived.conf.IPv6 (copied from acassen/keepalived): migrate
// translates its services, and every IPv6 address is refused with the one reason (ulvs does
// not forward IPv6 services yet) at its line, never called a malformed address.
import t from 'tap';
import { spawnSync } from 'node:child_process';

t.test('keepalived.conf.IPv6: each IPv6 address refused with the reason, at its line', async (t) => {
  const r = spawnSync(process.execPath, ['bin/ulvs.js', 'migrate', 'test/migrate/fixtures/keepalived.conf.IPv6'], { encoding: 'utf8', timeout: 60_000 });
  t.not(r.status, 0, 'not a clean migration');
  t.match(r.stdout, /vip: ae00::1\n/, 'the virtual server is translated');
  t.match(r.stdout, /ip: ae00::10\n/, 'its real server too');
  t.match(r.stderr, /keepalived\.conf\.IPv6:8: .*"ae00::2-9 80" is an IPv6 address: ulvs does not forward IPv6 services/, 'the range member');
  t.match(r.stderr, /keepalived\.conf\.IPv6:9: .*"ae00::1 80" is an IPv6 address/);
  t.match(r.stderr, /migrated\.yaml:\d+:\d+: vip "ae00::1" is an IPv6 address: ulvs does not forward IPv6 services/, 'check-config refuses the VIP');
  t.match(r.stderr, /migrated\.yaml:\d+:\d+: ip "ae00::10" is an IPv6 address/);
  t.notMatch(r.stderr, /is not an IPv4 address|is not "IP \[PORT\]"/, 'never called malformed');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
