// ulvs MASTER with keepalived 2.2.7 BACKUP (VRRPv2, PASS auth, multicast), in namespaces:
// the VIP is held by exactly one side; tshark decodes ulvs's adverts and GARPs;
// kill -9 ulvs -> keepalived takes over within the master-down interval; ulvs comes back
// with the higher priority and preempts; graceful stop hands over within one interval.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { createVrrpLab, events, hasVip, keepalivedConf, startCapture, startKeepalived, startUlvs, waitForOrFail, addrLine } from './fixtures/lab.js';
import type { VrrpConfig } from '../../src/vrrp/config.js';

const VIP = '198.18.0.100';
// v2, advert_int 1, keepalived BACKUP priority 100: 3 s + (256-100)/256 s.
const BACKUP_MDI_MS = 3000 + (156 / 256) * 1000;

const lab = await createVrrpLab('tvrm-', 2);
t.teardown(() => lab.destroy());
const [ulvsNs, kaNs] = lab.nodes;

const ulvsConfig = (priority: number): VrrpConfig => ({
  vrrp_instances: [{
    name: 'VI_1', state: 'MASTER', interface: 'eth0', virtual_router_id: 51, priority, advert_int: 1,
    authentication: { auth_type: 'PASS', auth_pass: '1111' },
    virtual_ipaddress: [{ address: `${VIP}/32`, dev: 'eth0', label: 'eth0:0' }],
    garp_master_delay: 1, garp_master_repeat: 2,
    notify: `echo >>${join(lab.dir, 'notify.log')}`,
  }],
});

t.test('ulvs MASTER, keepalived BACKUP', async (t) => {
  // Capture on the keepalived side to check what ulvs puts on the wire.
  const pcap = join(lab.dir, 'ulvs.pcap');
  const capture = await startCapture(t, kaNs, pcap, 'vrrp or arp');

  let ulvs = startUlvs(lab, ulvsNs, 'ulvs1', ulvsConfig(150));
  t.teardown(() => ulvs.kill('SIGKILL'));
  // The child compiles TypeScript on start: allow for it before timing anything.
  await waitForOrFail('ulvs to start', () => events(ulvs).some((e) => e.event === 'started' || e.event === 'error'), 30000);
  await waitForOrFail('ulvs to hold the VIP', () => hasVip(ulvsNs, VIP), 3000);
  // keepalived joins an existing ulvs master, as a BACKUP restarting next to it would.
  const ka = startKeepalived(lab, kaNs, 'ka', keepalivedConf({ state: 'BACKUP', priority: 100 }));
  t.teardown(() => ka.kill('SIGKILL'));
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  t.match(addrLine(ulvsNs, VIP), /eth0:0/, 'VIP added with its label');
  await waitForOrFail('onOwnership([VIP])', () => events(ulvs).some((e) => e.event === 'ownership' && JSON.stringify(e.vips) === JSON.stringify([VIP])), 2000);
  // Give keepalived a few adverts; it must stay BACKUP (the window itself is under test).
  await new Promise((r) => setTimeout(r, 4500));
  t.notOk(hasVip(kaNs, VIP), 'keepalived stays BACKUP while ulvs advertises');
  t.notOk(ka.output.some((l) => /Entering MASTER/.test(l)), 'keepalived never became MASTER');

  // What ulvs sent, decoded by tshark.
  await capture.stop();
  const fields = execFileSync('tshark', ['-r', pcap, '-Y', `ip.src == ${lab.ips[0]} && vrrp`, '-T', 'fields',
    '-e', 'ip.ttl', '-e', 'vrrp.version', '-e', 'vrrp.type', '-e', 'vrrp.virt_rtr_id', '-e', 'vrrp.prio',
    '-e', 'vrrp.auth_type', '-e', 'vrrp.checksum.status', '-e', 'vrrp.ip_addr', '-e', 'ip.dst'],
  { encoding: 'utf8' }).trim().split('\n');
  t.ok(fields.length >= 3, `tshark saw ulvs adverts (${fields.length})`);
  t.comment(fields[0]);
  t.same(fields[0].split('\t'), ['255', '2', '1', '51', '150', '1', '1', VIP, '224.0.0.18'],
    'TTL 255, v2 advertisement, VRID 51, priority 150, simple auth, checksum good (status 1), VIP, group');
  const garps = execFileSync('tshark', ['-r', pcap, '-Y', `arp.isgratuitous == 1 && arp.src.proto_ipv4 == ${VIP}`, '-T', 'fields',
    '-e', 'eth.dst', '-e', 'arp.opcode'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  t.ok(garps.length >= 2, `tshark sees gratuitous ARPs for the VIP (${garps.length})`);
  t.same(garps[0].split('\t'), ['ff:ff:ff:ff:ff:ff', '1']);

  // kill -9: no priority-0 advert, keepalived must wait out its master-down interval.
  const killedAt = Date.now();
  ulvs.kill('SIGKILL');
  await ulvs.exited;
  const tookMs = await waitForOrFail('keepalived to take the VIP', () => hasVip(kaNs, VIP), BACKUP_MDI_MS + 2000, 10);
  const gap = Date.now() - killedAt;
  // Upper bound: master-down + up to one interval since the last advert, plus a margin for a busy
  // machine; lower bound: keepalived did wait out its interval (the kill came at most 1 s after an advert).
  t.ok(gap >= BACKUP_MDI_MS - 1000 - 200, `keepalived waited out its master-down interval (${gap} ms)`);
  t.ok(gap <= BACKUP_MDI_MS + 1000 + 700, `keepalived took over ${gap} ms after kill -9 (master-down ${BACKUP_MDI_MS.toFixed(0)} ms + up to one advert interval since the last advert)`);
  t.ok(tookMs >= 0);
  // The VIP stays on ulvs's side too (killed without cleanup), as keepalived's would: remove it.
  execFileSync('ip', ['-n', ulvsNs, 'addr', 'flush', 'dev', 'eth0', 'label', 'eth0:0']);

  // ulvs back with the higher priority: preempts keepalived.
  ulvs = startUlvs(lab, ulvsNs, 'ulvs2', ulvsConfig(150));
  await waitForOrFail('ulvs to start', () => events(ulvs).some((e) => e.event === 'started' || e.event === 'error'), 30000);
  await waitForOrFail('ulvs to preempt', () => hasVip(ulvsNs, VIP), 3000);
  await waitForOrFail('keepalived to release the VIP', () => !hasVip(kaNs, VIP), 3000);
  t.pass('ulvs preempted keepalived');

  // Graceful stop: priority-0 advert, keepalived takes over after its skew time (< 1 interval).
  // Kept: a steady interval as BACKUP first, so the handover below starts from one.
  await new Promise((r) => setTimeout(r, 1500));
  const stopAt = Date.now();
  ulvs.kill('SIGTERM');
  await waitForOrFail('keepalived to take over after the priority-0 advert', () => hasVip(kaNs, VIP), 3000, 10);
  const handover = Date.now() - stopAt;
  // Priority 0: keepalived waits its skew time (0.61 s), not the master-down interval (3.6 s); the
  // bound sits between the two with room for ulvs's own shutdown on a busy machine.
  t.ok(handover < 2000, `graceful handover in ${handover} ms (skew time, not the master-down interval)`);
  t.equal(await ulvs.exited, 0, 'ulvs exits 0 after SIGTERM');
  t.notOk(hasVip(ulvsNs, VIP), 'ulvs removed its VIP on stop');
  const stopped = events(ulvs).find((e) => e.event === 'stopped') as { status: Array<{ state: string }> } | undefined;
  t.equal(stopped?.status[0].state, 'INIT');
  const notify = execFileSync('cat', [join(lab.dir, 'notify.log')], { encoding: 'utf8' });
  t.match(notify, /INSTANCE VI_1 MASTER 150/, 'notify called with TYPE NAME STATE PRIORITY');
  t.match(notify, /INSTANCE VI_1 STOP 150/);
  t.comment(`measured: kill -9 failover ${gap} ms, graceful handover ${handover} ms`);
});
