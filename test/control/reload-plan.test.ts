// Which config changes a reload applies in place and which only a restart can.
import t from 'tap';
import { loadConfigText, type UlvsConfig } from '../../src/config/index.js';
import { DEFAULT_TIMEOUTS } from '../../src/conntrack/tcp-states.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import { insideToOpen, planReload, vrrpManagedVips } from '../../src/control/reload-plan.js';

interface Variant { inside?: boolean; queues?: number; kind?: 'DR' | 'NAT'; statics?: string[]; tcpTimeout?: number; vrrp?: boolean }

function config(v: Variant = {}): UlvsConfig {
  const statics = (v.statics ?? ['198.18.0.100/32']).map((a) => `  - { address: ${a}, dev: eth0 }`).join('\n');
  const yaml = `
dataplane:
  interface: eth0
${v.inside ? '  inside: eth1\n' : ''}  queues: ${v.queues ?? 1}
${v.tcpTimeout ? `  lvs_timeouts: { tcp: ${v.tcpTimeout} }\n` : ''}
static_ipaddress:
${statics}
${v.vrrp ? `vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    priority: 100
    virtual_ipaddress: [198.18.0.200/32]
` : ''}
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: ${v.kind ?? 'DR'}
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
`;
  return loadConfigText(yaml, 'reload-plan.yaml').config;
}

t.test('an unchanged config applies in place and changes nothing', async (t) => {
  const plan = planReload(config(), config(), false);
  t.same(plan.rejections, []);
  t.same(plan.release, []);
  t.same(plan.hold.map((a) => a.address), ['198.18.0.100/32'], 'holding what is held is a no-op');
  t.equal(plan.timeouts, null);
});

t.test('dataplane keys the workers started with need a restart, each named', async (t) => {
  const plan = planReload(config(), config({ inside: true, queues: 2 }), false);
  t.same(plan.rejections, [
    'dataplane.inside changed: it takes effect only on restart',
    'dataplane.queues changed: it takes effect only on restart',
  ]);
  t.same(plan.hold, [], 'a rejected reload touches no address');
});

t.test('the first NAT service needs an inside interface the workers opened', async (t) => {
  t.same(planReload(config({ inside: true }), config({ inside: true, kind: 'NAT' }), false).rejections,
    ['a NAT service needs the inside interface, which this director did not open: restart to add the first NAT service']);
  t.same(planReload(config({ inside: true }), config({ inside: true, kind: 'NAT' }), true).rejections, []);
});

t.test('static addresses: the dropped ones are released, the new set held', async (t) => {
  const plan = planReload(config({ statics: ['198.18.0.100/32', '198.18.0.101/32'] }), config({ statics: ['198.18.0.100/32', '198.18.0.102/32'] }), false);
  t.same(plan.release.map((a) => a.address), ['198.18.0.101/32']);
  t.same(plan.hold.map((a) => a.address), ['198.18.0.100/32', '198.18.0.102/32']);
});

t.test('changed lvs_timeouts come as the full effective set', async (t) => {
  const plan = planReload(config(), config({ tcpTimeout: 600 }), false);
  t.same(plan.timeouts, { ...DEFAULT_TIMEOUTS, tcp: 600 });
});

t.test('VRRP-managed VIPs and the inside interface to open', async (t) => {
  t.same([...vrrpManagedVips(config({ vrrp: true }))], ['198.18.0.200']);
  t.same([...vrrpManagedVips(config())], []);
  const snap = (forward: number): Snapshot => ({ version: 1, tunnelSource: 0, mtu: 1500, services: [{ forward } as Snapshot['services'][number]] });
  t.equal(insideToOpen(config({ inside: true }).dataplane, snap(FORWARD_DR)), 'eth1', 'opened for a later NAT service');
  t.equal(insideToOpen(config().dataplane, snap(FORWARD_NAT)), null, 'none configured: none opened');
  t.equal(insideToOpen(config().dataplane, snap(FORWARD_DR)), null);
});
