// The VRRP speaker over IPv6 (VRRPv3, RFC 5798) with keepalived 2.2.7, both directions, in the
// dual-stack lab (prefix vsa-: dir1 is fe80::2, dir2 fe80::3, both on 2001:2::/64):
// - ulvs MASTER (priority 200), keepalived BACKUP (100): keepalived stays BACKUP; kill -9 ulvs
//   -> keepalived takes the VIP after its master-down interval;
// - keepalived MASTER (150), ulvs BACKUP (100): ulvs stays BACKUP and names fe80::3 as master;
//   kill -9 keepalived -> ulvs takes over within its master-down interval + margin, its VIP
//   appears on eth0 (nodad), and tshark sees its unsolicited NA (from the VIP to ff02::1,
//   Override set, target the VIP).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import {
  addrLine, createVrrpLab, dropAddress, hasVip, killKeepalived, masterDownMs1s as mdi, TAKEOVER_MARGIN_MS as MARGIN_MS, speakerStarted, speakerStatus, startCapture, startKeepalived, startUlvs, waitForOrFail,
} from './fixtures/lab.js';

const VIP6 = '2001:2::100';

const lab = await createVrrpLab('vsa-', 3);
t.teardown(() => lab.destroy());
const [, ulvsNs, kaNs] = lab.nodes;

const kaConf = (state: string, priority: number): string => `global_defs {
  router_id ka6
}
vrrp_instance VI6 {
  state ${state}
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP6}/64 dev eth0
  }
}
`;

const ulvsConfig = (state: 'MASTER' | 'BACKUP', priority: number): object => ({
  vrrp_instances: [{
    name: 'VI6', state, interface: 'eth0', virtual_router_id: 51, priority, advert_int: 1, version: 3,
    virtual_ipaddress: [{ address: `${VIP6}/64` }], garp_master_delay: 0, garp_master_repeat: 2,
  }],
});

const dropVip = (ns: string): void => dropAddress(ns, `${VIP6}/64`);

t.test('ulvs MASTER, keepalived BACKUP; kill -9 ulvs -> keepalived takes over', async (t) => {
  const ulvs = startUlvs(lab, ulvsNs, 'ulvs-m', ulvsConfig('MASTER', 200));
  t.teardown(() => { ulvs.kill('SIGKILL'); dropVip(ulvsNs); });
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  await speakerStarted(ulvs);
  await waitForOrFail('ulvs to hold the VIP', () => hasVip(ulvsNs, VIP6), 15_000);
  const ka = startKeepalived(lab, kaNs, 'ka-b', kaConf('BACKUP', 100));
  t.teardown(() => { killKeepalived(lab, 'ka-b'); dropVip(kaNs); });
  await waitForOrFail('keepalived to enter BACKUP', () => ka.output.some((l) => /VI6.*Entering BACKUP STATE/.test(l)), 30_000);
  // Twice keepalived's master-down interval: without our adverts it would be MASTER by then.
  await new Promise((r) => setTimeout(r, 2 * mdi(100)));
  t.notOk(ka.output.some((l) => /VI6.*Entering MASTER STATE/.test(l)), 'keepalived stays BACKUP under our VRRPv3/IPv6 adverts');
  t.notOk(hasVip(kaNs, VIP6), 'and does not hold the VIP');
  const s = await speakerStatus(ulvs);
  t.match(s, { state: 'MASTER', version: 3, family: 6, masterIp: 'fe80::2', vips: [`${VIP6}/64`] }, 'status: an IPv6 instance, MASTER, our link-local');
  t.ok((s.advertsSent as number) >= 3, `adverts sent: ${s.advertsSent}`);
  t.match(addrLine(ulvsNs, VIP6), /nodad/, 'the VIP went on nodad');

  const killedAt = Date.now();
  ulvs.kill('SIGKILL');
  await waitForOrFail('keepalived to take over', () => hasVip(kaNs, VIP6), mdi(100) + 10_000, 20);
  const gap = Date.now() - killedAt;
  t.comment(`keepalived took over ${gap} ms after kill -9 of ulvs (master-down interval ${mdi(100)} ms)`);
  t.ok(gap <= mdi(100) + MARGIN_MS, `within the master-down interval + ${MARGIN_MS} ms`);
  await waitForOrFail('keepalived to log MASTER', () => ka.output.some((l) => /VI6.*Entering MASTER STATE/.test(l)), 10_000);
  t.pass('its log says MASTER');
});

t.test('keepalived MASTER, ulvs BACKUP; kill -9 keepalived -> ulvs takes over and sends NAs', async (t) => {
  dropVip(ulvsNs);
  dropVip(kaNs);
  const ka = startKeepalived(lab, kaNs, 'ka-m', kaConf('MASTER', 150));
  t.teardown(() => { killKeepalived(lab, 'ka-m'); dropVip(kaNs); });
  await waitForOrFail('keepalived to hold the VIP', () => hasVip(kaNs, VIP6), 15_000);
  const ulvs = startUlvs(lab, ulvsNs, 'ulvs-b', ulvsConfig('BACKUP', 100));
  t.teardown(() => { ulvs.kill('SIGKILL'); dropVip(ulvsNs); });
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  await speakerStarted(ulvs);
  // Kept: the window is under test (ulvs stays BACKUP for more than its master-down interval).
  await new Promise((r) => setTimeout(r, mdi(100) + 1500));
  t.notOk(hasVip(ulvsNs, VIP6), 'ulvs stays BACKUP while keepalived advertises');
  const s = await speakerStatus(ulvs);
  t.match(s, { state: 'BACKUP', version: 3, family: 6, masterIp: 'fe80::3' }, 'status names keepalived\'s link-local as master');
  t.ok((s.advertsReceived as number) >= 3, `adverts received: ${s.advertsReceived}`);
  t.same(s.drops, {}, 'nothing dropped');

  // The director forwards IPv6 (a router, as a NAT66 director is): its NAs must say so (R flag).
  execFileSync('ip', ['netns', 'exec', ulvsNs, 'sysctl', '-qw', 'net.ipv6.conf.eth0.forwarding=1']);
  t.teardown(() => execFileSync('ip', ['netns', 'exec', ulvsNs, 'sysctl', '-qw', 'net.ipv6.conf.eth0.forwarding=0']));
  const pcap = join(lab.dir, 'na.pcap');
  const capture = await startCapture(t, ulvsNs, pcap, 'icmp6');
  const killedAt = Date.now();
  killKeepalived(lab, 'ka-m');
  await waitForOrFail('ulvs to take the VIP', () => hasVip(ulvsNs, VIP6), mdi(100) + 10_000, 20);
  const gap = Date.now() - killedAt;
  t.ok(gap <= mdi(100) + MARGIN_MS, `ulvs took over ${gap} ms after kill -9 (master-down ${mdi(100)} ms + ${MARGIN_MS} ms margin)`);
  t.match(await speakerStatus(ulvs), { state: 'MASTER', masterIp: 'fe80::2', lastTransition: { from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired' } });
  t.match(addrLine(ulvsNs, VIP6), /nodad/, 'the VIP went on nodad');
  // Two NAs (garp_master_repeat 2), back to back: give tshark a moment to write them.
  await new Promise((r) => setTimeout(r, 1000));
  await capture.stop();
  const fields = execFileSync('tshark', ['-r', pcap, '-Y', 'icmpv6.type == 136', '-T', 'fields',
    '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.hlim', '-e', 'icmpv6.nd.na.flag.o', '-e', 'icmpv6.nd.na.target_address', '-e', 'icmpv6.nd.na.flag.r'],
  { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  t.ok(fields.length >= 2, `tshark saw ${fields.length} neighbour advertisements`);
  for (const f of fields) {
    t.match(f.slice(0, 3), [VIP6, 'ff02::1', '255'], 'from the VIP to all-nodes, hop limit 255');
    t.ok(['1', 'True', 'true'].includes(f[3]), `Override set (${f[3]})`);
    t.equal(f[4], VIP6, 'target: the VIP');
    t.ok(['1', 'True', 'true'].includes(f[5]), `Router set: eth0 forwards IPv6 (${f[5]})`);
  }
  const verbose = execFileSync('tshark', ['-r', pcap, '-Y', 'icmpv6.type == 136', '-V'], { encoding: 'utf8' });
  t.equal((verbose.match(/Checksum: 0x[0-9a-f]+ \[correct\]/g) ?? []).length, fields.length, 'every NA\'s checksum correct');
  t.notMatch(verbose, /\[incorrect|Checksum Status: Bad/i, 'no bad checksum');
});

t.test('vrrp_mcast_group6 on both sides: ulvs advertises to that group only and keepalived hears it', async (t) => {
  dropVip(ulvsNs);
  dropVip(kaNs);
  const group = 'ff02::1:12';
  const pcap = join(lab.dir, 'group6.pcap');
  const capture = await startCapture(t, kaNs, pcap, 'ip6 proto 112');
  const ulvs = startUlvs(lab, ulvsNs, 'ulvs-g', { ...ulvsConfig('MASTER', 200), vrrp_mcast_group6: group });
  t.teardown(() => { ulvs.kill('SIGKILL'); dropVip(ulvsNs); });
  await speakerStarted(ulvs);
  await waitForOrFail('ulvs to hold the VIP', () => hasVip(ulvsNs, VIP6), 15_000);
  const ka = startKeepalived(lab, kaNs, 'ka-g', kaConf('BACKUP', 100).replace('router_id ka6', `router_id ka6\n  vrrp_mcast_group6 ${group}`));
  t.teardown(() => { killKeepalived(lab, 'ka-g'); dropVip(kaNs); });
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  await waitForOrFail('keepalived to enter BACKUP', () => ka.output.some((l) => /VI6.*Entering BACKUP STATE/.test(l)), 30_000);
  // Kept: the window is under test (keepalived, listening on the group, would be MASTER by then without our adverts).
  await new Promise((r) => setTimeout(r, 2 * mdi(100)));
  t.notOk(ka.output.some((l) => /VI6.*Entering MASTER STATE/.test(l)), `keepalived stays BACKUP under our adverts to ${group}`);
  await capture.stop();
  const dsts = execFileSync('tshark', ['-r', pcap, '-Y', 'vrrp', '-T', 'fields', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'vrrp.prio'],
    { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  t.ok(dsts.length >= 3, `tshark saw ${dsts.length} adverts`);
  t.ok(dsts.every(([src, dst, prio]) => src === 'fe80::2' && dst === group && prio === '200'), `every one from fe80::2 to ${group}, priority 200 (${[...new Set(dsts.map((d) => d.join(' ')))].join('; ')})`);
});
