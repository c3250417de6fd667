// The lab's own samples on lab-dir1: lab-dr.yaml (wrr 1:3:3 DR, static VIP) answered through the
// VIP; lab-tun.yaml (wrr 1:3:3 IPIP), whose real servers cannot answer (this kernel has no IPIP
// decapsulation), so the table and the encapsulated frames leaving the director are checked.
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { ulvsIn, type RunningDirector } from '../e2e/director.js';
import { CONFIGS, checkList, checkTraffic, checkVips, start, stopAll, stopAndCheck } from './support.js';

const prefix = 'eslab-';
const VIP = '198.18.0.100';
const WEIGHTS = [['10', 1], ['20', 3], ['30', 3]] as const;

t.test('lab-dr.yaml and lab-tun.yaml run on lab-dir1', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;

  const dr = await start(dir1, join(CONFIGS, 'lab-dr.yaml'), running);
  await checkVips(t, dir1, [VIP], true);
  await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 wrr`, realServers: WEIGHTS.map(([n, w]) => `198.18.0.${n}:80 Route ${w}`) }]);
  await checkTraffic(t, lab, { url: `http://${VIP}/`, requests: 70, shares: { rs1: 10, rs2: 30, rs3: 30 } });
  await stopAndCheck(t, dr, dir1, [VIP]);
  running.clear();

  const tun = await start(dir1, join(CONFIGS, 'lab-tun.yaml'), running);
  await checkVips(t, dir1, [VIP], true);
  await checkList(t, dir1, [{ line: `TCP  ${VIP}:80 wrr`, realServers: WEIGHTS.map(([n, w]) => `198.18.0.${n}:80 Tunnel ${w}`) }]);
  // 7 connection attempts (one wrr round): each SYN leaves the director wrapped in IPIP to the
  // real server wrr picked; the real servers' kernels count what they cannot decapsulate.
  const before = await Promise.all((['rs1', 'rs2', 'rs3'] as const).map((rs) => ipipReceived(lab.nodes[rs].name)));
  await Promise.all(Array.from({ length: 7 }, (_, i) =>
    labExec(lab.nodes.client.name, ['curl', '-s', '-m', '1', '--local-port', String(40000 + i), `http://${VIP}/`])));
  const after = await Promise.all((['rs1', 'rs2', 'rs3'] as const).map((rs) => ipipReceived(lab.nodes[rs].name)));
  const fresh = after.map((a, i) => a - before[i]);
  t.ok(fresh[1] > 0 && fresh[2] > 0 && fresh[1] + fresh[2] >= 2 * fresh[0], `IPIP frames reach the real servers in wrr proportion (${fresh.join('/')})`);
  const stats = JSON.parse((await ulvsIn(dir1, ['stats', '--json'])).stdout) as Record<string, number>;
  t.ok(stats.tx > 0, `the TUN director transmits (tx ${stats.tx})`);
  await stopAndCheck(t, tun, dir1, [VIP]);
  running.clear();
});

/** Ip InUnknownProtos: IPIP packets this kernel received but cannot decapsulate. */
async function ipipReceived(ns: string): Promise<number> {
  const snmp = (await labExec(ns, ['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Ip:'));
  const [names, values] = snmp.map((l) => l.split(/\s+/));
  return Number(values[names.indexOf('InUnknownProtos')]);
}
