// lc and wlc with long-lived connections: every new connection goes to the server IPVS's rule
// picks from ActiveConn/InActConn (overhead = active * 256 + inactive; lc: least overhead,
// wlc: least overhead / weight; ties to the first server), and `ulvs list -n` shows the
// connections the client really holds open.
import t, { type Test } from 'tap';
import { createLab, destroyLab, type LabTopology } from '../../src/lab/index.js';
import { labDrConfig, startDirector, ulvsIn, writeConfig, type RunningDirector } from '../e2e/director.js';
import { LabClient, realServersIn } from './lab-client.js';

const prefix = 'e2lc-';
const NAMES = ['rs1', 'rs2', 'rs3'];

/** The test's own model of each server's connections, from what the client did. */
interface Model { active: number[]; inactive: number[] }

/** IPVS ip_vs_lc_schedule / ip_vs_wlc_schedule over the model. */
function ipvsPick(algo: 'lc' | 'wlc', weights: number[], m: Model): number {
  const overhead = (i: number): number => m.active[i] * 256 + m.inactive[i];
  let least = -1;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] <= 0) continue;
    if (least < 0) { least = i; continue; }
    const better = algo === 'lc'
      ? overhead(i) < overhead(least)
      : overhead(least) * weights[i] > overhead(i) * weights[least];
    if (better) least = i;
  }
  return least;
}

let lab: LabTopology;
t.before(async () => { lab = await createLab({ prefix }); });
t.teardown(async () => { await destroyLab({ prefix }); });

async function scenario(t: Test, algo: 'lc' | 'wlc', weights: number[]): Promise<void> {
  let director: RunningDirector | null = null;
  const client = LabClient.start(lab.nodes.client.name);
  t.teardown(async () => { client.stop(); await director?.stop(); });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(labDrConfig({ lbAlgo: algo, weights: weights.map((w, i): [number, number] => [10 * (i + 1), w]) })));
  const dir1 = lab.nodes.dir1.name;
  const model: Model = { active: [0, 0, 0], inactive: [0, 0, 0] };
  const open: { id: number; server: number }[] = [];
  const mismatches: string[] = [];
  let made = 0;

  const connect = async (keep: boolean): Promise<void> => {
    const want = ipvsPick(algo, weights, model);
    const c = await client.open({ host: lab.vip });
    const got = NAMES.indexOf(c.body);
    made++;
    if (got !== want) mismatches.push(`connection ${made} (${JSON.stringify(model)}): expected ${NAMES[want]}, got ${c.body}`);
    if (got < 0) return;
    if (keep) {
      model.active[got]++;
      open.push({ id: c.id, server: got });
    } else {
      await client.close(c.id);
      model.inactive[got]++;   // FIN_WAIT: counted in InActConn until tcpfin expires
    }
  };
  const checkList = async (what: string): Promise<void> => {
    const rs = await realServersIn(dir1);
    t.same({ active: rs.map((r) => r.activeConns), inactive: rs.map((r) => r.inactiveConns) }, model,
      `ulvs list -n: ActiveConn/InActConn match the connections the client holds (${what})`);
  };

  // Long-lived (keep-alive, held open) connections, one at a time.
  for (let i = 0; i < 9; i++) await connect(true);
  await checkList('9 open');
  t.match((await ulvsIn(dir1, ['list', '-n'])).stdout,
    new RegExp(`-> 198\\.18\\.0\\.10:80 +Route +${weights[0]} +${model.active[0]} +0 *\\n`), 'the text listing shows rs1\'s open connections as ActiveConn');
  // Close some: they turn inactive (FIN_WAIT) and their servers become the least loaded.
  for (const c of open.splice(0, 4)) {
    await client.close(c.id);
    model.active[c.server]--;
    model.inactive[c.server]++;
  }
  await checkList('4 closed');
  // Short connections now fill the least-loaded server, as the rule says.
  for (let i = 0; i < 8; i++) await connect(false);
  for (let i = 0; i < 3; i++) await connect(true);
  await checkList('after short and long connections');
  t.same(mismatches, [], `all 20 new connections went where IPVS's ${algo} rule sends them`);
  // The open connections still answer, each from its own server.
  const answers = await Promise.all(open.map((c) => client.get(c.id)));
  t.same(answers, open.map((c) => NAMES[c.server]), 'every held connection still answers from the server it was given');
}

t.test('lc', (t) => scenario(t, 'lc', [1, 1, 1]));
t.test('wlc', (t) => scenario(t, 'wlc', [3, 1, 2]));
