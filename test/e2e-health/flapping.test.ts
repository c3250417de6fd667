// Issue 4 (ulvs's rise/fall, which keepalived lacks): a real server that flaps every 0.5 s
// does not flap the table with fall 3 / rise 3, while with rise/fall 1 (keepalived) it does.
// Probes run every 0.35 s, so a 0.5 s outage holds at most 2 failed probes (< fall 3) and a
// 0.5 s recovery at most 2 good ones (< rise 3), yet every outage holds at least one probe.
import t from 'tap';
import { drConfig, healthLog, runDirector, sleep, startHelperServer, startLab, watchTable } from './support.js';

const PREFIX = 'hfl-';
const FLAP_PORT = 8082;
const HALF_PERIOD_MS = 500;
const WATCH_MS = 10_000;
const RS1 = '198.18.0.10:80';
const RS2 = '198.18.0.20:80';

const check = (riseFall: number): string =>
  `tcp_check: { connect_port: ${FLAP_PORT}, connect_timeout: 1, retry: 0, rise: ${riseFall}, fall: ${riseFall} }`;
const config = drConfig([
  `{ ip: 198.18.0.10, port: 80, weight: 1, ${check(3)} }`,
  `{ ip: 198.18.0.20, port: 80, weight: 1, ${check(1)} }`,
  '{ ip: 198.18.0.30, port: 80, weight: 1 }',
], 'delay_loop: 0.35');

t.test('rise/fall 3 hold a flapping server steady; rise/fall 1 flap with it', async (t) => {
  const lab = await startLab(t, PREFIX);
  // Flapping before the director starts: its first probes already see the flapping server.
  const flappers = await Promise.all([lab.nodes.rs1.name, lab.nodes.rs2.name]
    .map((ns) => startHelperServer(t, ns, ['flap', String(FLAP_PORT), String(HALF_PERIOD_MS)])));
  const { director, dir1 } = await runDirector(t, lab, config);
  const table = watchTable(t, dir1);
  const from = Date.now();
  // Kept: the watch window is the thing under test (how often the table changes in it).
  await sleep(WATCH_MS);

  const events = healthLog(director.log()).filter((e) => e.time >= from);
  const damped = events.filter((e) => e.rsKey === RS1);
  const plain = events.filter((e) => e.rsKey === RS2);
  t.equal(damped.length, 0, `rise/fall 3: no state change in ${WATCH_MS / 1000} s of flapping`);
  t.ok(plain.length >= 8, `rise/fall 1: ${plain.length} state changes in ${WATCH_MS / 1000} s of flapping`);
  const rs1Gone = table.changes().filter((c) => c.t >= from && !(RS1 in c.servers));
  t.same(rs1Gone, [], 'rs1 (rise/fall 3) never left the table');
  const rs2Gone = table.changes().filter((c) => c.t >= from && !(RS2 in c.servers));
  t.ok(rs2Gone.length >= 4, `rs2 (rise/fall 1) left the table ${rs2Gone.length} times`);
  if (!t.passing()) {
    t.comment(`flap servers: ${flappers.map((f) => f.output().trim()).join(' | ')}`);
    t.comment(`events: ${events.map((e) => `${e.rsKey} ${e.up ? 'up' : 'down'} @${e.time - from} ${e.reason}`).join('; ')}`);
  }
});
