// `ulvs reload` in lab directors running VRRP: a changed real-server weight, then a changed
// VRRP priority, then a VIP added to the instance, never flap VRRP (same state, same last
// transition time on both directors) and the master keeps forwarding.
import { writeFileSync } from 'node:fs';
import t from 'tap';

import { createLab, destroyLab, waitFor } from '../../src/lab/index.js';
import { httpFrom, startDirector, ulvsIn, writeConfig, type RunningDirector } from '../e2e/director.js';

const prefix = 'tvrd-';

function config(o: { state: 'MASTER' | 'BACKUP'; priority: number; rs1Weight: number; vips?: string[] }): string {
  const vips = (o.vips ?? ['198.18.0.100']).map((v) => `{ address: ${v}/32, dev: eth0 }`).join(', ');
  return `dataplane: { interface: eth0, io: auto }
vrrp_instances:
  - name: VI_1
    state: ${o.state}
    interface: eth0
    virtual_router_id: 51
    priority: ${o.priority}
    advert_int: 1
    authentication: { auth_type: PASS, auth_pass: "1111" }
    virtual_ipaddress: [ ${vips} ]
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: wrr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80, weight: ${o.rs1Weight} }
      - { ip: 198.18.0.20, port: 80, weight: 1 }
`;
}

interface Status { name: string; state: string; priority: number; lastTransition: { at: string; to: string } | null; vips: string[] }

async function status(ns: string): Promise<Status[]> {
  const r = await ulvsIn(ns, ['status', '--json']);
  if (r.code !== 0) throw new Error(`ulvs status failed: ${r.stderr}`);
  const json = JSON.parse(r.stdout) as { vrrp?: Status[] } | Status[];
  return Array.isArray(json) ? json : json.vrrp ?? [];
}

async function reload(ns: string): Promise<string> {
  const r = await ulvsIn(ns, ['reload']);
  if (r.code !== 0) throw new Error(`ulvs reload failed (${r.code}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

t.test('ulvs reload does not flap VRRP', async (t) => {
  let master: RunningDirector | null = null;
  let backup: RunningDirector | null = null;
  t.teardown(async () => { await master?.stop(); await backup?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const [dir1, dir2] = [lab.nodes.dir1.name, lab.nodes.dir2.name];
  const masterFile = writeConfig(config({ state: 'MASTER', priority: 150, rs1Weight: 1 }));
  master = await startDirector(dir1, masterFile);
  backup = await startDirector(dir2, writeConfig(config({ state: 'BACKUP', priority: 100, rs1Weight: 1 })));
  t.teardown(() => { if (!t.passing()) t.comment(`master log:\n${master?.log()}\nbackup log:\n${backup?.log()}`); });
  await waitFor(async () => (await status(dir1))[0].state === 'MASTER' && (await status(dir2))[0].state === 'BACKUP', 10_000, 200);
  const m0 = await status(dir1);
  const b0 = await status(dir2);
  t.equal(m0[0].state, 'MASTER', 'dir1 is MASTER');
  t.equal(b0[0].state, 'BACKUP', 'dir2 is BACKUP');
  const transitionsLogged = (): number => master!.log().split('VRRP VI_1:').length - 1;
  const logged0 = transitionsLogged();
  t.ok(logged0 >= 1, 'the start-up transitions are in the log (so the count below can see a flap)');

  // 1. A real-server weight: the dataplane changes, VRRP does not.
  writeFileSync(masterFile, config({ state: 'MASTER', priority: 150, rs1Weight: 4 }));
  t.match(await reload(dir1), /reloaded/, 'reload accepted');
  t.match((await ulvsIn(dir1, ['list', '-n'])).stdout, /-> 198\.18\.0\.10:80 +Route +4 /, 'rs1 reweighted to 4');
  // What is under test: nothing moves for a while (3 advert intervals) after the reload.
  await new Promise((r) => setTimeout(r, 3000));
  const m1 = await status(dir1);
  t.same(m1.map(withoutCounters), m0.map(withoutCounters), 'status unchanged apart from the advert counters');
  t.equal(m1[0].lastTransition?.at, m0[0].lastTransition?.at, 'same last transition time');
  t.same((await status(dir2))[0].lastTransition, b0[0].lastTransition, 'the backup did not move either');

  // 2. The VRRP priority itself (150 -> 130, still above the backup).
  writeFileSync(masterFile, config({ state: 'MASTER', priority: 130, rs1Weight: 4 }));
  await reload(dir1);
  // As above: 3 advert intervals in which the backup must not take over.
  await new Promise((r) => setTimeout(r, 3000));
  const m2 = await status(dir1);
  t.equal(m2[0].state, 'MASTER');
  t.equal(m2[0].priority, 130, 'the new priority is in effect');
  t.equal(m2[0].lastTransition?.at, m0[0].lastTransition?.at, 'same last transition time after a priority reload');
  t.same((await status(dir2))[0].lastTransition, b0[0].lastTransition, 'the backup stayed BACKUP');

  // 3. A VIP added to the instance: on dir1's interface, no transition.
  writeFileSync(masterFile, config({ state: 'MASTER', priority: 130, rs1Weight: 4, vips: ['198.18.0.100', '198.18.0.101'] }));
  await reload(dir1);
  const addrs = (await ulvsIn(dir1, ['status', '--json'])).stdout;
  t.match(addrs, /198\.18\.0\.101/, 'status lists the added VIP');
  const { execFileSync } = await import('node:child_process');
  t.match(execFileSync('ip', ['-n', dir1, '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }), / 198\.18\.0\.101\//, 'the added VIP is on eth0');
  const m3 = await status(dir1);
  t.equal(m3[0].lastTransition?.at, m0[0].lastTransition?.at, 'same last transition time after adding a VIP');
  t.equal(transitionsLogged(), logged0, 'no VRRP transition logged by any reload');

  // The master still forwards, with the new weights (wrr 4:1 over 10 requests).
  const after = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 10);
  t.same(after.bodies.filter((b) => b === 'rs1').length, 8, 'wrr 4:1 after the reloads');
  t.equal(after.bodies.filter((b) => b === 'rs2').length, 2);
});

function withoutCounters(s: Status): Partial<Status> {
  const { advertsSent: _sent, advertsReceived: _received, drops: _drops, ...rest } = s as Status & Record<string, unknown>;
  return rest;
}
