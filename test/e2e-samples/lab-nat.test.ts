// The NAT samples in the NAT lab (real servers on 198.18.1.0/24 behind the director's
// 198.18.1.254): lab-nat.yaml and seed-002-nat.yaml (seed 002 part one), rr over rs1..rs3.
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import { CONFIGS, checkList, checkTraffic, checkVips, start, stopAll, stopAndCheck } from './support.js';

const prefix = 'esnat-';
const VIP = '198.18.0.100';
const GATEWAY = '198.18.1.254';

t.test('lab-nat.yaml and seed-002-nat.yaml run in the NAT lab', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix, nat: true });
  const dir1 = lab.nodes.dir1.name;
  for (const sample of ['lab-nat.yaml', 'seed-002-nat.yaml']) {
    const director = await start(dir1, join(CONFIGS, sample), running);
    await checkVips(t, dir1, [VIP, GATEWAY], true);
    await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 rr`, realServers: ['10', '20', '30'].map((n) => `198.18.1.${n}:80 Masq 1`) }]);
    await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 30, shares: { rs1: 10, rs2: 10, rs3: 10 } });
    await stopAndCheck(t, director, dir1, [VIP, GATEWAY]);
    running.clear();
    t.pass(`${sample} done`);
  }
});
