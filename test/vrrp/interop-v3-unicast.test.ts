// VRRPv3, advert_int 0.1 (centiseconds), unicast peers, with keepalived 2.2.7 on the other
// side: ulvs MASTER -> kill -9 -> keepalived takes over within its v3 master-down interval;
// then ulvs as BACKUP -> kill -9 keepalived -> ulvs takes over within its own.
import t from 'tap';
import { execFileSync } from 'node:child_process';

import {
  createVrrpLab, events, hasVip, keepalivedConf, keepalivedPids, startKeepalived, startUlvs, waitForOrFail, type Runner,
} from './fixtures/lab.js';
import { masterDownIntervalMs } from '../../src/vrrp/state.js';

const VIP = '198.18.0.100';
const lab = await createVrrpLab('tvr3-', 2);
t.teardown(() => lab.destroy());
const [ulvsNs, kaNs] = lab.nodes;
const [ulvsIp, kaIp] = lab.ips;

const mdi = (priority: number): number => masterDownIntervalMs({
  version: 3, advertIntervalCs: 10, priority, basePriority: priority, preempt: true, preemptDelayMs: 0,
  initialState: 'BACKUP', primaryIp: 0,
}, 10);

async function started(r: Runner): Promise<void> {
  await waitForOrFail('ulvs to start', () => events(r).some((e) => e.event === 'started' || e.event === 'error'), 30000);
}

function ulvsConfig(state: 'MASTER' | 'BACKUP', priority: number): object {
  return {
    vrrp_instances: [{
      name: 'VI_1', state, interface: 'eth0', virtual_router_id: 60, priority, advert_int: 0.1, version: 3,
      unicast_src_ip: ulvsIp, unicast_peer: [kaIp],
      virtual_ipaddress: [{ address: `${VIP}/32` }], garp_master_delay: 0, garp_master_repeat: 1,
    }],
  };
}
const kaConf = (state: 'MASTER' | 'BACKUP', priority: number): string => keepalivedConf({
  state, priority, vrid: 60, version: 3, advertInt: 0.1, unicastSrc: kaIp, unicastPeers: [ulvsIp],
});

t.test('v3 advert_int 0.1 unicast: ulvs <-> keepalived', async (t) => {
  let ulvs = startUlvs(lab, ulvsNs, 'ulvs1', ulvsConfig('MASTER', 150));
  t.teardown(() => ulvs.kill('SIGKILL'));
  await started(ulvs);
  await waitForOrFail('ulvs MASTER', () => hasVip(ulvsNs, VIP), 2000);
  const ka = startKeepalived(lab, kaNs, 'ka', kaConf('BACKUP', 100));
  t.teardown(() => { for (const pid of keepalivedPids(lab, 'ka').reverse()) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } });
  t.teardown(() => { if (!t.passing()) t.comment(['ulvs:', ...ulvs.output, 'keepalived:', ...ka.output].join('\n')); });
  // Kept: the window is under test (keepalived stays BACKUP).
  await new Promise((r) => setTimeout(r, 3000));
  t.notOk(hasVip(kaNs, VIP), 'keepalived stays BACKUP against ulvs\'s 100 ms v3 adverts');
  t.notOk(ka.output.some((l) => /Entering MASTER/.test(l)), 'keepalived never became MASTER');

  const killedAt = Date.now();
  ulvs.kill('SIGKILL');
  await waitForOrFail('keepalived to take over', () => hasVip(kaNs, VIP), 3000, 5);
  const gap1 = Date.now() - killedAt;
  t.ok(gap1 <= mdi(100) + 250, `keepalived took over ${gap1} ms after kill -9 (v3 master-down ${mdi(100).toFixed(0)} ms)`);
  execFileSync('ip', ['-n', ulvsNs, 'addr', 'del', `${VIP}/32`, 'dev', 'eth0']);

  ulvs = startUlvs(lab, ulvsNs, 'ulvs2', ulvsConfig('BACKUP', 50));
  await started(ulvs);
  // Kept: the window is under test (ulvs stays BACKUP).
  await new Promise((r) => setTimeout(r, 1500));
  t.notOk(hasVip(ulvsNs, VIP), 'ulvs BACKUP under keepalived MASTER');
  const killAt = Date.now();
  for (const pid of keepalivedPids(lab, 'ka').reverse()) process.kill(pid, 'SIGKILL');
  await waitForOrFail('ulvs to take over', () => hasVip(ulvsNs, VIP), 3000, 5);
  const gap2 = Date.now() - killAt;
  t.ok(gap2 <= mdi(50) + 250, `ulvs took over ${gap2} ms after kill -9 (v3 master-down ${mdi(50).toFixed(0)} ms)`);
  const received = events(ulvs).filter((e) => e.event === 'log' && e.msg === 'vrrp advert dropped');
  t.same(received, [], 'no keepalived v3 advert was dropped (checksum, interval, peer all accepted)');
  t.comment(`measured v3 0.1s: ulvs->keepalived ${gap1} ms, keepalived->ulvs ${gap2} ms`);
});
