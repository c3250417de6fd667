// keepalived 2.2.7 MASTER with ulvs BACKUP (VRRPv2, PASS, multicast): ulvs stays BACKUP and
// knows the master; kill -9 keepalived -> ulvs takes the VIP within its master-down interval;
// keepalived back with preempt takes it again; graceful stop hands over within one interval;
// keepalived with nopreempt does not take it back.
import t from 'tap';
import { execFileSync } from 'node:child_process';

import {
  createVrrpLab, events, hasVip, keepalivedConf, keepalivedPids, startKeepalived, startUlvs, waitForOrFail, type Runner,
} from './fixtures/lab.js';

const VIP = '198.18.0.100';
const ULVS_MDI_MS = 3000 + (156 / 256) * 1000;

const lab = await createVrrpLab('tvrk-', 2);
t.teardown(() => lab.destroy());
const [ulvsNs, kaNs] = lab.nodes;

async function started(r: Runner): Promise<void> {
  await waitForOrFail('ulvs to start', () => events(r).some((e) => e.event === 'started' || e.event === 'error'), 30000);
}

async function status(r: Runner): Promise<Record<string, unknown>> {
  const before = events(r).length;
  r.kill('SIGUSR1');
  await waitForOrFail('status', () => events(r).slice(before).some((e) => e.event === 'status'), 2000);
  return (events(r).slice(before).find((e) => e.event === 'status') as { status: Record<string, unknown>[] }).status[0];
}

function killKeepalived(name: string): void {
  // The VRRP child first, so no priority-0 advert escapes (a crash, not a stop).
  for (const pid of keepalivedPids(lab, name).reverse()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

t.test('keepalived MASTER, ulvs BACKUP', async (t) => {
  let ka = startKeepalived(lab, kaNs, 'ka1', keepalivedConf({ state: 'MASTER', priority: 150 }));
  t.teardown(() => killKeepalived('ka1'));
  await waitForOrFail('keepalived to hold the VIP', () => hasVip(kaNs, VIP), 8000);

  const ulvs = startUlvs(lab, ulvsNs, 'ulvs', {
    vrrp_instances: [{
      name: 'VI_1', state: 'BACKUP', interface: 'eth0', virtual_router_id: 51, priority: 100, advert_int: 1,
      authentication: { auth_type: 'PASS', auth_pass: '1111' },
      virtual_ipaddress: [{ address: `${VIP}/32` }], garp_master_delay: 0, garp_master_repeat: 1,
    }],
  });
  t.teardown(() => ulvs.kill('SIGKILL'));
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  await started(ulvs);
  // Kept: the window is under test (ulvs stays BACKUP for more than its master-down interval).
  await new Promise((r) => setTimeout(r, 4500));
  t.notOk(hasVip(ulvsNs, VIP), 'ulvs stays BACKUP while keepalived advertises');
  const s = await status(ulvs);
  t.match(s, { state: 'BACKUP', priority: 100, configuredPriority: 100, masterIp: lab.ips[1] }, 'status names the master');
  t.ok((s.advertsReceived as number) >= 3, `adverts received: ${s.advertsReceived}`);

  const killedAt = Date.now();
  killKeepalived('ka1');
  await waitForOrFail('ulvs to take the VIP', () => hasVip(ulvsNs, VIP), ULVS_MDI_MS + 2000, 10);
  const gap = Date.now() - killedAt;
  // The master-down interval runs from the last advert, up to one interval (1 s) before the kill.
  // Below: it waited out the interval; above: within it, with a margin for a busy machine (the
  // `ip` polls that observe the VIP), still short of a second missed interval.
  t.ok(gap >= ULVS_MDI_MS - 1000 - 200, `ulvs waited out its master-down interval (${gap} ms >= ${(ULVS_MDI_MS - 1200).toFixed(0)})`);
  t.ok(gap <= ULVS_MDI_MS + 700, `ulvs took over ${gap} ms after kill -9 (master-down ${ULVS_MDI_MS.toFixed(0)} ms)`);
  const after = await status(ulvs);
  t.match(after, { state: 'MASTER', lastTransition: { from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired' } });
  execFileSync('ip', ['-n', kaNs, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);

  // keepalived back, higher priority, preempt (default): takes the VIP back.
  ka = startKeepalived(lab, kaNs, 'ka2', keepalivedConf({ state: 'BACKUP', priority: 150 }));
  t.teardown(() => killKeepalived('ka2'));
  await waitForOrFail('keepalived to preempt', () => hasVip(kaNs, VIP), 8000);
  await waitForOrFail('ulvs to drop the VIP', () => !hasVip(ulvsNs, VIP), 2000);
  t.match(await status(ulvs), { state: 'BACKUP', lastTransition: { reason: /higher priority advert from 198\.18\.0\.2 \(priority 150\)/ } });

  // Graceful stop of keepalived: priority 0, ulvs takes over after its skew time.
  // Kept: a steady interval as BACKUP first, so the handover below starts from one.
  await new Promise((r) => setTimeout(r, 1500));
  const stopAt = Date.now();
  for (const pid of keepalivedPids(lab, 'ka2').slice(0, 1)) process.kill(pid, 'SIGTERM');
  await waitForOrFail('ulvs to take over after priority 0', () => hasVip(ulvsNs, VIP), 3000, 10);
  const handover = Date.now() - stopAt;
  // Priority 0 makes ulvs wait only its skew time (0.61 s); had it missed that advert it would wait
  // the whole master-down interval (3.6 s). The bound sits between the two, with room for a busy machine.
  t.ok(handover < 2000, `graceful handover in ${handover} ms (skew time ${(156 / 256 * 1000).toFixed(0)} ms, not the master-down interval)`);
  await waitForOrFail('keepalived to remove its VIP', () => !hasVip(kaNs, VIP), 3000);

  // keepalived with nopreempt: higher priority, but leaves ulvs as MASTER.
  ka = startKeepalived(lab, kaNs, 'ka3', keepalivedConf({ state: 'BACKUP', priority: 150, nopreempt: true }));
  t.teardown(() => killKeepalived('ka3'));
  // Kept: the window is under test (a nopreempt keepalived never takes the VIP).
  await new Promise((r) => setTimeout(r, 6000));
  t.ok(hasVip(ulvsNs, VIP), 'ulvs keeps the VIP');
  t.notOk(hasVip(kaNs, VIP), 'nopreempt keepalived does not take it');
  t.comment(`measured: kill -9 failover ${gap} ms, graceful handover ${handover} ms`);
});
