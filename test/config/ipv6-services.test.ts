// IPv6 virtual servers at load (issue 16): DR and NAT66 services, groups with keepalived's
// IPv6 ranges, prefix-length persistence_granularity and lvs_sync_daemon are accepted and compiled; what the
// IPv6 dataplane does not forward yet is refused at FILE:LINE:COL with the reason.
import t from 'tap';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/diagnostics.js';
import { compileSnapshot, IdRegistry } from '../../src/control/compile.js';
import { steeringFor } from '../../src/dataplane/steering.js';

function errorsOf(yaml: string): string {
  try { loadConfigText(yaml, 'v6.yaml'); } catch (e) {
    if (e instanceof ConfigError) return e.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n');
    throw e;
  }
  return '';
}

const ACCEPTED = `dataplane:
  interface: eth0
  inside: eth1
virtual_server_groups:
  - name: web6
    members: ["2001:2::200-202 443"]
virtual_servers:
  - vip: "2001:2::100"
    port: 80
    lb_algo: wrr
    lb_kind: DR
    real_servers:
      - { ip: "2001:2::10", weight: 1 }
      - { ip: "2001:2::20", weight: 3 }
  - group: web6
    lb_kind: NAT
    real_servers:
      - { ip: "2001:2:0:1::10", port: 8443 }
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10 }
`;

t.test('DR and NAT66 services load and compile to IPv6 snapshot entries and steering', async (t) => {
  t.equal(errorsOf(ACCEPTED), '');
  const { config } = loadConfigText(ACCEPTED, 'v6.yaml');
  const snapshot = compileSnapshot(config, new IdRegistry(), {
    macOf: () => '02:00:00:00:00:01', healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true, tunnelSource: 0,
  }, 1);
  const [dr, nat, v4] = snapshot.services;
  t.equal(dr.family, 6);
  t.same(dr.addresses, [{ vip: 0, vport: 80, vip6: '2001:2::100' }]);
  t.same(dr.realServers.map((r) => r.ip6), ['2001:2::10', '2001:2::20']);
  t.equal(dr.realServers[0].ip, (0x20010002 ^ 0x10) >>> 0, 'the fold IPVS hashes');
  t.equal(dr.persistencePrefix6, 128);
  t.same(nat.addresses.map((a) => a.vip6), ['2001:2::200', '2001:2::201', '2001:2::202'], 'the group range expanded');
  t.equal(v4.family, undefined, 'the IPv4 service beside them unchanged');
  const rules = steeringFor(snapshot);
  t.same(rules.outside.filter((r) => r.ip6).map((r) => `${r.ip6} ${r.port}`), ['2001:2::100 80', '2001:2::200 443', '2001:2::201 443', '2001:2::202 443']);
  t.same(rules.inside.map((r) => `${r.ip6} ${r.port}`), ['2001:2:0:1::10 8443'], 'NAT66 replies steered by their source');
});

const service = (extra: string, rs = '"2001:2::10"'): string => `virtual_servers:
  - vip: "2001:2::100"
    port: 80
${extra}    real_servers:
      - ip: ${rs}
`;

t.test('what IPv6 does not forward yet is refused with the reason', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['IPv4 server under an IPv6 TUN', service('    lb_kind: TUN\n', '198.18.0.10'), /6:13 real server 198\.18\.0\.10 is IPv4 under an IPv6 TUN service/],
    ['Full NAT', service('    lb_kind: FNAT\n'), /4:14 Full NAT is IPv4-only in ulvs/],
    ['netmask granularity', service('    lb_kind: DR\n    persistence_granularity: 255.255.255.0\n'), /5:30 persistence_granularity 255\.255\.255\.0 is a netmask, but this virtual server is IPv6/],
    ['link-local real server', service('    lb_kind: DR\n', '"fe80::10"'), /6:13 link-local real server fe80::10 has no interface/],
    ['duplicate VIP:port', `${service('    lb_kind: DR\n')}  - vip: "2001:2:0::100"\n    port: 80\n    lb_kind: DR\n    real_servers: [{ ip: "2001:2::20" }]\n`,
      /7:10 this service claims an IPv6 VIP:port that virtual_servers\.0 claims too/],
    ['bad address', service('    lb_kind: DR\n', '"2001:2::zz"'), /6:13 .*is not an IPv4 or IPv6 address/],
  ];
  for (const [name, yaml, want] of cases) t.match(errorsOf(yaml), want, name);
  t.notMatch(errorsOf(service('    lb_kind: TUN\n')), /TUN/, 'TUN over IPv6 (IPv6-in-IPv6) is accepted');
  t.equal(errorsOf(service('    lb_kind: DR\n    persistence_timeout: 60\n    persistence_granularity: 64\n')), '', 'IPv6 persistence with a prefix length is accepted');
  const synced = `global_defs:\n  lvs_sync_daemon: { interface: eth0, instance: VI_6, id: 6 }\n` +
    `vrrp_instances:\n  - { name: VI_6, interface: eth0, virtual_router_id: 6, version: 3, priority: 100, virtual_ipaddress: [ { address: "2001:2::100/128", dev: eth0 } ] }\n` +
    service('    lb_kind: DR\n');
  t.equal(errorsOf(synced), '', 'connection sync beside IPv6 services is accepted (IPv6 records, as IPVS)');
  t.match(errorsOf(`virtual_servers:\n  - vip: 198.18.0.100\n    port: 80\n    persistence_timeout: 60\n    persistence_granularity: 24\n    real_servers: [{ ip: 198.18.0.10 }]\n`),
    /5:30 persistence_granularity 24 is a prefix length, but this virtual server is IPv4/, 'a prefix length on an IPv4 service');
});
