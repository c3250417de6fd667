// The lab's config builder writes YAML the director loads, with what was asked for in it.
import t from 'tap';
import { loadConfigText } from '../../src/config/index.js';
import { labDirectorConfig, labService } from '../../src/lab/index.js';

t.test('the default is the lab DR service on a static VIP, rr over rs1..rs3', async (t) => {
  const c = loadConfigText(labDirectorConfig()).config;
  t.same(c.static_ipaddress?.map((a) => a.address), ['198.18.0.100/32']);
  t.equal(c.virtual_servers.length, 1);
  const vs = c.virtual_servers[0];
  t.match(vs, { vip: '198.18.0.100', port: 80, protocol: 'TCP', lb_algo: 'rr', lb_kind: 'DR' });
  t.same(vs.real_servers.map((r) => `${r.ip}:${r.port}`), ['198.18.0.10:80', '198.18.0.20:80', '198.18.0.30:80']);
});

t.test('VRRP instances, global_defs, more top-level keys, service keys and real-server keys all arrive', async (t) => {
  const yaml = labDirectorConfig({
    dataplane: 'io: tap',
    globalDefs: ['router_id: lab1'],
    vrrp: [
      { name: 'VI_1', state: 'BACKUP', virtualRouterId: 7, priority: 90, advertInt: 1, authPass: '1111' },
      { name: 'VI_2', virtualRouterId: 8, priority: 80, version: 3, advertInt: 0.5, vip: '198.18.0.101' },
    ],
    more: 'vrrp_sync_groups:\n  - { name: VG_1, group: [ VI_1, VI_2 ] }',
    services: [
      { lbAlgo: 'wrr', keys: ['delay_loop: 3'], realServers: [{ ip: '198.18.0.10', weight: 3, extra: 'tcp_check: { connect_timeout: 2 }' }] },
      { vip: '198.18.0.101', port: 53, protocol: 'UDP' },
    ],
  });
  const c = loadConfigText(yaml).config;
  t.equal(c.dataplane.io, 'tap');
  t.equal(c.global_defs?.router_id, 'lab1');
  t.equal(c.static_ipaddress?.length ?? 0, 0, 'no static VIP when VRRP holds it');
  t.match(c.vrrp_instances, [
    { name: 'VI_1', state: 'BACKUP', virtual_router_id: 7, priority: 90, authentication: { auth_type: 'PASS', auth_pass: '1111' } },
    { name: 'VI_2', virtual_router_id: 8, version: 3, advert_int: 0.5, virtual_ipaddress: [{ address: '198.18.0.101/32' }] },
  ]);
  t.equal(c.vrrp_sync_groups?.[0]?.name, 'VG_1');
  const [web, dns] = c.virtual_servers;
  t.match(web, { lb_algo: 'wrr', delay_loop: 3, real_servers: [{ ip: '198.18.0.10', weight: 3, check: { connect_timeout: 2 } }] });
  t.match(dns, { vip: '198.18.0.101', port: 53, protocol: 'UDP' });
  t.match(labService({ vip: '198.18.0.101' }), /vip: 198\.18\.0\.101\n/);
});
