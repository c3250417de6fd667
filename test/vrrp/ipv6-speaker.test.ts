// The speaker's IPv6 parts as pure decisions (issue 16 part 5): an IPv6 vrrp_instance loads
// (version 3 forced, said in one warning when version 2 is written; one family per instance
// stays an error), vrrp_gna_interval is taken, settings for IPv6 (ff02::12, canonical VIP
// text, link-local source as a bigint), classifyAdvert6 on codec6's output, and the master
// election on equal priority comparing link-local sources numerically. The wire with
// keepalived is test/vrrp/interop-ipv6-speaker.test.ts.
import t from 'tap';

import { formatStatus } from '../../src/cli/status.js';
import { loadConfigText, ConfigError } from '../../src/config/index.js';
import { addressKey, addressKeyText } from '../../src/vrrp/address-key.js';
import { classifyAdvert6, addressListMatches } from '../../src/vrrp/adverts.js';
import { encodeAdvert6, VRRP_MCAST_GROUP6 } from '../../src/vrrp/codec6.js';
import { vrrpConfigFrom } from '../../src/vrrp/from-config.js';
import { instanceFamily, instanceSettings, instanceVersion } from '../../src/vrrp/settings.js';
import { initialRuntime, step, type InstanceParams } from '../../src/vrrp/state.js';
import { instanceStatus } from '../../src/vrrp/status.js';
import type { VrrpInstanceConfig } from '../../src/vrrp/config.js';

const load = (yaml: string) => loadConfigText(`dataplane: { interface: eth0 }\n${yaml}`, 'v6.yaml');
function loadError(yaml: string): string {
  try { load(yaml); } catch (err) { if (err instanceof ConfigError) return err.format(); throw err; }
  return '';
}
const instance = (extra = '', vips = '[2001:2::100/64]') => `vrrp_instances:
  - name: VI6
    interface: eth0
    virtual_router_id: 51
    virtual_ipaddress: ${vips}
${extra.split('\n').filter(Boolean).map((l) => `    ${l}`).join('\n')}
`;

t.test('an IPv6 vrrp_instance loads as version 3, and vrrp_gna_interval reaches the speaker', async (t) => {
  const loaded = load(`global_defs: { vrrp_gna_interval: 0.2 }\n${instance('advert_int: 0.5')}`);
  t.equal(loaded.config.vrrp_instances[0].version, 3, 'global vrrp_version 2 (default) does not apply to IPv6');
  t.same(loaded.warnings, []);
  const vrrp = vrrpConfigFrom(loaded.config);
  t.equal(vrrp.vrrp_gna_interval, 0.2);
  t.equal(vrrp.vrrp_instances[0].virtual_ipaddress[0].address, '2001:2::100/64');
});

t.test('version 2 on an IPv6 instance: version 3 anyway, said in one warning at the key', async (t) => {
  const loaded = load(instance('version: 2'));
  t.equal(loaded.config.vrrp_instances[0].version, 3);
  t.equal(loaded.warnings.length, 1);
  t.match(loaded.warnings[0], { file: 'v6.yaml', line: 7, message: /IPv6 vrrp_instance runs VRRP version 3/ });
});

t.test('one family per instance stays an error at FILE:LINE:COL', async (t) => {
  t.match(loadError(instance('', '[2001:2::100/64, 198.18.0.100/32]')), /^v6\.yaml:6:\d+: IPv4 VIP 198\.18\.0\.100\/32 in an IPv6 vrrp_instance/m);
  t.match(loadError(instance('mcast_dst_ip: 224.0.0.18')), /^v6\.yaml:7:\d+: IPv4 mcast_dst_ip 224\.0\.0\.18 in an IPv6 vrrp_instance/m);
  t.match(loadError(instance('unicast_peer: [198.18.0.3]')), /^v6\.yaml:7:\d+: IPv4 unicast peer 198\.18\.0\.3 in an IPv6 vrrp_instance/m);
  t.match(loadError(instance('unicast_src_ip: 198.18.0.2')), /^v6\.yaml:7:\d+: IPv4 unicast_src_ip 198\.18\.0\.2 in an IPv6 vrrp_instance/m);
  t.match(loadError(instance('unicast_peer: [2001:2::3]', '[198.18.0.100/32]')), /^v6\.yaml:7:\d+: IPv6 unicast peer 2001:2::3 in an IPv4 vrrp_instance/m);
  t.match(loadError(instance('mcast_dst_ip: ff02::18')), /^v6\.yaml:7:\d+: .*is an IPv6 address: VRRPv3 over IPv6 advertises from the interface's link-local address to global_defs.vrrp_mcast_group6 \(default ff02::12/m,
    'another IPv6 multicast group: refused with its reason');
  t.match(loadError(instance('unicast_peer: [2001:2::3, 2001:2::3:0:0:0:0:0:1]')), /^v6\.yaml:7:\d+: .*2001:2::3:0:0:0:0:0:1/m, 'a malformed IPv6 peer is an error');
  t.match(load(instance('', '[2001:2::100/64, 2001:2::100/64]')).warnings, [{ line: 6, message: /2001:2::100 is listed twice/ }], 'a VIP twice is still caught for IPv6');
});

t.test('unicast over IPv6 loads: peers and source of the instance\'s family, as keepalived writes them', async (t) => {
  const loaded = load(instance('unicast_src_ip: 2001:2::2\nunicast_peer: [2001:2:0::3, fe80::4]'));
  t.same(loaded.warnings, []);
  const vrrp = vrrpConfigFrom(loaded.config).vrrp_instances[0];
  t.equal(vrrp.unicast_src_ip, '2001:2::2');
  t.same(vrrp.unicast_peer, ['2001:2:0::3', 'fe80::4']);
  const s = instanceSettings(vrrp, 3, addressKey('2001:2::2'), undefined);
  t.same(s.peers, ['2001:2::3', 'fe80::4'], 'peers in canonical text, as codec6 decodes sources');
  t.equal(s.mcastGroup, VRRP_MCAST_GROUP6, 'no group is joined for a unicast instance (peers set), ff02::12 stays its family default');
  const peersOnly = load(`vrrp_instances:\n  - { name: U6, interface: eth0, virtual_router_id: 52, unicast_peer: ['2001:2::3'] }\n`).config.vrrp_instances[0];
  t.equal(instanceFamily(vrrpConfigFrom({ ...loaded.config, vrrp_instances: [peersOnly] }).vrrp_instances[0]), 6, 'no VIP: the peers decide the family');
});

const cfg6: VrrpInstanceConfig = { name: 'VI6', interface: 'eth0', virtual_router_id: 51, version: 2, virtual_ipaddress: [{ address: '2001:2:0::100/64' }] };

t.test('settings for IPv6: ff02::12, version 3, canonical VIP text, no IPv4 numbers', async (t) => {
  t.equal(instanceFamily(cfg6), 6);
  t.equal(instanceVersion(cfg6), 3);
  const s = instanceSettings(cfg6, 3, addressKey('fe80::2'), '224.0.0.18');
  t.equal(s.mcastGroup, VRRP_MCAST_GROUP6);
  t.same(s.vips6, ['2001:2::100']);
  t.same(s.vipNumbers, []);
  t.same(s.expectation.ownIps, [addressKey('fe80::2')]);
  t.equal(addressKeyText(addressKey('fe80::2')), 'fe80::2');
  t.equal(addressKeyText(addressKey('198.18.0.2')), '198.18.0.2');
});

t.test('classifyAdvert6: taken, own, unknown vrid, bad hop limit', async (t) => {
  const s = instanceSettings(cfg6, 3, addressKey('fe80::2'), undefined);
  const inst = { cfg: cfg6, expectation: s.expectation, peers: [] };
  const data = Buffer.from(encodeAdvert6({ vrid: 51, priority: 150, intervalCs: 100, addresses: ['2001:2::100'] }, 'fe80::3', VRRP_MCAST_GROUP6));
  const packet = (source: string, hopLimit = 255) => ({ data, ifindex: 2, truncated: false, source, destination: VRRP_MCAST_GROUP6, hopLimit });
  const taken = classifyAdvert6([inst], packet('fe80::3'));
  t.match(taken, { accepted: true, advert: { priority: 150, intervalCs: 100, srcIp: addressKey('fe80::3'), source: 'fe80::3', addresses: ['2001:2::100'] } });
  if (taken.accepted) t.ok(addressListMatches(taken.advert.addresses, s.vips6), 'its VIP list is ours');
  t.match(classifyAdvert6([inst], packet('fe80::3', 64)), { accepted: false, reason: 'bad_ttl' });
  t.match(classifyAdvert6([inst], packet('fe80::2')), { accepted: false, reason: 'bad_checksum' }, 'the checksum covers the source');
  const other = { ...inst, cfg: { ...cfg6, virtual_router_id: 52 } };
  t.match(classifyAdvert6([other], packet('fe80::3')), { accepted: false, reason: 'unknown_vrid', peer: 'fe80::3' });
  const own = Buffer.from(encodeAdvert6({ vrid: 51, priority: 100, intervalCs: 100, addresses: ['2001:2::100'] }, 'fe80::2', VRRP_MCAST_GROUP6));
  t.match(classifyAdvert6([inst], { ...packet('fe80::2'), data: own }), { accepted: false, reason: 'own_advert' });
});

t.test('classifyAdvert6 with unicast peers: a peer\'s unicast advert is taken, anyone else\'s dropped as unknown_peer', async (t) => {
  const cfg: VrrpInstanceConfig = { ...cfg6, unicast_src_ip: '2001:2::2', unicast_peer: ['2001:2:0:0::3'] };
  const s = instanceSettings(cfg, 3, addressKey('2001:2::2'), undefined);
  const inst = { cfg, expectation: s.expectation, peers: s.peers };
  const from = (source: string) => {
    const data = Buffer.from(encodeAdvert6({ vrid: 51, priority: 150, intervalCs: 100, addresses: ['2001:2::100'] }, source, '2001:2::2'));
    return { data, ifindex: 2, truncated: false, source, destination: '2001:2::2', hopLimit: 255 };
  };
  t.match(classifyAdvert6([inst], from('2001:2::3')), { accepted: true, advert: { source: '2001:2::3', srcIp: addressKey('2001:2::3') } });
  t.match(classifyAdvert6([inst], from('2001:2::9')), { accepted: false, reason: 'unknown_peer', peer: '2001:2::9' });
  t.match(classifyAdvert6([{ ...inst, peers: [] }], from('2001:2::9')), { accepted: true }, 'without peers any source is taken (multicast)');
  // keepalived 2.2.7 sends IPv6 unicast adverts with the default hop limit (64), and checks a
  // unicast peer's hop limit only when given min_ttl/max_ttl.
  t.match(classifyAdvert6([inst], { ...from('2001:2::3'), hopLimit: 64 }), { accepted: true }, 'unicast: any hop limit from a peer');
  t.match(classifyAdvert6([{ ...inst, peers: [] }], { ...from('2001:2::3'), hopLimit: 64 }), { accepted: false, reason: 'bad_ttl', detail: 'hop limit 64' }, 'multicast: 255 only');
});

t.test('equal priority: the higher link-local source wins, compared as 128-bit numbers', async (t) => {
  const params: InstanceParams = {
    version: 3, advertIntervalCs: 100, priority: 100, basePriority: 100, preempt: true, preemptDelayMs: 0,
    initialState: 'BACKUP', primaryIp: addressKey('fe80::2'),
  };
  let rt = initialRuntime(params);
  rt = step(params, rt, { type: 'startup' }, 0).runtime;
  rt = step(params, rt, { type: 'timer' }, 4000).runtime;
  t.equal(rt.state, 'MASTER');
  const lower = step(params, rt, { type: 'advert', priority: 100, srcIp: addressKey('fe80::1'), intervalCs: 100 }, 4100);
  t.equal(lower.runtime.state, 'MASTER', 'fe80::1 < fe80::2: we stay MASTER');
  const higher = step(params, rt, { type: 'advert', priority: 100, srcIp: addressKey('fe80::1:0'), intervalCs: 100 }, 4100);
  t.equal(higher.runtime.state, 'BACKUP', 'fe80::1:0 > fe80::2 (numerically, not as text)');
  t.match(higher.runtime.lastTransition, { reason: /from fe80::1:0 \(priority 100\)/ });
  t.equal(addressKeyText(higher.runtime.masterIp!), 'fe80::1:0');
});

t.test('ulvs status: an IPv6 instance shows its family and its master\'s link-local', async (t) => {
  const params: InstanceParams = {
    version: 3, advertIntervalCs: 100, priority: 100, basePriority: 100, preempt: true, preemptDelayMs: 0,
    initialState: 'BACKUP', primaryIp: addressKey('fe80::2'),
  };
  const runtime = { ...initialRuntime(params), state: 'BACKUP' as const, masterIp: addressKey('fe80::3') };
  const status = instanceStatus({ cfg: cfg6, params, runtime, wallTransitionAt: 0, drops: {}, advertsSent: 0, advertsReceived: 4 });
  t.match(status, { version: 3, family: 6, masterIp: 'fe80::3', vips: ['2001:2:0::100/64'] });
  const text = formatStatus([status]);
  t.match(text, /version 3 over IPv6 {2}priority 100/);
  t.match(text, /master fe80::3 {2}vips 2001:2:0::100\/64/);
});
