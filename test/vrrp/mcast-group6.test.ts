// global_defs.vrrp_mcast_group6 (keepalived's, default ff02::12): the group IPv6 instances
// without unicast_peer advertise to; IPv4 instances keep vrrp_mcast_group4. A change at reload
// updates the IPv6 multicast instances only. On the wire with keepalived:
// test/vrrp/interop-ipv6-speaker.test.ts (both sides on ff02::1:12).
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/diagnostics.js';
import { vrrpConfigFrom } from '../../src/vrrp/from-config.js';
import { planVrrpReload } from '../../src/vrrp/reload.js';
import { instanceSettings } from '../../src/vrrp/settings.js';
import { addressKey } from '../../src/vrrp/address-key.js';

const yaml = (group6: string): string => `
global_defs: { ${group6 ? `vrrp_mcast_group6: "${group6}"` : ''} }
vrrp_instances:
  - { name: V4, interface: eth0, virtual_router_id: 1, priority: 100, virtual_ipaddress: [ 198.18.0.100/32 ] }
  - { name: V6, interface: eth0, virtual_router_id: 2, priority: 100, version: 3, virtual_ipaddress: [ { address: "2001:2::100/64" } ] }
  - { name: V6U, interface: eth0, virtual_router_id: 3, priority: 100, version: 3, unicast_src_ip: "2001:2::2", unicast_peer: [ "2001:2::3" ],
      virtual_ipaddress: [ { address: "2001:2::101/64" } ] }
`;

function load(group6: string) {
  return vrrpConfigFrom(loadConfigText(yaml(group6), 'ulvs.yaml').config);
}

t.test('IPv6 instances advertise to vrrp_mcast_group6; IPv4 ones keep vrrp_mcast_group4', async (t) => {
  for (const [group6, want] of [['', 'ff02::12'], ['ff02::1:12', 'ff02::1:12']]) {
    const v = load(group6);
    t.equal(v.vrrp_mcast_group6, want, `global_defs.vrrp_mcast_group6 ${group6 || 'unset'} -> ${want}`);
    const group = (name: string, primary: string) => instanceSettings(v.vrrp_instances.find((i) => i.name === name)!, 3, addressKey(primary),
      v.vrrp_mcast_group4, v.vrrp_mcast_group6).mcastGroup;
    t.equal(group('V6', 'fe80::2'), want, 'the IPv6 multicast instance');
    t.equal(group('V4', '198.18.0.2'), '224.0.0.18', 'the IPv4 instance keeps vrrp_mcast_group4');
  }
});

t.test('a changed vrrp_mcast_group6 updates the IPv6 multicast instances at reload, no other', async (t) => {
  const plan = planVrrpReload(load(''), load('ff02::1:12'));
  t.same(plan.updated.map((u) => [u.name, u.changed]), [['V6', ['vrrp_mcast_group6']]]);
  t.same(plan.unchanged.sort(), ['V4', 'V6U']);
});

t.test('vrrp_mcast_group6 must be an IPv6 multicast group', async (t) => {
  for (const bad of ['224.0.0.18', '2001:2::12', 'ff02::12/64', 'group']) {
    const err = t.throws(() => loadConfigText(yaml(bad), 'ulvs.yaml'), ConfigError, `${bad} refused`) as ConfigError;
    t.match(err.message, /ulvs\.yaml:2:\d+: vrrp_mcast_group6 .* is not an IPv6 multicast address/, 'FILE:LINE:COL and why');
  }
});
