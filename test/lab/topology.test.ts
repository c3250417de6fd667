// The lab's topology as data: the fixed table others rely on, and name resolution.
import t from 'tap';
import fc from 'fast-check';
import {
  LAB_VIP,
  NAT_GATEWAY,
  NODE_SHORT_NAMES,
  isValidPrefix,
  labMac,
  labNamespaceNames,
  labNodes,
  labTopology,
  macBytes,
  resolveNode,
} from '../../src/lab/index.js';
import { nodeScript } from '../../src/lab/lab.js';

t.test('DR table: names, addresses and MACs', async (t) => {
  const nodes = labNodes('lab-');
  const table = Object.values(nodes).map((n) => [n.name, n.role, n.ip, n.mac, n.interfaces.length]);
  t.same(table, [
    ['lab-client', 'client', '198.18.0.1', '02:18:00:00:00:01', 1],
    ['lab-dir1', 'director', '198.18.0.2', '02:18:00:00:00:02', 1],
    ['lab-dir2', 'director', '198.18.0.3', '02:18:00:00:00:03', 1],
    ['lab-rs1', 'real', '198.18.0.10', '02:18:00:00:00:0a', 1],
    ['lab-rs2', 'real', '198.18.0.20', '02:18:00:00:00:14', 1],
    ['lab-rs3', 'real', '198.18.0.30', '02:18:00:00:00:1e', 1],
  ]);
  t.equal(LAB_VIP, '198.18.0.100');
  t.same(Object.values(nodes).map((n) => [n.ip6, n.interfaces[0].linkLocal]), [
    ['2001:2::1', 'fe80::1'], ['2001:2::2', 'fe80::2'], ['2001:2::3', 'fe80::3'],
    ['2001:2::10', 'fe80::10'], ['2001:2::20', 'fe80::20'], ['2001:2::30', 'fe80::30'],
  ]);
  t.equal(labTopology().vip6, '2001:2::100');
  for (const n of Object.values(nodes)) {
    t.equal(n.interfaces[0].bridge, 'br0');
    t.equal(n.gateway, undefined, `${n.short} has no default route in DR`);
  }
});

t.test('NAT table: inside segment, eth1 on directors, gateway on real servers', async (t) => {
  const topo = labTopology({ prefix: 'x-', nat: true });
  t.equal(topo.natGateway, NAT_GATEWAY);
  t.equal(NAT_GATEWAY, '198.18.1.254');
  const { dir1, dir2, rs1, rs2, rs3, client } = topo.nodes;
  t.same(
    dir1.interfaces.map((i) => [i.name, i.ip, i.mac, i.bridge]),
    [
      ['eth0', '198.18.0.2', '02:18:00:00:00:02', 'br0'],
      ['eth1', '198.18.1.1', '02:18:00:01:00:01', 'br1'],
    ],
  );
  t.same(dir2.interfaces.map((i) => i.ip), ['198.18.0.3', '198.18.1.2']);
  t.same([rs1.ip, rs2.ip, rs3.ip], ['198.18.1.10', '198.18.1.20', '198.18.1.30']);
  t.same([rs1.mac, rs3.mac], ['02:18:00:01:00:0a', '02:18:00:01:00:1e']);
  t.same(dir1.interfaces.map((i) => i.ip6), ['2001:2::2', '2001:2:0:1::1']);
  t.same([rs1.ip6, rs2.ip6, rs3.ip6], ['2001:2:0:1::10', '2001:2:0:1::20', '2001:2:0:1::30']);
  t.equal(topo.natGateway6, '2001:2:0:1::254');
  for (const rs of [rs1, rs2, rs3]) {
    t.equal(rs.gateway, NAT_GATEWAY);
    t.equal(rs.gateway6, '2001:2:0:1::254');
    t.equal(rs.interfaces[0].bridge, 'br1');
  }
  t.equal(client.ip, '198.18.0.1');
  t.equal(client.gateway, undefined);
});

t.test('every address, MAC and switch port is unique and fits the kernel limits', async (t) => {
  for (const nat of [false, true]) {
    const ifaces = Object.values(labTopology({ nat }).nodes).flatMap((n) => n.interfaces);
    const unique = (xs: string[]) => new Set(xs).size === xs.length;
    t.ok(unique(ifaces.map((i) => i.ip)), `ips unique (nat=${nat})`);
    t.ok(unique(ifaces.map((i) => i.ip6)), `IPv6 addresses unique (nat=${nat})`);
    t.ok(unique(ifaces.map((i) => `${i.bridge} ${i.linkLocal}`)), `link-locals unique per segment (nat=${nat})`);
    t.ok(unique(ifaces.flatMap((i) => [i.mac, i.switchPortMac])), `macs unique (nat=${nat})`);
    t.ok(unique(ifaces.map((i) => i.switchPort)), `switch ports unique (nat=${nat})`);
    for (const i of ifaces) {
      t.ok(i.switchPort.length <= 15, `${i.switchPort} fits IFNAMSIZ`);
      const bytes = macBytes(i.mac);
      t.equal(bytes[0] & 0x03, 0x02, `${i.mac} is unicast and locally administered`);
      t.ok(i.ip.startsWith('198.18.'), 'RFC 2544 range');
      t.ok(i.ip6.startsWith('2001:2:'), 'RFC 5180 range');
    }
  }
  t.same(Array.from(macBytes(labMac(0, 10))), [0x02, 0x18, 0x00, 0x00, 0x00, 0x0a]);
  t.throws(() => macBytes('02:18:00'));
});

t.test('prefixes: validated, and only the lab own names are derived from them', async (t) => {
  t.same(labNamespaceNames('tlb-'), [
    'tlb-client', 'tlb-dir1', 'tlb-dir2', 'tlb-rs1', 'tlb-rs2', 'tlb-rs3', 'tlb-switch',
  ]);
  for (const bad of ['', '-x', 'a b', 'a;rm', 'a/b', 'x'.repeat(41), '$(id)']) {
    t.notOk(isValidPrefix(bad), `rejects ${JSON.stringify(bad)}`);
    t.throws(() => labTopology({ prefix: bad }), /invalid lab prefix/);
  }
  t.ok(isValidPrefix('lab-'));
  t.ok(isValidPrefix('tlb.a_1-'));
});

const prefixArb = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/);
const shortArb = fc.constantFrom(...NODE_SHORT_NAMES);

t.test('resolveNode: short and full names round-trip (property)', async (t) => {
  fc.assert(
    fc.property(prefixArb, shortArb, (prefix, short) => {
      const full = resolveNode(prefix + short, 'other-');
      const bare = resolveNode(short, prefix);
      return (
        full.ok && full.prefix === prefix && full.short === short && full.namespace === prefix + short &&
        bare.ok && bare.namespace === prefix + short
      );
    }),
  );
  t.pass('round-trips');
});

t.test('resolveNode: unknown names get one line listing the valid nodes', async (t) => {
  for (const bad of ['rs4', 'switch', 'lab-switch', 'dir', '', 'lab-rs']) {
    const r = resolveNode(bad);
    t.notOk(r.ok, `rejects ${JSON.stringify(bad)}`);
    if (!r.ok) {
      t.match(r.message, /valid nodes are client, dir1, dir2, rs1, rs2, rs3/);
      t.notMatch(r.message, /\n/);
    }
  }
});

t.test('node scripts: DR real servers hide the VIP; NAT routes via the gateway', async (t) => {
  const dr = labTopology({ prefix: 'p-' }).nodes;
  const rs = nodeScript(dr.rs1, false);
  t.match(rs, 'ip addr add 198.18.0.100/32 dev lo');
  for (const s of ['all.arp_ignore=1', 'all.arp_announce=2', 'eth0.arp_ignore=1', 'eth0.arp_announce=2']) {
    t.match(rs, `net.ipv4.conf.${s}`);
  }
  t.match(rs, 'ethtool -K eth0 tx off');
  t.match(rs, 'ip -6 addr add 2001:2::10/64 dev eth0 nodad');
  t.match(rs, 'ip -6 addr add fe80::10/64 dev eth0 nodad');
  t.match(rs, 'ip -6 addr add 2001:2::100/128 dev lo nodad');
  t.match(rs, 'mld2-listener-report', 'MLD reports dropped');
  t.notMatch(nodeScript(dr.dir1, false), /198\.18\.0\.100|ip_forward/);
  const nat = labTopology({ prefix: 'p-', nat: true }).nodes;
  t.match(nodeScript(nat.rs2, true), 'ip route add default via 198.18.1.254 dev eth0 onlink');
  t.match(nodeScript(nat.rs2, true), 'ip -6 route add default via 2001:2:0:1::254 dev eth0 onlink');
  const dir = nodeScript(nat.dir2, true);
  t.match(dir, 'net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1');
  t.ok(dir.indexOf('forwarding=1') < dir.indexOf('disable_ipv6=0'), 'forwarding before any interface has IPv6');
  t.match(dir, 'ip addr add 198.18.1.2/24 dev eth1');
  t.match(dir, 'ethtool -K eth1 tx off');
});
