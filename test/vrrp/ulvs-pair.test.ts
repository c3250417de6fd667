// ulvs <-> ulvs in namespaces: seed 003's double master (two instances, each side MASTER
// of one), a track_script failure lowering priority and handing a VIP over, a sync group
// moving together, preempt_delay holding, and a bad password dropped and counted.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { createVrrpLab, events, hasVip, startUlvs, waitForOrFail, type Runner } from './fixtures/lab.js';
import type { VrrpConfig, VrrpInstanceConfig } from '../../src/vrrp/config.js';

const lab = await createVrrpLab('tvrp-', 2);
t.teardown(() => lab.destroy());
const [nsA, nsB] = lab.nodes;
// Each subtest has its own VIPs: a process killed with -9 leaves its addresses behind.
const VIP1 = '198.18.0.107';
const VIP2 = '198.18.0.177';
const SYNC1 = '198.18.0.108';
const SYNC2 = '198.18.0.178';
const DELAY = '198.18.0.109';

async function started(...rs: Runner[]): Promise<void> {
  for (const r of rs) await waitForOrFail('ulvs to start', () => events(r).some((e) => e.event === 'started' || e.event === 'error'), 30000);
}

function instance(name: string, vrid: number, state: 'MASTER' | 'BACKUP', priority: number, vip: string, extra: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig {
  return {
    name, state, interface: 'eth0', virtual_router_id: vrid, priority, advert_int: 1,
    authentication: { auth_type: 'PASS', auth_pass: 'frSAmesXYSSFmw' },
    virtual_ipaddress: [{ address: `${vip}/32`, dev: 'eth0', label: `eth0:${vrid % 10}` }],
    garp_master_delay: 0, garp_master_repeat: 1, ...extra,
  };
}

function dumpOnFail(t: Tap.Test, ...rs: Runner[]): void {
  t.teardown(() => { if (!t.passing()) t.comment(rs.map((r, i) => [`runner ${i}:`, ...r.output].join('\n')).join('\n')); });
}

t.test('double master with track_script (seed 003)', async (t) => {
  const down = join(lab.dir, 'down');
  const scripts = { chk_down: { script: `[ -f ${down} ] && exit 1 || exit 0`, interval: 0.2, weight: -5, rise: 1, fall: 1 } };
  const cfgA: VrrpConfig = { vrrp_scripts: scripts, vrrp_instances: [
    instance('VI_1', 151, 'MASTER', 100, VIP1, { track_script: ['chk_down'] }),
    instance('VI_2', 152, 'BACKUP', 98, VIP2, { track_script: ['chk_down'] }),
  ] };
  const cfgB: VrrpConfig = { vrrp_scripts: scripts, vrrp_instances: [
    instance('VI_1', 151, 'BACKUP', 98, VIP1),
    instance('VI_2', 152, 'MASTER', 100, VIP2),
  ] };
  const a = startUlvs(lab, nsA, 'a', cfgA);
  const b = startUlvs(lab, nsB, 'b', cfgB);
  t.teardown(() => { a.kill('SIGKILL'); b.kill('SIGKILL'); });
  dumpOnFail(t, a, b);
  await started(a, b);
  await waitForOrFail('A holds VIP1, B holds VIP2', () => hasVip(nsA, VIP1) && hasVip(nsB, VIP2), 6000);
  // Kept: the window is under test (each side stays MASTER of its own instance only).
  await new Promise((r) => setTimeout(r, 2500));
  t.ok(hasVip(nsA, VIP1) && !hasVip(nsA, VIP2), 'A: MASTER of VI_1 only');
  t.ok(hasVip(nsB, VIP2) && !hasVip(nsB, VIP1), 'B: MASTER of VI_2 only');

  // chk_down fails on A: 100 - 5 = 95 < 98, B preempts VI_1.
  writeFileSync(down, '');
  const at = Date.now();
  await waitForOrFail('B to take VIP1', () => hasVip(nsB, VIP1) && !hasVip(nsA, VIP1), 6000);
  // B ignores the lower-priority adverts (RFC 3768 6.4.2, preempt) and takes over when its
  // master-down timer expires: script interval + up to 3.6 s.
  t.ok(Date.now() - at < 4500, `handed over ${Date.now() - at} ms after the script failed`);
  // Back: A has 100 again and preempts.
  rmSync(down);
  await waitForOrFail('A to take VIP1 back', () => hasVip(nsA, VIP1) && !hasVip(nsB, VIP1), 8000);
  t.ok(hasVip(nsB, VIP2), 'VI_2 never moved');
});

t.test('sync group: a fault in one member moves both; preempt_delay holds', async (t) => {
  const flag = join(lab.dir, 'fault');
  writeFileSync(flag, '0\n');
  const cfgA: VrrpConfig = {
    vrrp_instances: [
      instance('VI_1', 61, 'MASTER', 100, SYNC1, { track_file: [{ name: 'f', file: flag, weight: 0 }] }),
      instance('VI_2', 62, 'MASTER', 100, SYNC2),
    ],
    vrrp_sync_groups: [{ name: 'VG_1', group: ['VI_1', 'VI_2'], notify: `echo >>${join(lab.dir, 'group.log')}` }],
  };
  const cfgB: VrrpConfig = {
    vrrp_instances: [instance('VI_1', 61, 'BACKUP', 90, SYNC1), instance('VI_2', 62, 'BACKUP', 90, SYNC2)],
    vrrp_sync_groups: [{ name: 'VG_1', group: ['VI_1', 'VI_2'] }],
  };
  const a = startUlvs(lab, nsA, 'sa', cfgA);
  const b = startUlvs(lab, nsB, 'sb', cfgB);
  t.teardown(() => { a.kill('SIGKILL'); b.kill('SIGKILL'); });
  dumpOnFail(t, a, b);
  await started(a, b);
  await waitForOrFail('A holds both', () => hasVip(nsA, SYNC1) && hasVip(nsA, SYNC2), 6000);
  // Kept: the window is under test (B stays BACKUP of both).
  await new Promise((r) => setTimeout(r, 2000));
  t.ok(!hasVip(nsB, SYNC1) && !hasVip(nsB, SYNC2), 'B holds neither');

  writeFileSync(flag, '1\n');
  await waitForOrFail('B to take both VIPs', () => hasVip(nsB, SYNC1) && hasVip(nsB, SYNC2), 3000, 10);
  t.ok(!hasVip(nsA, SYNC1) && !hasVip(nsA, SYNC2), 'A released both (VI_2 followed VI_1 into FAULT)');
  const faults = events(a).filter((e) => e.event === 'transition' && e.to === 'FAULT').map((e) => e.instance);
  t.same(faults.sort(), ['VI_1', 'VI_2']);
  t.match(events(a).find((e) => e.event === 'transition' && e.instance === 'VI_2' && e.to === 'FAULT'), { reason: /sync group VG_1/ });

  writeFileSync(flag, '0\n');
  await waitForOrFail('A to take both back', () => hasVip(nsA, SYNC1) && hasVip(nsA, SYNC2), 8000);
  await waitForOrFail('B to release both', () => !hasVip(nsB, SYNC1) && !hasVip(nsB, SYNC2), 3000);
  t.pass('sync group moved back together');
  const groupLog = readFileSync(join(lab.dir, 'group.log'), 'utf8');
  // Notify scripts run concurrently (as keepalived's without notify_fifo), so lines written
  // within a millisecond may land in either order: compare counts.
  const count = (state: string): number => groupLog.split('\n').filter((l) => l === `GROUP VG_1 ${state} 0`).length;
  t.same([count('BACKUP'), count('MASTER'), count('FAULT')], [2, 2, 1],
    'group notify: GROUP NAME STATE 0 (keepalived: priority 0 for a group) once per group move (startup BACKUP, MASTER, FAULT, then BACKUP -> MASTER on recovery)');
});

t.test('preempt_delay and a wrong password', async (t) => {
  // B is MASTER at 90; A (200, preempt_delay 4) starts and must wait before preempting.
  const b = startUlvs(lab, nsB, 'pb', { vrrp_instances: [instance('VI_1', 71, 'MASTER', 90, DELAY)] });
  t.teardown(() => b.kill('SIGKILL'));
  await started(b);
  await waitForOrFail('B MASTER', () => hasVip(nsB, DELAY), 3000);
  const a = startUlvs(lab, nsA, 'pa', { vrrp_instances: [instance('VI_1', 71, 'BACKUP', 200, DELAY, { preempt_delay: 4 })] });
  // A third speaker with the wrong password: its adverts must be dropped and counted by A.
  const bad = startUlvs(lab, nsB, 'pbad', { vrrp_instances: [instance('VI_1', 71, 'BACKUP', 10, '198.18.0.199', {
    authentication: { auth_type: 'PASS', auth_pass: 'wrong' }, unicast_peer: [lab.ips[0]], unicast_src_ip: '198.18.0.9' })] });
  t.teardown(() => { a.kill('SIGKILL'); bad.kill('SIGKILL'); });
  dumpOnFail(t, a, b, bad);
  await started(a);
  const startedAt = Date.now();
  await waitForOrFail('A to preempt after its delay', () => hasVip(nsA, DELAY), 12000, 20);
  const took = Date.now() - startedAt;
  t.ok(took >= 3500, `A waited ${took} ms before preempting (preempt_delay 4 s)`);
  await waitForOrFail('B to release', () => !hasVip(nsB, DELAY), 3000);
  await started(bad);
  // Kept: several of the bad speaker's adverts must arrive for "logged once" to mean anything.
  await new Promise((r) => setTimeout(r, 4500));
  const before = events(a).length;
  a.kill('SIGUSR1');
  await waitForOrFail('status', () => events(a).slice(before).some((e) => e.event === 'status'), 2000);
  const st = (events(a).slice(before).find((e) => e.event === 'status') as { status: Array<{ drops: Record<string, number>; state: string }> }).status[0];
  t.ok((st.drops.auth_failure ?? 0) >= 1, `auth failures counted: ${JSON.stringify(st.drops)}`);
  t.equal(st.state, 'MASTER', 'never acted on');
  const logged = events(a).filter((e) => e.event === 'log' && e.msg === 'vrrp advert dropped' && e.reason === 'auth_failure');
  t.equal(logged.length, 1, 'logged once per peer and reason');
});

t.test('interface down -> FAULT (keepalived tracks its own interface); up -> back', async (t) => {
  const VIPF = '198.18.0.110';
  const a = startUlvs(lab, nsA, 'fa', { vrrp_instances: [instance('VI_1', 81, 'MASTER', 150, VIPF, { notify_fault: `echo fault >>${join(lab.dir, 'fault.log')}` })] });
  const b = startUlvs(lab, nsB, 'fb', { vrrp_instances: [instance('VI_1', 81, 'BACKUP', 100, VIPF)] });
  t.teardown(() => { a.kill('SIGKILL'); b.kill('SIGKILL'); });
  dumpOnFail(t, a, b);
  await started(a, b);
  await waitForOrFail('A MASTER', () => hasVip(nsA, VIPF), 5000);
  execFileSync('ip', ['-n', nsA, 'link', 'set', 'eth0', 'down']);
  t.teardown(() => { execFileSync('ip', ['-n', nsA, 'link', 'set', 'eth0', 'up']); });
  await waitForOrFail('A to enter FAULT', () => events(a).some((e) => e.event === 'transition' && e.to === 'FAULT'), 2000, 10);
  await waitForOrFail('A to release the VIP', () => !hasVip(nsA, VIPF), 1000, 10);
  await waitForOrFail('B to take over', () => hasVip(nsB, VIPF), 5000);
  t.match(events(a).find((e) => e.event === 'transition' && e.to === 'FAULT'), { reason: /own:eth0/ });
  await waitForOrFail('notify_fault ran', () => { try { return readFileSync(join(lab.dir, 'fault.log'), 'utf8') === 'fault\n'; } catch { return false; } }, 2000);
  execFileSync('ip', ['-n', nsA, 'link', 'set', 'eth0', 'up']);
  await waitForOrFail('A back as MASTER (higher priority preempts)', () => hasVip(nsA, VIPF) && !hasVip(nsB, VIPF), 8000);
  t.pass();
});
