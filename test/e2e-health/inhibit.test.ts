// Issue 4: inhibit_on_failure (ldirectord's quiescent): a failed real server stays in the
// table with weight 0, gets no new connections, and its weight comes back when it recovers.
import t from 'tap';
import { startServer, stopServer } from '../../src/lab/index.js';
import { httpFrom, tally, ulvsIn } from '../e2e/director.js';
import { drConfig, healthLog, labWithDirector, waitFor, watchTable } from './support.js';

const PREFIX = 'hin-';
const RS1 = '198.18.0.10:80';
const check = 'tcp_check: { connect_timeout: 1, retry: 1, delay_before_retry: 1 }';
const config = drConfig([
  `{ ip: 198.18.0.10, port: 80, weight: 2, inhibit_on_failure: true, ${check} }`,
  `{ ip: 198.18.0.20, port: 80, weight: 1, ${check} }`,
  `{ ip: 198.18.0.30, port: 80, weight: 1, ${check} }`,
], 'delay_loop: 1');

t.test('inhibit_on_failure keeps the failed server listed with weight 0', async (t) => {
  const { director, dir1, client } = await labWithDirector(t, PREFIX, config);
  const table = watchTable(t, dir1);
  t.ok(await waitFor(() => table.current()?.[RS1] === 2, 5000), 'rs1 listed with its weight 2 at start');

  const stoppedAt = Date.now();
  await stopServer('rs1', { prefix: PREFIX });
  const zeroAt = await waitFor(() => table.firstAfter(stoppedAt, (s) => s[RS1] === 0), 9000);
  t.ok(zeroAt !== undefined, `rs1 quiesced to weight 0 ${zeroAt! - stoppedAt} ms after the stop`);
  t.ok(table.changes().every((c) => c.t < stoppedAt || RS1 in c.servers), 'rs1 never left the table');
  const list = await ulvsIn(dir1, ['list', '-n']);
  t.match(list.stdout, /198\.18\.0\.10:80 +Route +0 /, '`ulvs list -n` shows rs1 with weight 0');
  t.ok(healthLog(director.log()).some((e) => e.rsKey === RS1 && !e.up && e.time >= stoppedAt), 'the director logged rs1 down');
  const shares = await httpFrom(client, 'http://198.18.0.100/', 20, 'new');
  t.same(tally(shares.bodies), { rs2: 10, rs3: 10 }, 'new connections avoid the weight-0 server, none fails');

  const startedAt = Date.now();
  await startServer('rs1', { prefix: PREFIX });
  t.ok(await waitFor(() => table.firstAfter(startedAt, (s) => s[RS1] === 2), 4000), 'rs1 gets its weight 2 back once it answers');
});
