// Seed 000 (VRRP MASTER/BACKUP pair, rr DR, persistence 50 s, tcp_check): the hand-written
// samples on lab-dir1/lab-dir2, then `ulvs migrate` of the seed's two keepalived.conf blocks,
// held to the same expectations.
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import {
  CONFIGS, checkList, checkTraffic, checkVips, migrateFixture, start, stopAll, stopAndCheck, waitForVrrp, writeYaml,
  type ExpectedService,
} from './support.js';
import { join } from 'node:path';

const prefix = 'es000-';
const VIP = '198.18.0.100';
const SERVICES: ExpectedService[] = [{
  line: `TCP  ${VIP}:80 rr persistent 50`,
  realServers: ['198.18.0.10:80 Route 1', '198.18.0.20:80 Route 1', '198.18.0.30:80 Route 1'],
}];

t.test('seed 000: MASTER/BACKUP pair, persistent rr DR', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  const dir2 = lab.nodes.dir2.name;

  const pairs: [string, string, string][] = [
    ['samples', join(CONFIGS, 'seed-000-dr-master.yaml'), join(CONFIGS, 'seed-000-dr-backup.yaml')],
    ['migrated', writeYaml(migrateFixture(t, 'seed000-master.conf')), writeYaml(migrateFixture(t, 'seed000-backup.conf'))],
  ];
  for (const [what, masterFile, backupFile] of pairs) {
    const master = await start(dir1, masterFile, running);
    const backup = await start(dir2, backupFile, running);
    await waitForVrrp(t, dir1, { VI_1: 'MASTER' });
    await waitForVrrp(t, dir2, { VI_1: 'BACKUP' });
    await checkVips(t, dir1, [VIP], true);
    await checkVips(t, dir2, [VIP], false);
    await checkList(t, dir1, SERVICES);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 20, shares: 'one' });
    await stopAndCheck(t, backup, dir2, [VIP]);
    await stopAndCheck(t, master, dir1, [VIP]);
    running.clear();
    t.pass(`${what} done`);
  }

  // The seed's affinity fragment: "virtual_server fwmark 80" and its iptables MARK rule become a
  // virtual_server_groups entry (no real servers in the fragment; no VIP holder: added by hand).
  const fwmark = migrateFixture(t, 'seed000-fwmark.conf');
  t.equal((await labExec(dir1, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'eth0'])).code, 0, 'VIP added by hand for the fragment');
  const d = await start(dir1, writeYaml(fwmark), running);
  await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 rr`, realServers: [] }]);
  t.equal(await d.stop(), 0, 'the fwmark fragment\'s director stops cleanly');
  running.clear();
});
