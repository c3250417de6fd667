// Seed 001 (VRRP pair + two web real servers weight 3, rr DR, tcp_check): the sample on lab-dir1
// and, as its comment says, a copy made BACKUP/priority 50 on lab-dir2; then `ulvs migrate` of
// the seed's MASTER and BACKUP keepalived.conf, held to the same expectations.
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import {
  CONFIGS, checkList, checkTraffic, checkVips, migrateFixture, readSample, start, stopAll, stopAndCheck, waitForVrrp, writeYaml,
  type ExpectedService,
} from './support.js';

const prefix = 'es001-';
const VIP = '198.18.0.100';
const SERVICES: ExpectedService[] = [{
  line: `TCP  ${VIP}:80 rr`,
  realServers: ['198.18.0.10:80 Route 3', '198.18.0.20:80 Route 3'],
}];

t.test('seed 001: VRRP pair, rr DR over two web servers', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  const dir2 = lab.nodes.dir2.name;

  const backupCopy = readSample('seed-001-dr-nginx.yaml')
    .replace('state: MASTER', 'state: BACKUP').replace('priority: 100', 'priority: 50').replace('router_id: director1', 'router_id: director2');
  t.not(backupCopy, readSample('seed-001-dr-nginx.yaml'), 'the backup copy differs from the sample');
  const pairs: [string, string, string][] = [
    ['sample', join(CONFIGS, 'seed-001-dr-nginx.yaml'), writeYaml(backupCopy)],
    ['migrated', writeYaml(migrateFixture(t, 'seed001-master.conf')), writeYaml(migrateFixture(t, 'seed001-backup.conf'))],
  ];
  for (const [what, masterFile, backupFile] of pairs) {
    const master = await start(dir1, masterFile, running);
    const backup = await start(dir2, backupFile, running);
    await waitForVrrp(t, dir1, { VI_1: 'MASTER' });
    await waitForVrrp(t, dir2, { VI_1: 'BACKUP' });
    await checkVips(t, dir1, [VIP], true);
    await checkVips(t, dir2, [VIP], false);
    await checkList(t, dir1, SERVICES);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 20, shares: { rs1: 10, rs2: 10 } });
    await stopAndCheck(t, backup, dir2, [VIP]);
    await stopAndCheck(t, master, dir1, [VIP]);
    running.clear();
    t.pass(`${what} done`);
  }
});
