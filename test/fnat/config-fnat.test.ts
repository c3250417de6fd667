// A Full NAT config loads and compiles: local_address_groups (name, addresses[].ip and .dev,
// port_min, port_max) and a virtual server's lb_kind FNAT with laddr_group_name reach the
// snapshot, and each local address becomes a static /32 the director holds.
import t from 'tap';
import { loadConfigText } from '../../src/config/index.js';
import { compileSnapshot, IdRegistry, type CompileContext } from '../../src/control/compile.js';
import { FORWARD_FNAT } from '../../src/dataplane/snapshot.js';
import { ipToNumber } from '../../src/packet/addr.js';

const YAML = `
dataplane: { interface: eth0, inside: eth1 }
static_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ]
local_address_groups:
  - name: g_out
    addresses: [ { ip: 198.18.0.200, dev: eth0 } ]
  - name: g_in
    addresses: [ { ip: 198.18.1.200, dev: eth1 }, { ip: 198.18.1.201, dev: eth1 } ]
    port_min: 20000
    port_max: 20999
virtual_servers:
  - { vip: 198.18.0.100, port: 80, lb_kind: FNAT, laddr_group_name: g_in, real_servers: [ { ip: 10.9.0.10, port: 8080 } ] }
  - { vip: 198.18.0.100, port: 81, lb_kind: FNAT, laddr_group_name: g_out, real_servers: [ { ip: 10.9.0.10, port: 8081 } ] }
`;

const context: CompileContext = {
  macOf: () => '02:00:00:00:00:0a', healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true,
  tunnelSource: ipToNumber('198.18.0.2'),
};

t.test('local_address_groups and laddr_group_name compile into the snapshot', async (t) => {
  const { config } = loadConfigText(YAML, 'fnat.yaml');
  const snap = compileSnapshot(config, new IdRegistry(), context, 1);
  t.same(snap.localAddresses, [
    { ip: ipToNumber('198.18.0.200'), portMin: 1024, portMax: 65535, outside: true },
    { ip: ipToNumber('198.18.1.200'), portMin: 20000, portMax: 20999, outside: false },
    { ip: ipToNumber('198.18.1.201'), portMin: 20000, portMax: 20999, outside: false },
  ], 'port_min/port_max per group, defaults 1024-65535; dev decides the interface');
  t.same(snap.localGroups, [[0], [1, 2]]);
  t.same(snap.services.map((s) => [s.forward, s.localGroup]), [[FORWARD_FNAT, 1], [FORWARD_FNAT, 0]], 'laddr_group_name -> group index');
  t.same(config.static_ipaddress.map((a) => `${a.address} ${a.dev}`),
    ['198.18.0.100/32 eth0', '198.18.0.200/32 eth0', '198.18.1.200/32 eth1', '198.18.1.201/32 eth1'], 'the director holds each local address');
});
