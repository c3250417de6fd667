// The Full NAT sample in the Full NAT lab (`ulvs lab up --fnat`: real servers on 198.18.1.0/24
// with no default route): 'lab-fnat.yaml', rr over rs1..rs3 through the local address 198.18.1.200.
import { join } from 'node:path';
import t from 'tap';
import { FNAT_LOCAL_ADDRESS, createLab, destroyLab } from '../../src/lab/index.js';
import type { RunningDirector } from '../e2e/director.js';
import { CONFIGS, checkList, checkTraffic, checkVips, start, stopAll, stopAndCheck } from './support.js';

const prefix = 'fns-';
const VIP = '198.18.0.100';

t.test('lab-fnat.yaml runs in the Full NAT lab', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix, fnat: true });
  const dir1 = lab.nodes.dir1.name;
  const director = await start(dir1, join(CONFIGS, 'lab-fnat.yaml'), running);
  await checkVips(t, dir1, [VIP, FNAT_LOCAL_ADDRESS], true);
  await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 rr`, realServers: ['10', '20', '30'].map((n) => `198.18.1.${n}:80 FullNat 1`) }]);
  await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 30, shares: { rs1: 10, rs2: 10, rs3: 10 } });
  await stopAndCheck(t, director, dir1, [VIP, FNAT_LOCAL_ADDRESS]);
  running.clear();
});
