// The VRRP keywords of issue 12 as pure decisions: the GARP schedule (garp_master_delay,
// garp_master_repeat, garp_master_refresh, garp_master_refresh_repeat and the global
// vrrp_garp_master_refresh_repeat, vrrp_garp_interval pacing, vrrp_min_garp defaults),
// virtual_ipaddress_excluded (held, never advertised), vrrp_strict (its checks and changes),
// vrrp_gna_interval (taken: it paces IPv6 NAs), dont_track_primary, notify_stop of sync groups, brd/scope/peer
// (kept through the load), vrrp_skip_check_adv_addr, and auth_type AH (the AH codec).
import t from 'tap';
import fc from 'fast-check';

import { loadConfigText, ConfigError } from '../../src/config/index.js';
import { checkInstances } from '../../src/config/check-vrrp.js';
import { Findings, gatherNames, type CrossCheckEnv, type Obj } from '../../src/config/cross-check-kit.js';
import { decodePacket } from '../../src/vrrp/codec.js';
import { vrrpConfigFrom } from '../../src/vrrp/from-config.js';
import { burstOrder, garpPlan, nextGarpAt } from '../../src/vrrp/garp-plan.js';
import { ahKey, encodeAhAdvertPacket, unwrapAh } from '../../src/vrrp/ipsec-ah.js';
import { classifyAdvert } from '../../src/vrrp/adverts.js';
import { refreshPolledTracking } from '../../src/vrrp/link-poll.js';
import { groupNotifications } from '../../src/vrrp/notify-plan.js';
import { heldAddressesOf, instanceSettings, MAX_ADVERTISED_VIPS, vipNumbersOf } from '../../src/vrrp/settings.js';
import { initialRuntime, step, type InstanceParams } from '../../src/vrrp/state.js';
import type { VrrpInstanceConfig } from '../../src/vrrp/config.js';

const ME = 0xc6120002;
const PEER = 0xc6120003;
const GROUP = 0xe0000012;

function load(yaml: string) {
  return loadConfigText(`dataplane: { interface: eth0 }\n${yaml}`, 'k.yaml');
}

function loadError(yaml: string): string {
  try { load(yaml); } catch (err) { if (err instanceof ConfigError) return err.message; throw err; }
  return '';
}

const instanceYaml = (extra = '', vips = '[198.18.0.100/32]') => `vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_ipaddress: ${vips}
${extra.split('\n').filter(Boolean).map((l) => `    ${l}`).join('\n')}
`;

t.test('GARP schedule: keepalived defaults, a burst now and after garp_master_delay, no refresh', async (t) => {
  t.same(garpPlan({}, true), { bursts: [{ atMs: 0, rounds: 5 }, { atMs: 5000, rounds: 5 }], refresh: null });
  t.same(garpPlan({ garp_master_delay: 0, garp_master_repeat: 2 }, true), { bursts: [{ atMs: 0, rounds: 2 }], refresh: null });
});

t.test('garp_master_refresh starts after the delay and sends garp_master_refresh_repeat rounds', async (t) => {
  const plan = garpPlan({ garp_master_delay: 2, garp_master_repeat: 1, garp_master_refresh: 3, garp_master_refresh_repeat: 4 }, true);
  t.same(plan.refresh, { firstAtMs: 5000, everyMs: 3000, rounds: 4 });
  t.equal(garpPlan({ garp_master_refresh: 3, garp_master_refresh_repeat: 0 }, true).refresh, null, 'refresh_repeat 0 sends nothing');
  t.equal(garpPlan({ garp_master_refresh: 3 }, false).refresh, null, 'addresses a reload adds get no refresh timer of their own');
});

t.test('a burst is rounds over every address, in order (keepalived vrrp_send_link_update)', async (t) => {
  t.same(burstOrder(2, ['a', 'b', 'e']), ['a', 'b', 'e', 'a', 'b', 'e']);
  t.same(burstOrder(0, ['a']), []);
});

t.test('vrrp_garp_interval: GARPs on one interface at least the interval apart', async (t) => {
  t.equal(nextGarpAt(1000, null, 50), 1000, 'the first goes at once');
  t.equal(nextGarpAt(1010, 1000, 50), 1050, 'the next waits for the interval');
  t.equal(nextGarpAt(2000, 1000, 50), 2000, 'after a quiet spell, at once');
  t.equal(nextGarpAt(1001, 1000, 0), 1001, 'no interval: no pacing');
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 200 }), (gaps, interval) => {
    let now = 0;
    let last: number | null = null;
    for (const g of gaps) {
      now += g;
      const at = nextGarpAt(now, last, interval);
      if (at < now || (last !== null && at - last < interval)) return false;
      last = at;
      now = at;
    }
    return true;
  }));
});

t.test('vrrp_min_garp: one GARP, no delayed burst, no refresh, unless set; vrrp_garp_master_refresh_repeat is inherited', async (t) => {
  const min = load(`global_defs: { vrrp_min_garp: true }\n${instanceYaml()}`).config.vrrp_instances[0];
  t.match(min, { garp_master_delay: 0, garp_master_repeat: 1, garp_master_refresh: 0, garp_master_refresh_repeat: 0 });
  const set = load(`global_defs: { vrrp_min_garp: true, vrrp_garp_master_repeat: 3, vrrp_garp_master_refresh: 10, vrrp_garp_master_refresh_repeat: 2 }\n${instanceYaml()}`).config.vrrp_instances[0];
  t.match(set, { garp_master_delay: 0, garp_master_repeat: 3, garp_master_refresh: 10, garp_master_refresh_repeat: 2 });
  const own = load(`global_defs: { vrrp_garp_master_refresh_repeat: 2 }\n${instanceYaml('garp_master_refresh_repeat: 7')}`).config;
  t.equal(own.vrrp_instances[0].garp_master_refresh_repeat, 7, 'the instance keyword wins');
  const plain = load(instanceYaml()).config.vrrp_instances[0];
  t.match(plain, { garp_master_delay: 5, garp_master_repeat: 5, garp_master_refresh: 0, garp_master_refresh_repeat: 1 });
  const vrrp = vrrpConfigFrom(load(`global_defs: { vrrp_garp_interval: 0.05 }\n${instanceYaml('garp_master_refresh: 4\ngarp_master_refresh_repeat: 3')}`).config);
  t.equal(vrrp.vrrp_garp_interval, 0.05, 'vrrp_garp_interval reaches the speaker');
  t.match(vrrp.vrrp_instances[0], { garp_master_refresh: 4, garp_master_refresh_repeat: 3 });
});

t.test('virtual_ipaddress_excluded: held and announced, never in the advert', async (t) => {
  const cfg = vrrpConfigFrom(load(instanceYaml('virtual_ipaddress_excluded: [198.18.0.200/32, { address: 198.18.0.201/24, dev: eth1 }]')).config).vrrp_instances[0];
  t.same(vipNumbersOf(cfg), [0xc6120064], 'the advert carries the VIP only');
  t.same(heldAddressesOf(cfg).map((a) => a.address), ['198.18.0.100/32', '198.18.0.200/32', '198.18.0.201/24'], 'MASTER holds all three');
  const s = instanceSettings(cfg, 2, ME, undefined);
  t.same(s.vipNumbers, [0xc6120064]);
});

t.test('more than 255 VIPs: the advert carries 255, the others are held (keepalived moves them to eVIPs)', async (t) => {
  const many = Array.from({ length: 300 }, (_, i) => ({ address: `198.18.${1 + (i >> 8)}.${i & 255}/32` }));
  const cfg: VrrpInstanceConfig = { name: 'V', interface: 'eth0', virtual_router_id: 1, virtual_ipaddress: many };
  t.equal(vipNumbersOf(cfg).length, MAX_ADVERTISED_VIPS);
  t.equal(heldAddressesOf(cfg).length, 300);
  const r = new Findings();
  const raw: Obj = { vrrp_instances: [{ name: 'V', interface: 'eth0', virtual_router_id: 1, virtual_ipaddress: many.map((m) => m.address) }] };
  checkInstances(raw, gatherNames(raw), r, env);
  t.match(r.list.map((f) => `${f.severity} ${f.message}`), [/^warning 300 VIPs: an advert carries at most 255/]);
});

const env: CrossCheckEnv = { dirOf: () => '/', where: (path) => `@${path.join('.')}` };

function findings(cfg: Obj): string[] {
  const r = new Findings();
  checkInstances(cfg, gatherNames(cfg), r, env);
  return r.list.map((f) => `${f.severity} ${f.path.join('.')}: ${f.message}`);
}

t.test('vrrp_strict: keepalived\'s refusals are errors, its resets are warnings that say what runs', async (t) => {
  const vi = (extra: Obj) => ({ name: 'A', interface: 'eth0', virtual_router_id: 1, virtual_ipaddress: ['198.18.0.100'], ...extra });
  const strict = { vrrp_strict: true };
  t.same(findings({ global_defs: strict, vrrp_instances: [vi({})] }), [
    'warning global_defs.vrrp_strict: vrrp_strict: traffic to a VIP that no virtual_server takes is still answered by the kernel (keepalived\'s no_accept firewall rules: ulvs has no firewall)',
  ], 'a compliant instance: only the firewall caveat');
  t.match(findings({ global_defs: strict, vrrp_instances: [vi({ unicast_peer: ['198.18.0.3'] })] }), [/./, /^error vrrp_instances\.0\.unicast_peer: unicast_peer is not allowed with vrrp_strict/]);
  t.match(findings({ global_defs: strict, vrrp_instances: [vi({ virtual_ipaddress: [] })] }), [/./, /^error vrrp_instances\.0\.name: vrrp instance has no virtual_ipaddress; vrrp_strict requires/]);
  t.match(findings({ global_defs: strict, vrrp_instances: [vi({ state: 'MASTER', priority: 150, preempt_delay: 5, authentication: { auth_type: 'PASS', auth_pass: 'x' } })] }), [
    /./,
    /^warning vrrp_instances\.0\.authentication: vrrp_strict: authentication is ignored/,
    /^warning vrrp_instances\.0\.state: vrrp_strict: state must match being the address owner \(priority 255\); running as BACKUP/,
    /^warning vrrp_instances\.0\.preempt_delay: vrrp_strict: preempt_delay is not allowed; running with 0/,
  ]);
  t.same(findings({ global_defs: {}, vrrp_instances: [vi({ unicast_peer: ['198.18.0.3'], state: 'MASTER' })] }), [], 'without vrrp_strict: none of it');
  t.match(findings({ global_defs: { vrrp_version: 3 }, vrrp_instances: [vi({ virtual_ipaddress: [] })] }), [/^error .*VRRP version 3 requires at least one/], 'VRRPv3 needs a VIP, strict or not (keepalived)');

  // What runs: normalize applies the same changes.
  const loaded = load(`global_defs: { vrrp_strict: true }\n${instanceYaml('state: MASTER\npriority: 150\npreempt_delay: 5\nauthentication: { auth_type: AH, auth_pass: x }')}`);
  t.match(loaded.config.vrrp_instances[0], { state: 'BACKUP', preempt_delay: 0, authentication: undefined, vrrp_strict: true });
  const owner = load(`global_defs: { vrrp_strict: true }\n${instanceYaml('priority: 255')}`).config.vrrp_instances[0];
  t.equal(owner.state, 'MASTER', 'the address owner starts as MASTER');
  t.match(loadError(`global_defs: { vrrp_strict: true }\n${instanceYaml('unicast_peer: [198.18.0.3]')}`), /k\.yaml:\d+:\d+: unicast_peer is not allowed with vrrp_strict/);
});

const params = (strict: boolean, basePriority = 100): InstanceParams => ({
  version: 2, advertIntervalCs: 100, priority: basePriority, basePriority, preempt: true, preemptDelayMs: 0,
  initialState: 'MASTER', primaryIp: ME, strict,
});

/** state MASTER: BACKUP whose timer fires at once, then MASTER. */
function masterRuntime(p: InstanceParams) {
  const start = step(p, initialRuntime(p), { type: 'startup' }, 0);
  const rt = start.runtime.state === 'MASTER' ? start.runtime : step(p, start.runtime, { type: 'timer' }, 1).runtime;
  if (rt.state !== 'MASTER') throw new Error(`not MASTER: ${rt.state}`);
  return rt;
}

t.test('vrrp_strict in the state machine: no answer to a lower-priority master; the owner ignores adverts', async (t) => {
  const lower = { type: 'advert' as const, priority: 50, srcIp: PEER, intervalCs: 100 };
  const loose = step(params(false), masterRuntime(params(false)), lower, 10);
  t.ok(loose.actions.some((a) => a.type === 'sendAdvert'), 'keepalived default: answered at once');
  const strict = step(params(true), masterRuntime(params(true)), lower, 10);
  t.notOk(strict.actions.some((a) => a.type === 'sendAdvert'), 'strict: lower_prio_no_advert');
  const owner = params(true, 255);
  const tie = step(owner, masterRuntime(owner), { type: 'advert', priority: 255, srcIp: 0xc61200ff, intervalCs: 100 }, 10);
  t.equal(tie.runtime.state, 'MASTER', 'strict owner: owner_ignore_adverts');
  t.same(tie.actions, []);
});

t.test('vrrp_gna_interval is taken at load and reaches the speaker (it paces neighbour advertisements)', async (t) => {
  t.equal(vrrpConfigFrom(load(`global_defs: { vrrp_gna_interval: 0.1 }\n${instanceYaml()}`).config).vrrp_gna_interval, 0.1);
});

t.test('dont_track_primary: the own interface is not tracked', async (t) => {
  const cfg: VrrpInstanceConfig = { name: 'V', interface: 'eth0', virtual_router_id: 1, virtual_ipaddress: [] };
  const tracked = { cfg, tracked: [] as { name: string; weight: number; up: boolean }[] };
  t.equal(await refreshPolledTracking(tracked, async () => false), true, 'without it: the link going down is a change');
  t.match(tracked.tracked, [{ name: 'own:eth0', up: false }]);
  const ignoring = { cfg: { ...cfg, dont_track_primary: true }, tracked: [] as { name: string; weight: number; up: boolean }[] };
  t.equal(await refreshPolledTracking(ignoring, async () => false), false);
  t.same(ignoring.tracked, [], 'with dont_track_primary: nothing tracked, no FAULT');
  t.equal(vrrpConfigFrom(load(instanceYaml('dont_track_primary: true')).config).vrrp_instances[0].dont_track_primary, true);
});

t.test('sync group notify_stop and the GROUP notify (keepalived: priority 0 for a group)', async (t) => {
  const g = { name: 'VG', group: ['VI_1'], notify_stop: '/bin/stop-it', notify: '/bin/n' };
  const commands = groupNotifications(g, 'STOP');
  t.same(commands.map((c) => c.line), ['/bin/stop-it', '/bin/n'], 'notify_stop, then the generic notify');
  t.same(commands.map((c) => c.argv.slice(4)), [[], ['GROUP', 'VG', 'STOP', '0']], 'notify gets GROUP VG STOP 0');
  const loaded = vrrpConfigFrom(load(`${instanceYaml()}vrrp_sync_groups:\n  - name: VG\n    group: [VI_1]\n    notify_stop: /bin/stop-it\n`).config);
  t.equal(loaded.vrrp_sync_groups![0].notify_stop, '/bin/stop-it');
});

t.test('brd, scope, peer and label of an address reach the speaker', async (t) => {
  const cfg = vrrpConfigFrom(load(instanceYaml('', '[{ address: 198.18.0.100/24, brd: 198.18.0.255, scope: link, label: eth0:v }, { address: 198.18.0.101/32, peer: 198.18.0.201 }]')).config).vrrp_instances[0];
  t.match(cfg.virtual_ipaddress, [
    { address: '198.18.0.100/24', brd: '198.18.0.255', scope: 'link', label: 'eth0:v', dev: 'eth0' },
    { address: '198.18.0.101/32', peer: '198.18.0.201', dev: 'eth0' },
  ]);
});

const advert = (priority: number, addresses: number[]) => ({ version: 2 as const, vrid: 51, priority, intervalCs: 100, authType: 2, authPass: '', addresses });

t.test('auth_type AH: keepalived\'s header, ICV over the packet with mutable fields zeroed', async (t) => {
  const key = ahKey('secret99-and-more');
  t.same([...key], [...Buffer.from('secret99')], 'the key is auth_pass cut to 8 bytes');
  const pkt = encodeAhAdvertPacket(advert(100, [0xc6120064]), ME, GROUP, { key, seq: 7, ipId: 3, unicast: false });
  t.equal(pkt[9], 51, 'IP protocol 51');
  t.equal(pkt[20], 112, 'next header VRRP');
  t.equal(pkt[21], 4, 'payload length 4');
  t.equal(Buffer.from(pkt).readUInt32BE(24), ME, 'SPI = source address');
  t.equal(Buffer.from(pkt).readUInt32BE(28), 7, 'sequence number');
  const un = unwrapAh(pkt);
  if (!un.ok) throw new Error('unwrap failed');
  t.ok(un.verify(key, false), 'ICV verifies with the key');
  t.notOk(un.verify(ahKey('other'), false), 'not with another key');
  const decoded = decodePacket(un.vrrpPacket);
  t.match(decoded, { ok: true, advert: { vrid: 51, priority: 100, authType: 2, addresses: [0xc6120064] } });

  // Mutable fields may change on the way (tos, checksum, fragment bits); anything else breaks the ICV.
  const mutated = Buffer.from(pkt); mutated[1] = 0; mutated[6] = 0x40;
  t.ok((unwrapAh(mutated) as { verify: (k: Buffer, u: boolean) => boolean }).verify(key, false), 'tos and DF do not count');
  const tampered = Buffer.from(pkt); tampered[20 + 24 + 2] = 200;
  t.notOk((unwrapAh(tampered) as { verify: (k: Buffer, u: boolean) => boolean }).verify(key, false), 'a changed priority fails');
  const lowTtl = Buffer.from(encodeAhAdvertPacket(advert(100, []), ME, PEER, { key, seq: 1, ipId: 1, unicast: true })); lowTtl[8] = 250;
  t.ok((unwrapAh(lowTtl) as { verify: (k: Buffer, u: boolean) => boolean }).verify(key, true), 'unicast: the TTL is mutable');

  fc.assert(fc.property(fc.integer({ min: 1, max: 255 }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }), fc.integer({ min: 0, max: 0xffffffff }), fc.string({ maxLength: 12 }),
    (prio, addrs, seq, pass) => {
      const k = ahKey(pass);
      const p = unwrapAh(encodeAhAdvertPacket(advert(prio, addrs), ME, GROUP, { key: k, seq, ipId: 9, unicast: false }));
      if (!p.ok || !p.verify(k, false) || p.seq !== seq) return false;
      const d = decodePacket(p.vrrpPacket);
      return d.ok && d.advert.priority === prio && d.advert.addresses.join() === addrs.join();
    }));
});

t.test('AH adverts: replays, a missing AH header and AH for a PASS instance are dropped', async (t) => {
  const key = ahKey('k');
  const receiver = { cfg: { virtual_router_id: 51 }, expectation: { version: 2 as const, vrid: 51, intervalCs: 100, authType: 2, authPass: '', ownIps: [ME] }, peers: [], ah: { key, seq: 10 } };
  const send = (seq: number, k = key) => encodeAhAdvertPacket(advert(120, []), PEER, GROUP, { key: k, seq, ipId: 1, unicast: false });
  t.match(classifyAdvert([receiver], send(11)), { accepted: true, ahSeq: 11 });
  t.match(classifyAdvert([receiver], send(10)), { accepted: false, reason: 'ah_replay' });
  t.match(classifyAdvert([receiver], send(12, ahKey('bad'))), { accepted: false, reason: 'auth_failure' });
  const inner = unwrapAh(send(13));
  if (!inner.ok) throw new Error('unwrap failed');
  t.match(classifyAdvert([receiver], inner.vrrpPacket), { accepted: false, reason: 'auth_type_mismatch' }, 'auth type 2 without the AH header');
  const pass = { ...receiver, ah: null, expectation: { ...receiver.expectation, authType: 1, authPass: 'k' } };
  t.match(classifyAdvert([pass], send(14)), { accepted: false, reason: 'auth_type_mismatch' });
});

t.test('vrrp_skip_check_adv_addr: the VIP list check it turns off (an advert is taken either way, a mismatch is counted)', async (t) => {
  const { addressListMatches } = await import('../../src/vrrp/adverts.js');
  t.ok(addressListMatches([2, 1], [1, 2]), 'same VIPs in another order');
  t.notOk(addressListMatches([1], [1, 2]), 'one missing');
  t.notOk(addressListMatches([1, 3], [1, 2]), 'another one');
  t.equal(vrrpConfigFrom(load(`global_defs: { vrrp_skip_check_adv_addr: true }\n${instanceYaml()}`).config).vrrp_skip_check_adv_addr, true, 'reaches the speaker');
});
