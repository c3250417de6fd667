// Weight 0 quiesces a real server: after a reload that sets its weight to 0, its open
// connection keeps working to the end (every answer from that server) and no new connection
// goes there. A later reload that removes the server lets the connection drain as well.
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { createLab, destroyLab, labDirectorConfig } from '../../src/lab/index.js';
import { startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from '../e2e/director.js';
import { LabClient, realServersIn, sleep } from './lab-client.js';

const prefix = 'e2dr-';

/** The lab's rr service; rs1 at the given weight, or not listed at all (null). */
function config(rs1Weight: number | null): string {
  const rest = [{ ip: '198.18.0.20', weight: 1 }, { ip: '198.18.0.30', weight: 1 }];
  return labDirectorConfig({ services: [{ realServers: rs1Weight === null ? rest : [{ ip: '198.18.0.10', weight: rs1Weight }, ...rest] }] });
}

t.test('weight 0 drains rs1: its open connection carries on, new ones go elsewhere', async (t) => {
  let director: RunningDirector | null = null;
  let client: LabClient | null = null;
  t.teardown(async () => { client?.stop(); await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const file = writeConfig(config(1));
  director = await startDirector(lab.nodes.dir1.name, file);
  const dir1 = lab.nodes.dir1.name;
  client = LabClient.start(lab.nodes.client.name);

  const long = await client.open({ host: lab.vip });
  t.equal(long.body, 'rs1', 'the long connection is on rs1 (first rr choice)');

  // A slow request is in flight on the long connection while the reload happens.
  const inFlight = client.get(long.id, '/slow?ms=1500');
  // Kept: the request has to be on the wire (and at rs1) before the reload; nothing signals that.
  await sleep(300);
  writeFileSync(file, config(0));
  const reload = await ulvsIn(dir1, ['reload']);
  t.equal(reload.code, 0, `reload to weight 0 applied (${reload.stdout.trim()}${reload.stderr.trim()})`);
  t.match((await ulvsIn(dir1, ['list', '-n'])).stdout, /-> 198\.18\.0\.10:80 +Route +0 +1 +0 *\n/, 'rs1 listed with weight 0 and its one ActiveConn');
  t.equal(await inFlight, 'rs1', 'the request in flight across the reload is answered by rs1');

  const answers: string[] = [];
  const fresh: string[] = [];
  for (let i = 0; i < 15; i++) {
    answers.push(await client.get(long.id));
    fresh.push(await client.once({ host: lab.vip }));
    fresh.push(await client.once({ host: lab.vip }));
    await sleep(50);
  }
  t.same(answers, Array(15).fill('rs1'), 'the open connection keeps working, all 15 answers from rs1');
  t.same(tally(fresh), { rs2: 15, rs3: 15 }, 'the 30 new connections meanwhile go to rs2 and rs3 only, rr between them');

  // Removing rs1 altogether: its connection drains too (the director's hitless-reload contract).
  writeFileSync(file, config(null));
  t.equal((await ulvsIn(dir1, ['reload'])).code, 0, 'reload that removes rs1 applied');
  const rs = await realServersIn(dir1);
  t.same(rs.map((r) => r.ip), ['198.18.0.20', '198.18.0.30'], 'rs1 is gone from the table');
  const after: string[] = [];
  for (let i = 0; i < 5; i++) after.push(await client.get(long.id));
  t.same(after, Array(5).fill('rs1'), 'the connection to the removed rs1 still drains (5 more answers from rs1)');
  const freshAfter: string[] = [];
  for (let i = 0; i < 10; i++) freshAfter.push(await client.once({ host: lab.vip }));
  t.notOk(freshAfter.includes('rs1'), `no new connection goes to rs1 (${JSON.stringify(tally(freshAfter))})`);
  await client.close(long.id);
});
