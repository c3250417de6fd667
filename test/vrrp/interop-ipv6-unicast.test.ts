// VRRPv3 over IPv6 by unicast (keepalived's unicast_src_ip/unicast_peer in an IPv6 instance),
// with keepalived 2.2.7 in both directions, in the dual-stack lab (prefix vsu-: dir1 runs ulvs
// from 2001:2::2, dir2 keepalived from 2001:2::3, each naming the other its one peer):
// - ulvs MASTER (200), keepalived BACKUP (100): keepalived stays BACKUP on our unicast adverts,
//   which tshark sees go from 2001:2::2 to 2001:2::3 only (hop limit 255, checksum correct,
//   nothing to ff02::12); kill -9 ulvs -> keepalived takes over after its master-down interval;
// - keepalived MASTER (150), ulvs BACKUP (100): ulvs stays BACKUP naming 2001:2::3 as master,
//   nothing dropped; kill -9 keepalived -> ulvs takes over within its master-down interval.
// A stranger's unicast advert (from the client node, not a peer) is dropped as unknown_peer.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import {
  createVrrpLab, dropAddress, hasVip, killKeepalived, masterDownMs1s as mdi, TAKEOVER_MARGIN_MS as MARGIN_MS, speakerStarted, speakerStatus, startCapture, startKeepalived, startUlvs, waitForOrFail,
} from './fixtures/lab.js';

const VIP6 = '2001:2::100';
const ULVS_IP = '2001:2::2';
const KA_IP = '2001:2::3';

const lab = await createVrrpLab('vsu-', 3);
t.teardown(() => lab.destroy());
const [clientNs, ulvsNs, kaNs] = lab.nodes;

const kaConf = (state: string, priority: number): string => `global_defs {
  router_id ka6u
}
vrrp_instance VU6 {
  state ${state}
  interface eth0
  virtual_router_id 61
  priority ${priority}
  advert_int 1
  unicast_src_ip ${KA_IP}
  unicast_peer {
    ${ULVS_IP}
  }
  virtual_ipaddress {
    ${VIP6}/64 dev eth0
  }
}
`;

const ulvsConfig = (state: 'MASTER' | 'BACKUP', priority: number): object => ({
  vrrp_instances: [{
    name: 'VU6', state, interface: 'eth0', virtual_router_id: 61, priority, advert_int: 1, version: 3,
    unicast_src_ip: ULVS_IP, unicast_peer: [KA_IP],
    virtual_ipaddress: [{ address: `${VIP6}/64` }], garp_master_delay: 0, garp_master_repeat: 1,
  }],
});

const dropVip = (ns: string): void => dropAddress(ns, `${VIP6}/64`);

/** One VRRPv3 advert for VRID 61 from the client node to ulvs (a stranger: not its peer). */
function strangerAdvert(): void {
  const script = [
    'import socket, struct',
    'def csum(b):',
    '    if len(b) % 2: b += b"\\0"',
    '    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))',
    '    while s >> 16: s = (s & 0xffff) + (s >> 16)',
    '    return ~s & 0xffff',
    `src, dst = socket.inet_pton(socket.AF_INET6, "2001:2::1"), socket.inet_pton(socket.AF_INET6, "${ULVS_IP}")`,
    `vip = socket.inet_pton(socket.AF_INET6, "${VIP6}")`,
    'body = struct.pack("!BBBBHH", 0x31, 61, 254, 1, 100, 0) + vip',
    'pseudo = src + dst + struct.pack("!I3xB", len(body), 112)',
    'body = body[:6] + struct.pack("!H", csum(pseudo + body)) + body[8:]',
    's = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)',
    's.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)',
    `s.sendto(body, ("${ULVS_IP}", 0))`,
  ].join('\n');
  execFileSync('ip', ['netns', 'exec', clientNs, 'python3', '-c', script]);
}

t.test('ulvs MASTER by unicast, keepalived BACKUP; kill -9 ulvs -> keepalived takes over', async (t) => {
  const pcap = join(lab.dir, 'unicast-m.pcap');
  const capture = await startCapture(t, kaNs, pcap, 'ip6 proto 112');
  const ulvs = startUlvs(lab, ulvsNs, 'ulvs-m', ulvsConfig('MASTER', 200));
  t.teardown(() => { ulvs.kill('SIGKILL'); dropVip(ulvsNs); });
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  await speakerStarted(ulvs);
  await waitForOrFail('ulvs to hold the VIP', () => hasVip(ulvsNs, VIP6), 15_000);
  const ka = startKeepalived(lab, kaNs, 'ka-b', kaConf('BACKUP', 100));
  t.teardown(() => { killKeepalived(lab, 'ka-b'); dropVip(kaNs); });
  await waitForOrFail('keepalived to enter BACKUP', () => ka.output.some((l) => /VU6.*Entering BACKUP STATE/.test(l)), 30_000);
  // Twice keepalived's master-down interval: without our adverts it would be MASTER by then.
  await new Promise((r) => setTimeout(r, 2 * mdi(100)));
  t.notOk(ka.output.some((l) => /VU6.*Entering MASTER STATE/.test(l)), 'keepalived stays BACKUP under our unicast VRRPv3/IPv6 adverts');
  t.notOk(hasVip(kaNs, VIP6), 'and does not hold the VIP');
  const s = await speakerStatus(ulvs);
  t.match(s, { state: 'MASTER', version: 3, family: 6, masterIp: ULVS_IP }, 'status: MASTER, our unicast source as master');

  strangerAdvert();
  await waitForOrFail('the stranger\'s advert to be counted', async () => ((await speakerStatus(ulvs)).drops as Record<string, number>).unknown_peer >= 1, 10_000, 200);
  t.equal((await speakerStatus(ulvs)).state, 'MASTER', 'a stranger\'s higher-priority advert changes nothing');

  await capture.stop();
  const fields = execFileSync('tshark', ['-r', pcap, '-Y', 'vrrp', '-T', 'fields', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ipv6.hlim',
    '-e', 'vrrp.version', '-e', 'vrrp.virt_rtr_id', '-e', 'vrrp.prio', '-e', 'vrrp.checksum.status'],
  { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  const ours = fields.filter((f) => f[0] === ULVS_IP);
  t.ok(ours.length >= 3, `tshark at keepalived saw ${ours.length} of our adverts`);
  for (const f of ours) t.match(f, [ULVS_IP, KA_IP, '255', '3', '61', '200', /^(1|Good)$/], 'to the peer, hop limit 255, v3, VRID 61, priority 200, checksum good');
  t.same(fields.filter((f) => f[1] === 'ff02::12'), [], 'nothing multicast to ff02::12');

  const killedAt = Date.now();
  ulvs.kill('SIGKILL');
  await waitForOrFail('keepalived to take over', () => hasVip(kaNs, VIP6), mdi(100) + 10_000, 20);
  const gap = Date.now() - killedAt;
  t.comment(`keepalived took over ${gap} ms after kill -9 of ulvs (master-down interval ${mdi(100)} ms)`);
  t.ok(gap <= mdi(100) + MARGIN_MS, `within the master-down interval + ${MARGIN_MS} ms`);
});

t.test('keepalived MASTER by unicast, ulvs BACKUP; kill -9 keepalived -> ulvs takes over', async (t) => {
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
  t.notOk(hasVip(ulvsNs, VIP6), 'ulvs stays BACKUP while keepalived advertises by unicast');
  const s = await speakerStatus(ulvs);
  t.match(s, { state: 'BACKUP', version: 3, family: 6, masterIp: KA_IP }, 'status names keepalived\'s unicast source as master');
  t.ok((s.advertsReceived as number) >= 3, `adverts received: ${s.advertsReceived}`);
  t.same(s.drops, {}, 'nothing dropped');

  const killedAt = Date.now();
  killKeepalived(lab, 'ka-m');
  await waitForOrFail('ulvs to take the VIP', () => hasVip(ulvsNs, VIP6), mdi(100) + 10_000, 20);
  const gap = Date.now() - killedAt;
  t.comment(`ulvs took over ${gap} ms after kill -9 of keepalived (master-down interval ${mdi(100)} ms)`);
  t.ok(gap >= mdi(100) - 1200, `not before the master-down interval less one advert interval (${gap} ms)`);
  t.ok(gap <= mdi(100) + MARGIN_MS, `within the master-down interval + ${MARGIN_MS} ms`);
  t.match(await speakerStatus(ulvs), { state: 'MASTER', masterIp: ULVS_IP, lastTransition: { from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired' } });
});
