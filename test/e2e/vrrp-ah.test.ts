// auth_type AH against keepalived 2.2.7 in both roles (VRRPv2, multicast): keepalived MASTER
// and ulvs BACKUP, ulvs accepts its AH adverts and stays BACKUP; kill -9 keepalived, ulvs takes
// the VIP; keepalived back at a lower priority accepts ulvs's AH adverts (it stays BACKUP, its
// log shows no ICV failure); a graceful ulvs stop (priority 0) hands the VIP to keepalived.
// tshark decodes what ulvs sent: IP protocol 51, AH next header 112, SPI = the source address,
// increasing sequence numbers. A ulvs with the wrong auth_pass counts auth_failure drops.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import {
  createVrrpLab, events, hasVip, keepalivedConf, keepalivedPids, startCapture, startKeepalived, startUlvs,
  waitForOrFail, type Runner,
} from '../vrrp/fixtures/lab.js';

const VIP = '198.18.0.100';
const PASS = 'ah-secret';

const lab = await createVrrpLab('vk1-', 2);
t.teardown(() => lab.destroy());
const [ulvsNs, kaNs] = lab.nodes;

/** keepalived's conf with the lab helper's PASS block turned into AH. */
function kaConf(state: 'MASTER' | 'BACKUP', priority: number): string {
  return keepalivedConf({ state, priority, pass: PASS }).replace('auth_type PASS', 'auth_type AH');
}

function ulvsConfig(pass: string): object {
  return {
    vrrp_instances: [{
      name: 'VI_1', state: 'BACKUP', interface: 'eth0', virtual_router_id: 51, priority: 100, advert_int: 1,
      authentication: { auth_type: 'AH', auth_pass: pass },
      virtual_ipaddress: [{ address: `${VIP}/32` }], garp_master_delay: 0, garp_master_repeat: 1,
    }],
  };
}

async function started(r: Runner): Promise<void> {
  await waitForOrFail('ulvs to start', () => events(r).some((e) => e.event === 'started' || e.event === 'error'), 90000);
  const failed = events(r).find((e) => e.event === 'error');
  if (failed) throw new Error(`ulvs did not start: ${String(failed.message)}`);
}

async function status(r: Runner): Promise<Record<string, unknown>> {
  const before = events(r).length;
  r.kill('SIGUSR1');
  await waitForOrFail('status', () => events(r).slice(before).some((e) => e.event === 'status'), 5000);
  return (events(r).slice(before).find((e) => e.event === 'status') as { status: Record<string, unknown>[] }).status[0];
}

function killKeepalived(name: string): void {
  for (const pid of keepalivedPids(lab, name).reverse()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

t.test('auth_type AH interoperates with keepalived', async (t) => {
  const ka1 = startKeepalived(lab, kaNs, 'ka1', kaConf('MASTER', 150));
  t.teardown(() => killKeepalived('ka1'));
  await waitForOrFail('keepalived to hold the VIP', () => hasVip(kaNs, VIP), 10000);

  const ulvs = startUlvs(lab, ulvsNs, 'ulvs', ulvsConfig(PASS));
  t.teardown(() => ulvs.kill('SIGKILL'));
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output.slice(-40), 'keepalived:', ...ka1.output.slice(-40)].join('\n')); });
  await started(ulvs);
  await waitForOrFail('ulvs to take 3 AH adverts', async () => ((await status(ulvs)).advertsReceived as number) >= 3, 15000, 300);
  const s = await status(ulvs);
  t.match(s, { state: 'BACKUP', masterIp: lab.ips[1] }, 'ulvs is BACKUP behind the AH master');
  t.same(s.drops, {}, 'no AH advert dropped');
  t.notOk(hasVip(ulvsNs, VIP), 'ulvs does not hold the VIP');

  // What ulvs sends as MASTER, decoded by tshark.
  const pcap = join(lab.dir, 'ah.pcap');
  const capture = await startCapture(t, kaNs, pcap, `ip proto 51 and src host ${lab.ips[0]}`);
  killKeepalived('ka1');
  await waitForOrFail('ulvs to take the VIP', () => hasVip(ulvsNs, VIP), 10000, 20);
  execFileSync('ip', ['-n', kaNs, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);

  // keepalived back as a lower-priority BACKUP: it takes ulvs's AH adverts, so it never becomes MASTER.
  const ka2 = startKeepalived(lab, kaNs, 'ka2', kaConf('BACKUP', 50));
  t.teardown(() => killKeepalived('ka2'));
  await waitForOrFail('keepalived to enter BACKUP', () => ka2.output.some((l) => /Entering BACKUP STATE/.test(l)), 10000);
  // Kept: the window is under test (keepalived's master-down interval is about 3.8 s).
  await new Promise((r) => setTimeout(r, 5000));
  t.notOk(hasVip(kaNs, VIP), 'keepalived stays BACKUP: it accepts ulvs AH adverts');
  t.notOk(ka2.output.some((l) => /IPSEC-AH : invalid|already processed|Entering MASTER/.test(l)), 'keepalived logs no AH failure');
  t.ok(hasVip(ulvsNs, VIP), 'ulvs keeps the VIP');
  await capture.stop();
  const lines = execFileSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'ip.src', '-e', 'ah.spi', '-e', 'ah.sequence', '-e', 'vrrp.auth_type', '-e', 'vrrp.prio'], { encoding: 'utf8' })
    .trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  t.ok(lines.length >= 4, `tshark decoded ${lines.length} AH adverts from ulvs`);
  const spiOf = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  t.ok(lines.every(([src, spi]) => src === lab.ips[0] && Number(spi) === spiOf(src)), 'SPI is the source address');
  const seqs = lines.map((l) => Number(l[2]));
  t.ok(seqs.every((n, i) => i === 0 || n > seqs[i - 1]), `sequence numbers increase: ${seqs.slice(0, 6).join(',')}...`);
  t.ok(lines.every((l) => l[3] === '2' && l[4] === '100'), 'VRRP auth type 2 (AH), priority 100');

  // Graceful stop: the priority-0 AH advert makes keepalived take over at once.
  const stopAt = Date.now();
  ulvs.kill('SIGTERM');
  await waitForOrFail('keepalived to take the VIP', () => hasVip(kaNs, VIP), 5000, 20);
  t.comment(`measured: keepalived took over ${Date.now() - stopAt} ms after ulvs's priority-0 AH advert`);
  t.ok(Date.now() - stopAt < 3500, 'handover inside keepalived\'s master-down interval (3.8 s)');
});

t.test('a wrong auth_pass fails the AH ICV', async (t) => {
  const ka = startKeepalived(lab, kaNs, 'ka3', kaConf('MASTER', 150));
  t.teardown(() => killKeepalived('ka3'));
  await waitForOrFail('keepalived to hold the VIP', () => hasVip(kaNs, VIP), 10000);
  const ulvs = startUlvs(lab, ulvsNs, 'ulvs-wrong', ulvsConfig('wrong'));
  t.teardown(() => ulvs.kill('SIGKILL'));
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output.slice(-30), 'keepalived:', ...ka.output.slice(-30)].join('\n')); });
  await started(ulvs);
  await waitForOrFail('auth_failure drops', async () => (((await status(ulvs)).drops as Record<string, number>).auth_failure ?? 0) >= 2, 15000, 300);
  t.equal((await status(ulvs)).advertsReceived, 0, 'no advert with a bad ICV is taken');
  await waitForOrFail('keepalived to log the bad ICV', () => ka.output.some((l) => /IPSEC-AH : invalid/.test(l)), 15000);
  t.pass('keepalived refuses the ICV made with the wrong key');
});
