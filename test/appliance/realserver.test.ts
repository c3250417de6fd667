// `ulvs realserver` in a fresh network namespace: start/status/stop gives back the exact prior
// sysctl values, and bad input (a bad VIP, no CAP_NET_ADMIN, --dry-run) changes nothing.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { checkoutReadableByNobody } from '../support/readable-checkout.js';
import { REPO } from './build.js';

const NS = 'aprs-t1';
const KEYS = ['all', 'lo'].flatMap((d) => ['arp_ignore', 'arp_announce'].map((k) => `net.ipv4.conf.${d}.${k}`));
const PRIOR: Record<string, string> = { 'net.ipv4.conf.all.arp_ignore': '0', 'net.ipv4.conf.all.arp_announce': '1', 'net.ipv4.conf.lo.arp_ignore': '3', 'net.ipv4.conf.lo.arp_announce': '0' };
const ULVS = join(REPO, 'bin/ulvs.js');

const inNs = (args: string[]) => spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8' });
const ulvs = (...args: string[]) => inNs([process.execPath, ULVS, 'realserver', ...args]);
const sysctls = () => Object.fromEntries(KEYS.map((k) => [k, inNs(['sysctl', '-n', k]).stdout.trim()]));
const loAddresses = () => inNs(['ip', '-o', 'addr', 'show', 'dev', 'lo']).stdout.split('\n').map((l) => l.split(/\s+/)[3]).filter(Boolean).sort();
const snapshot = () => ({ sysctls: sysctls(), lo: loAddresses() });

t.before(() => {
  spawnSync('ip', ['netns', 'del', NS]);
  const add = spawnSync('ip', ['netns', 'add', NS], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add ${NS}: ${add.stderr}`);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  for (const [k, v] of Object.entries(PRIOR)) if (inNs(['sysctl', '-q', '-w', `${k}=${v}`]).status !== 0) throw new Error(`sysctl ${k}`);
});
t.teardown(() => { spawnSync('ip', ['netns', 'del', NS]); });

t.test('start, status, stop: exact prior values back', async (t) => {
  const before = snapshot();
  t.same(before.sysctls, PRIOR, 'the unusual prior values are set');

  const dry = ulvs('start', '--vip', '198.18.0.100', '--vip', '2001:2::100', '--dry-run');
  t.equal(dry.status, 0, dry.stderr);
  t.match(dry.stdout, /^ip addr add 198\.18\.0\.100\/32 dev lo$/m);
  t.match(dry.stdout, /^sysctl -q -w net\.ipv4\.conf\.lo\.arp_ignore=1$/m);
  t.same(snapshot(), before, '--dry-run changes nothing');

  const start = ulvs('start', '--vip', '198.18.0.100', '--vip', '2001:2::100');
  t.equal(start.status, 0, start.stderr);
  t.same(sysctls(), { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2', 'net.ipv4.conf.lo.arp_ignore': '1', 'net.ipv4.conf.lo.arp_announce': '2' });
  t.ok(loAddresses().includes('198.18.0.100/32') && loAddresses().includes('2001:2::100/128'), `VIPs on lo: ${loAddresses()}`);

  const again = ulvs('start', '--vip', '198.18.0.100');
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /nothing to change/, 'idempotent');

  const status = ulvs('status');
  t.equal(status.status, 0, status.stdout);
  t.match(status.stdout, /in place/);
  t.notMatch(status.stdout, /MISSING/);

  const stop = ulvs('stop');
  t.equal(stop.status, 0, stop.stderr);
  t.same(snapshot(), before, 'stop restores the exact prior values and addresses');

  const after = ulvs('status', '--vip', '198.18.0.100');
  t.equal(after.status, 3, 'status exits 3 when something is missing');
  t.match(after.stdout, /MISSING 198\.18\.0\.100\/32 on lo/);
  t.equal(ulvs('stop').status, 0, 'stop again: nothing to undo');
});

t.test('bad input: one line, nothing changed', async (t) => {
  const before = snapshot();
  const bad = ulvs('start', '--vip', '198.18.0.300');
  t.equal(bad.status, 2);
  t.equal(bad.stderr, 'ulvs realserver: --vip "198.18.0.300" is not an IPv4 or IPv6 address\n');
  const tun = ulvs('start', '--vip', '198.18.0.100', '--mode', 'tun');
  t.equal(tun.status, 1, 'no ipip on this kernel: refused');
  t.match(tun.stderr, /^ulvs realserver: mode tun needs tunl0 from the ipip module, which this kernel does not provide .*nothing was changed\n$/);
  const readable = checkoutReadableByNobody();
  const nobody = inNs(['env', '-u', 'NODE_OPTIONS', 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, join(readable, 'bin/ulvs.js'), 'realserver', 'start', '--vip', '198.18.0.100']);
  t.equal(nobody.status, 1);
  t.equal(nobody.stderr, 'ulvs realserver: changing addresses and sysctls needs CAP_NET_ADMIN: run as root or grant it\n');
  t.same(snapshot(), before, 'nothing changed');
});
