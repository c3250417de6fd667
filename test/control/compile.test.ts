// The snapshot compiler: config + runtime facts (MACs, health, quorum, VRRP ownership) -> the
// plain snapshot the workers read.
import t from 'tap';
import { loadConfigText, type UlvsConfig } from '../../src/config/index.js';
import { compileSnapshot, IdRegistry, realServerKey, serviceAddresses, serviceKey, type CompileContext, type HealthState } from '../../src/control/compile.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN } from '../../src/dataplane/snapshot.js';
import { ipToNumber } from '../../src/packet/addr.js';

const YAML = `
dataplane: { interface: eth0, inside: eth1 }
virtual_server_groups:
  - name: web
    members: ['198.18.0.110-112 80', '198.18.0.120 0']
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: wrr
    lb_kind: DR
    persistence_timeout: 300
    persistence_granularity: 255.255.255.0
    real_servers:
      - { ip: 198.18.0.10, port: 80, weight: 3 }
      - { ip: 198.18.0.20, port: 80, inhibit_on_failure: true }
    sorry_server: { ip: 198.18.0.99, port: 80 }
  - vip: 198.18.0.101
    port: 53
    protocol: UDP
    lb_algo: sh
    lb_kind: NAT
    ops: true
    sh_port: true
    real_servers:
      - { ip: 198.18.1.10, port: 5353, uthreshold: 100, lthreshold: 10 }
  - group: web
    protocol: TCP
    lb_algo: rr
    lb_kind: TUN
    real_servers:
      - { ip: 198.18.2.10, port: 0 }
`;

const config: UlvsConfig = loadConfigText(YAML, 'compile.yaml').config;

function context(over: Partial<CompileContext> = {}): CompileContext {
  return {
    macOf: (ip) => (ip === '198.18.0.10' ? '02:00:00:00:00:0a' : null),
    healthOf: () => undefined,
    sorryActive: () => false,
    ownsVip: () => true,
    tunnelSource: ipToNumber('198.18.0.2'),
    ...over,
  };
}

t.test('every supported service, with its forward method, scheduler and options', async (t) => {
  const snap = compileSnapshot(config, new IdRegistry(), context(), 7);
  t.equal(snap.version, 7);
  t.equal(snap.tunnelSource, ipToNumber('198.18.0.2'));
  t.equal(snap.mtu, 1500);
  t.equal(snap.services.length, 3);
  const [dr, nat, tun] = snap.services;
  t.match(dr, {
    protocol: 6, forward: FORWARD_DR, scheduler: 'wrr', persistenceTimeout: 300,
    persistenceMask: ipToNumber('255.255.255.0'), onePacket: false, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }],
  });
  t.same(dr.realServers.map((r) => [r.port, r.weight, r.available, r.mac]), [[80, 3, true, '02:00:00:00:00:0a'], [80, 1, true, null]]);
  t.match(nat, { protocol: 17, forward: FORWARD_NAT, scheduler: 'sh', onePacket: true, schedulerFlags: { shPort: true } });
  t.match(nat.realServers[0], { ip: ipToNumber('198.18.1.10'), port: 5353, uthreshold: 100, lthreshold: 10 });
  t.equal(tun.forward, FORWARD_TUN);
  t.same(tun.addresses.map((a) => a.vport), [80, 80, 80], 'group members expanded; the port-0 member is left out');
  t.same(tun.addresses.map((a) => a.vip), [ipToNumber('198.18.0.110'), ipToNumber('198.18.0.111'), ipToNumber('198.18.0.112')]);
});

t.test('ids are stable across compiles and distinct between services and endpoints', async (t) => {
  const ids = new IdRegistry();
  const a = compileSnapshot(config, ids, context(), 1);
  const b = compileSnapshot(config, ids, context(), 2);
  t.same(b.services.map((s) => s.id), a.services.map((s) => s.id));
  t.same(b.services.flatMap((s) => s.realServers.map((r) => r.rsId)), a.services.flatMap((s) => s.realServers.map((r) => r.rsId)));
  const all = [...a.services.map((s) => s.id), ...a.services.flatMap((s) => s.realServers.map((r) => r.rsId))];
  t.equal(new Set(all).size, all.length);
  t.equal(ids.idOf(serviceKey(config.virtual_servers[0])), a.services[0].id);
  t.equal(ids.idOf(realServerKey(config.virtual_servers[0], '198.18.0.10', 80)), a.services[0].realServers[0].rsId);
  t.equal(serviceKey(config.virtual_servers[2]), 'TCP group web');
});

t.test('health: a failed server leaves scheduling, or stays at weight 0 with inhibit_on_failure', async (t) => {
  const down: Record<string, HealthState> = { '198.18.0.10:80': { up: false }, '198.18.0.20:80': { up: false } };
  const snap = compileSnapshot(config, new IdRegistry(), context({ healthOf: (_, rs) => down[rs] }), 1);
  t.same(snap.services[0].realServers.map((r) => [r.weight, r.available]), [[3, false], [0, true]]);
  const reweighted = compileSnapshot(config, new IdRegistry(), context({ healthOf: (_, rs) => (rs === '198.18.0.10:80' ? { up: true, weight: 5 } : undefined) }), 1);
  t.equal(reweighted.services[0].realServers[0].weight, 5, 'a check may set the weight (misc_dynamic)');
});

t.test('quorum lost: the sorry server joins the live servers', async (t) => {
  const snap = compileSnapshot(config, new IdRegistry(), context({
    sorryActive: (id) => id === '198.18.0.100:80/TCP',
    healthOf: (_, rs) => (rs === '198.18.0.10:80' ? { up: false } : undefined),
  }), 1);
  t.same(snap.services[0].realServers.map((r) => [r.ip, r.weight]), [[ipToNumber('198.18.0.20'), 1], [ipToNumber('198.18.0.99'), 1]]);
});

t.test('a VIP this director does not own (VRRP BACKUP) is not forwarded', async (t) => {
  const snap = compileSnapshot(config, new IdRegistry(), context({ ownsVip: (vip) => vip !== '198.18.0.100' && vip !== '198.18.0.111' }), 1);
  t.same(snap.services.map((s) => s.addresses.map((a) => a.vip)),
    [[ipToNumber('198.18.0.101')], [ipToNumber('198.18.0.110'), ipToNumber('198.18.0.112')]]);
});

t.test('serviceAddresses of a group that does not exist is empty', async (t) => {
  t.same(serviceAddresses({ ...config, virtual_server_groups: [] }, config.virtual_servers[2]), []);
});
