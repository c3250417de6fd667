// Seed 002 part two (ldirectord, DR): seed-002-ldirectord-dr.yaml (wrr 2:1, negotiate check as
// http_get with a regex, static VIP) on lab-dir1; then `ulvs migrate` of the seed's ldirectord.cf.
// The seed checks request="index.html" receive="Server": the lab's real servers are replaced by
// servers that serve such a page (as the seed's httpd did), so both configs find rs1 and rs2 up.
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, stopServer } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import {
  CONFIGS, checkList, checkTraffic, checkVips, migrateFixture, sleep, start, startIndexServer, stopAll, stopAndCheck, writeYaml,
} from './support.js';

const prefix = 'es002-';
const VIP = '198.18.0.100';

t.test('seed 002 ldirectord: wrr 2:1 DR with an HTTP negotiate check', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  for (const rs of ['rs1', 'rs2'] as const) {
    await stopServer(lab.nodes[rs].name);
    await startIndexServer(lab.nodes[rs].name, rs);
  }
  const runs: [string, string][] = [
    ['sample', join(CONFIGS, 'seed-002-ldirectord-dr.yaml')],
    ['migrated', writeYaml(migrateFixture(t, 'seed002-ldirectord.cf'))],
  ];
  for (const [what, file] of runs) {
    const director = await start(dir1, file, running);
    // checkinterval=1, checktimeout=3: let the first checks finish, so the table and shares
    // below are the checked ones (a failed check takes the server out of the table).
    await sleep(4_500);
    await checkVips(t, dir1, [VIP], true);
    await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 wrr`, realServers: ['198.18.0.10:80 Route 2', '198.18.0.20:80 Route 1'] }]);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 30, shares: { rs1: 20, rs2: 10 } });
    await stopAndCheck(t, director, dir1, [VIP]);
    running.clear();
    t.pass(`${what} done`);
  }
});
