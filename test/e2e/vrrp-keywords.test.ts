// The VRRP keywords on the wire and on the interface (issue 12), one ulvs speaker in its own lab:
// - the GARP schedule, decoded by tshark on the neighbour: garp_master_repeat rounds over the
//   VIPs and virtual_ipaddress_excluded, again after garp_master_delay, then
//   garp_master_refresh_repeat rounds after garp_master_refresh; vrrp_garp_interval spaces them;
// - virtual_ipaddress_excluded is on the interface but absent from the captured adverts;
// - brd, scope, label and peer of an address as `ip addr` shows them (a scope other than the
//   primary's is refused by the kernel for an address in its subnet, so the VIP has its own);
// - dont_track_primary: with eth0 down the instance that has it stays MASTER while the other
//   goes FAULT;
// - a sync group's notify_stop (and its notify with GROUP NAME STOP 0) runs on shutdown.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { addrLine, createVrrpLab, events, hasVip, startCapture, startUlvs, waitForOrFail, type Runner } from '../vrrp/fixtures/lab.js';

const VIP = '198.19.0.100';
const PTP = '198.18.0.101';
const PTP_PEER = '198.18.0.201';
const EXCLUDED = '198.18.0.150';
const VIP2 = '198.18.0.110';
const INTERVAL_MS = 100;

const lab = await createVrrpLab('vk2-', 2);
t.teardown(() => lab.destroy());
const [ulvsNs, peerNs] = lab.nodes;
const notifyLog = join(lab.dir, 'notify.log');

function tshark(pcap: string, fields: string[], filter?: string): string[][] {
  const args = ['-r', pcap, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])];
  if (filter) args.push('-Y', filter);
  return execFileSync('tshark', args, { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
}

function transitions(r: Runner, instance: string): string[] {
  return events(r).filter((e) => e.event === 'transition' && e.instance === instance).map((e) => String(e.to));
}

t.test('GARPs, excluded VIPs, address options, dont_track_primary, sync group notify_stop', async (t) => {
  const pcap = join(lab.dir, 'keywords.pcap');
  const capture = await startCapture(t, peerNs, pcap, 'arp or ip proto 112');
  const ulvs = startUlvs(lab, ulvsNs, 'ulvs', {
    vrrp_garp_interval: INTERVAL_MS / 1000,
    vrrp_instances: [{
      name: 'VI_1', state: 'MASTER', interface: 'eth0', virtual_router_id: 61, priority: 150, advert_int: 1,
      dont_track_primary: true,
      virtual_ipaddress: [
        { address: `${VIP}/24`, brd: '198.19.0.255', scope: 'site', label: 'eth0:vk' },
        { address: `${PTP}/32`, peer: PTP_PEER },
      ],
      virtual_ipaddress_excluded: [{ address: `${EXCLUDED}/32` }],
      garp_master_delay: 1.5, garp_master_repeat: 2, garp_master_refresh: 2, garp_master_refresh_repeat: 2,
    }, {
      name: 'VI_2', state: 'MASTER', interface: 'eth0', virtual_router_id: 62, priority: 150, advert_int: 1,
      virtual_ipaddress: [{ address: `${VIP2}/32` }], garp_master_delay: 0, garp_master_repeat: 1,
    }],
    vrrp_sync_groups: [{ name: 'VG_2', group: ['VI_2'], notify_stop: `echo group-stop >> ${notifyLog}`, notify: `echo >> ${notifyLog}` }],
  });
  t.teardown(() => ulvs.kill('SIGKILL'));
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output.slice(-40)].join('\n')); });
  await waitForOrFail('VI_1 to become MASTER', () => transitions(ulvs, 'VI_1').includes('MASTER'), 90000, 50);
  await waitForOrFail('the VIPs on eth0', () => hasVip(ulvsNs, VIP) && hasVip(ulvsNs, EXCLUDED), 5000);

  // ip addr: what keepalived's address options become.
  t.match(addrLine(ulvsNs, VIP), /inet 198\.19\.0\.100\/24 brd 198\.19\.0\.255 scope site .*eth0:vk/, 'brd, scope and label applied');
  const ptp = execFileSync('ip', ['-n', ulvsNs, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' });
  t.match(ptp, /inet 198\.18\.0\.101 peer 198\.18\.0\.201\/32/, 'peer applied');
  t.ok(hasVip(ulvsNs, EXCLUDED), 'the excluded VIP is on the interface');

  // The schedule: first GARP + 1.5 s (second burst) + 2 s (first refresh) + margin.
  await waitForOrFail('the first refresh of VI_1', () => {
    try {
      const times = tshark(pcap, ['frame.time_epoch'], `arp.src.proto_ipv4 == ${EXCLUDED}`).map((l) => Number(l[0]));
      return times.length >= 6 && times[times.length - 1] - times[0] >= 3.4;
    } catch { return false; }
  }, 20000, 250);
  await capture.stop();

  const garps = tshark(pcap, ['frame.time_epoch', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'arp.opcode'], 'arp')
    .filter((l) => [VIP, PTP, EXCLUDED].includes(l[1]));
  t.ok(garps.every((l) => l[1] === l[2] && l[3] === '1'), 'gratuitous: ARP requests whose sender and target are the VIP');
  const times = garps.map((l) => Number(l[0]));
  // Bursts are told apart by a quiet spell of more than 4 intervals.
  const clusters: { start: number; addresses: string[] }[] = [];
  garps.forEach((l, i) => {
    if (i === 0 || times[i] - times[i - 1] > (4 * INTERVAL_MS) / 1000) clusters.push({ start: times[i], addresses: [] });
    clusters[clusters.length - 1].addresses.push(l[1]);
  });
  t.ok(clusters.length >= 3, `${clusters.length} bursts of GARPs`);
  const expected = [VIP, PTP, EXCLUDED, VIP, PTP, EXCLUDED];
  t.same(clusters[0]?.addresses, expected, 'first burst: garp_master_repeat 2 rounds over VIPs and the excluded VIP');
  t.same(clusters[1]?.addresses, expected, 'second burst after garp_master_delay');
  t.same(clusters[2]?.addresses, expected, 'refresh: garp_master_refresh_repeat 2 rounds');
  const second = clusters[1].start - clusters[0].start;
  const refresh = clusters[2].start - clusters[0].start;
  t.ok(second >= 1.4 && second < 3, `second burst ${second.toFixed(3)} s after the first (garp_master_delay 1.5)`);
  t.ok(refresh >= 3.4 && refresh < 6, `first refresh ${refresh.toFixed(3)} s after the first (delay 1.5 + refresh 2)`);
  const gaps = times.slice(1).map((x, i) => x - times[i]).filter((g) => g < (4 * INTERVAL_MS) / 1000);
  const minGap = Math.min(...gaps);
  t.ok(minGap >= (INTERVAL_MS * 0.8) / 1000, `GARPs at least vrrp_garp_interval apart (smallest gap ${(minGap * 1000).toFixed(1)} ms, interval ${INTERVAL_MS} ms)`);
  t.comment(`measured: bursts at +0, +${second.toFixed(3)} s, +${refresh.toFixed(3)} s; smallest GARP gap ${(minGap * 1000).toFixed(1)} ms (machine loaded)`);

  // Adverts carry the VIPs, never the excluded one.
  const adverts = tshark(pcap, ['vrrp.ip_addr', 'vrrp.addr_count'], 'vrrp.virt_rtr_id == 61');
  t.ok(adverts.length >= 2, `${adverts.length} adverts of VI_1 captured`);
  t.ok(adverts.every((l) => l[1] === '2' && l[0].split(',').sort().join() === [VIP, PTP].sort().join()), 'each advert lists the two VIPs');
  t.notOk(adverts.some((l) => l[0].includes(EXCLUDED)), 'the excluded VIP is never advertised');

  // dont_track_primary: eth0 down puts VI_2 in FAULT, VI_1 stays MASTER.
  execFileSync('ip', ['-n', ulvsNs, 'link', 'set', 'eth0', 'down']);
  t.teardown(() => { try { execFileSync('ip', ['-n', ulvsNs, 'link', 'set', 'eth0', 'up']); } catch { /* lab gone */ } });
  await waitForOrFail('VI_2 to enter FAULT', () => transitions(ulvs, 'VI_2').includes('FAULT'), 10000, 50);
  // Kept: the window is under test (several 200 ms link polls after VI_2's fault).
  await new Promise((r) => setTimeout(r, 1500));
  t.notOk(transitions(ulvs, 'VI_1').includes('FAULT'), 'VI_1 (dont_track_primary) does not enter FAULT');
  t.equal(transitions(ulvs, 'VI_1').at(-1), 'MASTER', 'VI_1 is still MASTER');
  execFileSync('ip', ['-n', ulvsNs, 'link', 'set', 'eth0', 'up']);

  // Shutdown: the sync group's notify_stop, then its notify GROUP VG_2 STOP 0.
  ulvs.kill('SIGTERM');
  await ulvs.exited;
  await waitForOrFail('the group notify scripts', () => {
    try { return /GROUP VG_2 STOP 0/.test(readFileSync(notifyLog, 'utf8')) && /group-stop/.test(readFileSync(notifyLog, 'utf8')); } catch { return false; }
  }, 5000);
  const log = readFileSync(notifyLog, 'utf8');
  t.match(log, /group-stop/, 'notify_stop of the sync group ran');
  t.match(log, /GROUP VG_2 STOP 0/, 'notify of the sync group got GROUP VG_2 STOP 0');
});
