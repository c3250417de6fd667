// Seed 003 (keepalived double master): each director MASTER for its own VIP (.100 on lab-dir1,
// .101 on lab-dir2) and BACKUP for the other's, with vrrp_scripts and notify scripts.
// The samples name /etc/ulvs/notify.sh and /etc/ulvs/down: the test runs copies pointed at a temp
// dir holding a notify.sh that logs its calls. Then `ulvs migrate` of the seed's keepalived.conf
// (VRRP only: the seed shows no virtual_server for it) on lab-dir1, and its mirror on lab-dir2.
import t from 'tap';
import { parseDocument } from 'yaml';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import {
  checkList, checkTraffic, checkVips, fakeDaemon, listServices, makeScriptsDir, migrateFixture, readSample, start, stopAll,
  stopAndCheck, waitForVrrp, withScriptsDir, writeYaml, type ExpectedService,
} from './support.js';
import { readFileSync } from 'node:fs';

const prefix = 'es003-';
const VIP1 = '198.18.0.100';
const VIP2 = '198.18.0.101';
const servicesFor = (vip: string): ExpectedService => ({
  line: `TCP  ${vip}:80 rr`, realServers: ['198.18.0.10:80 Route 1', '198.18.0.20:80 Route 1'],
});

/** The how-to's second director: the same file with the two instances' roles swapped. */
function mirror(yaml: string): string {
  const doc = parseDocument(yaml);
  const [vi1, vi2] = ['0', '1'].map((i) => ['vrrp_instances', Number(i)]);
  doc.setIn([...vi1, 'state'], 'BACKUP');
  doc.setIn([...vi1, 'priority'], 98);
  doc.setIn([...vi2, 'state'], 'MASTER');
  doc.setIn([...vi2, 'priority'], 100);
  return doc.toString({ lineWidth: 0 });
}

t.test('seed 003: double master, each director MASTER for its own VIP', async (t) => {
  const running = new Set<RunningDirector>();
  let stopHttpd = (): void => undefined;
  t.teardown(async () => { stopHttpd(); await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  const dir2 = lab.nodes.dir2.name;
  const scripts = makeScriptsDir();
  // DR: real servers must own every VIP they answer for; the lab gives them only .100 (with
  // arp_ignore/arp_announce already set), so the seed's second VIP is added here.
  for (const rs of ['rs1', 'rs2'] as const) {
    const r = await labExec(lab.nodes[rs].name, ['ip', 'addr', 'add', `${VIP2}/32`, 'dev', 'lo']);
    t.equal(r.code, 0, `${rs} holds ${VIP2} on lo`);
  }

  await t.test('the hand-written samples', async (t) => {
    const d1 = await start(dir1, writeYaml(withScriptsDir(readSample('seed-003-double-master-dir1.yaml'), scripts)), running);
    const d2 = await start(dir2, writeYaml(withScriptsDir(readSample('seed-003-double-master-dir2.yaml'), scripts)), running);
    await waitForVrrp(t, dir1, { VI_1: 'MASTER', VI_2: 'BACKUP' });
    await waitForVrrp(t, dir2, { VI_1: 'BACKUP', VI_2: 'MASTER' });
    await checkVips(t, dir1, [VIP1], true);
    await checkVips(t, dir1, [VIP2], false);
    await checkVips(t, dir2, [VIP2], true);
    await checkVips(t, dir2, [VIP1], false);
    await checkList(t, dir1, [servicesFor(VIP1)]);
    await checkList(t, dir2, [servicesFor(VIP2)]);
    await checkTraffic(t, lab, { url: `http://${VIP1}/`, requests: 20, shares: { rs1: 10, rs2: 10 } });
    await checkTraffic(t, lab, { url: `http://${VIP2}/`, requests: 20, shares: { rs1: 10, rs2: 10 } });
    const notified = readFileSync(scripts.notifyLog, 'utf8');
    t.match(notified, new RegExp(`^${dir1} master$`, 'm'), 'notify_master ran on dir1');
    t.match(notified, new RegExp(`^${dir2} master$`, 'm'), 'notify_master ran on dir2');
    t.match(notified, new RegExp(`^${dir1} backup$`, 'm'), 'notify_backup ran on dir1');
    await stopAndCheck(t, d2, dir2, [VIP1, VIP2]);
    await stopAndCheck(t, d1, dir1, [VIP1, VIP2]);
    running.clear();
  });

  await t.test('ulvs migrate of the seed (VRRP part)', async (t) => {
    // The seed's chk_httpd is `killall -0 httpd`: give it an httpd to find.
    stopHttpd = fakeDaemon('httpd');
    const migrated = withScriptsDir(migrateFixture(t, 'seed003-double-master.conf'), scripts);
    const d1 = await start(dir1, writeYaml(migrated), running);
    const d2 = await start(dir2, writeYaml(mirror(migrated)), running);
    await waitForVrrp(t, dir1, { VI_1: 'MASTER', VI_2: 'BACKUP' });
    await waitForVrrp(t, dir2, { VI_1: 'BACKUP', VI_2: 'MASTER' });
    await checkVips(t, dir1, [VIP1], true);
    await checkVips(t, dir1, [VIP2], false);
    await checkVips(t, dir2, [VIP2], true);
    await checkVips(t, dir2, [VIP1], false);
    t.same(await listServices(dir1), [], 'no virtual_server in the seed, none listed');
    await stopAndCheck(t, d2, dir2, [VIP1, VIP2]);
    await stopAndCheck(t, d1, dir1, [VIP1, VIP2]);
    running.clear();
  });

  await t.test('ulvs migrate of the seed\'s first example (one instance)', async (t) => {
    const d1 = await start(dir1, writeYaml(withScriptsDir(migrateFixture(t, 'seed003-example.conf'), scripts)), running);
    await waitForVrrp(t, dir1, { VI_1: 'MASTER' });
    await checkVips(t, dir1, [VIP1], true);
    t.match(readFileSync(scripts.notifyLog, 'utf8'), new RegExp(`^${dir1} master$`, 'm'), 'its notify_master ran');
    await stopAndCheck(t, d1, dir1, [VIP1]);
    running.clear();
  });
});
