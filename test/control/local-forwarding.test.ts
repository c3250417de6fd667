// IPVS's Local forwarding, the pure parts: which destinations are the director itself, when a
// service is handed to the kernel (not steered), and what `ulvs list -n` calls it. The e2e
// side (seed 002 over AF_XDP and TAP) is test/e2e/local-forwarding.test.ts.
import t from 'tap';
import { applyLocalForwarding, compileSnapshot, IdRegistry, isLocalDestination, type CompileContext } from '../../src/control/compile.js';
import { steeringFor } from '../../src/dataplane/steering.js';
import { loadConfigText } from '../../src/config/index.js';
import { serviceStatuses } from '../../src/control/commands.js';

const YAML = `
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    sorry_server: { ip: 127.0.0.1, port: 80 }
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
  - vip: 198.18.0.101
    port: 80
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.2, port: 80 }
      - { ip: 198.18.0.101, port: 80 }
`;

function ctx(over: Partial<CompileContext> = {}): CompileContext {
  return {
    macOf: () => '02:00:00:00:00:01', healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true,
    isLocal: (ip) => ip === '198.18.0.2', tunnelSource: 0, ...over,
  };
}

t.test('local destinations: loopback, a VIP, an address the kernel routes to itself', async (t) => {
  const vips = new Set(['198.18.0.100']);
  t.equal(isLocalDestination('127.0.0.1', vips, {}), true);
  t.equal(isLocalDestination('127.1.2.3', vips, {}), true);
  t.equal(isLocalDestination('198.18.0.100', vips, {}), true, 'the VIP itself');
  t.equal(isLocalDestination('198.18.0.2', vips, { isLocal: (ip) => ip === '198.18.0.2' }), true, 'one of the director\'s own addresses');
  t.equal(isLocalDestination('198.18.0.10', vips, { isLocal: () => false }), false);
});

t.test('a service goes to the kernel iff every live destination is local', async (t) => {
  const r = (local: boolean, weight = 1, available = true) => ({ local, weight, available });
  t.equal(applyLocalForwarding([r(true)]).kernel, true);
  t.equal(applyLocalForwarding([r(true), r(false, 0, true)]).kernel, true, 'a quiesced remote server does not count');
  t.equal(applyLocalForwarding([]).kernel, false, 'no destination: nothing to hand over');
  const mixed = applyLocalForwarding([r(true), r(false)]);
  t.equal(mixed.kernel, false);
  t.same(mixed.servers.map((s) => [s.weight, s.available]), [[1, true], [1, true]], 'mixed: the local one takes connections too (LOCAL verdict per connection)');
  const p = (local: boolean, port: number) => ({ local, weight: 1, available: true, port });
  const otherPort = applyLocalForwarding([p(true, 8080), p(false, 8080)], [80]);
  t.same(otherPort.servers.map((s) => s.available), [false, true], 'a local server on another port than the VIP\'s takes no connections');
  t.equal(otherPort.unreachable.length, 1);
  t.equal(applyLocalForwarding([p(true, 8080)], [80]).kernel, false, 'nor does the service go to the kernel for it');
  t.equal(applyLocalForwarding([p(true, 80), p(true, 0)], [80]).kernel, true, 'same port, or port 0 (the client\'s): to the kernel');
});

t.test('the sorry server on 127.0.0.1: steered while real servers live, left to the kernel when it serves', async (t) => {
  const config = loadConfigText(YAML, 'l.yaml').config;
  const ids = new IdRegistry();
  const normal = compileSnapshot(config, ids, ctx(), 1);
  t.equal(normal.services[0].kernel, false);
  t.same(steeringFor(normal).outside.map((r) => r.ip), [normal.services[0].addresses[0].vip],
    'the first service is steered; the second (all local) is not');
  const sorry = compileSnapshot(config, ids, ctx({ sorryActive: (id) => id.startsWith('198.18.0.100'), healthOf: (id) => (id.startsWith('198.18.0.100') ? { up: false } : undefined) }), 2);
  t.equal(sorry.services[0].kernel, true);
  t.same(sorry.services[0].realServers.map((s) => s.local), [true], 'only the sorry server is left');
  t.equal(steeringFor(sorry).outside.some((r) => r.ip === sorry.services[0].addresses[0].vip), false, 'no steering rule: XDP passes, tc does not redirect');
  const listed = serviceStatuses(sorry, config, ids, new Map());
  t.match(listed[0].realServers[0], { ip: '127.0.0.1', port: 80, forward: 'Local', weight: 1 });
});

t.test('a real server at the VIP or at the director\'s own address is Local', async (t) => {
  const config = loadConfigText(YAML, 'l.yaml').config;
  const snap = compileSnapshot(config, new IdRegistry(), ctx(), 1);
  t.same(snap.services[1].realServers.map((s) => s.local), [true, true]);
  t.equal(snap.services[1].kernel, true, 'every destination is the director: the kernel gets the service');
  const mixed = compileSnapshot(config, new IdRegistry(), ctx({ isLocal: () => false }), 1);
  t.same(mixed.services[1].realServers.map((s) => [s.local, s.available]), [[false, true], [true, true]],
    'mixed with a remote server: both take connections (the VIP one per connection to the own stack), the service stays steered');
  t.equal(mixed.services[1].kernel, false);
});

t.test('a local server on another port than the VIP\'s is refused at load, FILE:LINE:COL', async (t) => {
  const text = `
dataplane: { interface: eth0 }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    sorry_server: { ip: 127.0.0.1, port: 8080 }
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.100, port: 81 }
      - { ip: 127.0.0.2, port: 80 }
`;
  let message = '';
  try { loadConfigText(text, 'l.yaml'); } catch (e) { message = (e as Error).message; }
  t.match(message, /^l\.yaml:10:35: real server 198\.18\.0\.100:81 is this director, on another port than the VIP's 80: ulvs hands such packets to its own stack unchanged, to 198\.18\.0\.100:80, and cannot rewrite the port/m);
  t.match(message, /^l\.yaml:7:42: sorry server 127\.0\.0\.1:8080 is this director/m);
  t.notMatch(message, /127\.0\.0\.2/, 'a local server on the VIP\'s port is fine');
  t.notMatch(message, /198\.18\.0\.10:/, 'a remote server on any port is fine');
});

t.test('at run time a local server on another port (the director\'s own address) takes no connections', async (t) => {
  const text = YAML.replace('- { ip: 198.18.0.2, port: 80 }', '- { ip: 198.18.0.2, port: 8080 }');
  const config = loadConfigText(text, 'l.yaml').config;
  const snap = compileSnapshot(config, new IdRegistry(), ctx(), 1);
  t.same(snap.services[1].realServers.map((s) => [s.port, s.local, s.available, s.weight]), [[8080, true, false, 0], [80, true, true, 1]]);
  t.equal(snap.services[1].kernel, true, 'the one on the VIP\'s port takes the service');
});
