// Issue 4: under a continuous stream of new client connections, a real server whose service
// stops leaves the table within keepalived's detection bound, no request fails once it is
// out, and it comes back (and gets requests again) once it answers again.
import t from 'tap';
import { startServer, stopServer } from '../../src/lab/index.js';
import { ulvsIn } from '../e2e/director.js';
import { drConfig, healthLog, labWithDirector, sleep, streamRequests, waitFor, watchTable } from './support.js';

const PREFIX = 'hfo-';
const RS2 = '198.18.0.20:80';
// delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1 (seconds).
const DELAY_LOOP_MS = 1000;
const DETECTION_BOUND_MS = DELAY_LOOP_MS + 1000 * (1 + 1) + 1 * 1000 + 1000;
const RECOVERY_BOUND_MS = DELAY_LOOP_MS + 1000;

const check = 'tcp_check: { connect_timeout: 1, retry: 1, delay_before_retry: 1 }';
const config = drConfig([
  `{ ip: 198.18.0.10, port: 80, weight: 1, ${check} }`,
  `{ ip: 198.18.0.20, port: 80, weight: 1, ${check} }`,
  `{ ip: 198.18.0.30, port: 80, weight: 1, ${check} }`,
], 'delay_loop: 1');

t.test('a stopped real server leaves the table in time and no request fails after', async (t) => {
  const { director, dir1, client } = await labWithDirector(t, PREFIX, config);
  const table = watchTable(t, dir1);
  const all3 = await waitFor(() => Object.keys(table.current() ?? {}).length === 3, 10_000);
  t.ok(all3, 'all three real servers listed at start');

  const stream = streamRequests(t, client, 'http://198.18.0.100/', 50);
  await waitFor(() => new Set(stream.results().map((r) => r.body)).size >= 3, 10_000);
  const before = stream.results();
  t.same([...new Set(before.map((r) => r.body))].sort(), ['rs1', 'rs2', 'rs3'], `before the stop, ${before.length} requests went to all three, none failed`);

  const stoppedAt = Date.now();
  t.ok(await stopServer('rs2', { prefix: PREFIX }), 'rs2 service stopped');
  const leftAt = await waitFor(() => table.firstAfter(stoppedAt, (s) => !(RS2 in s)), DETECTION_BOUND_MS + 5000);
  t.ok(leftAt !== undefined, 'rs2 left the table');
  const detectMs = leftAt! - stoppedAt;
  t.ok(detectMs <= DETECTION_BOUND_MS, `rs2 left ${detectMs} ms after the stop (bound ${DETECTION_BOUND_MS} ms)`);
  const listed = await ulvsIn(dir1, ['list', '-n']);
  t.notMatch(listed.stdout, /198\.18\.0\.20:80/, '`ulvs list -n` no longer shows rs2');
  t.match(listed.stdout, /198\.18\.0\.10:80 +Route +1 /, '`ulvs list -n` still shows rs1');
  t.match(listed.stdout, /198\.18\.0\.30:80 +Route +1 /, '`ulvs list -n` still shows rs3');

  // Kept: rs2 stays out for a while; the requests in this window are checked below.
  await sleep(3000);
  const startedAt = Date.now();
  await startServer('rs2', { prefix: PREFIX });
  const listeningAt = Date.now();
  const backAt = await waitFor(() => table.firstAfter(listeningAt, (s) => RS2 in s), RECOVERY_BOUND_MS + 5000);
  t.ok(backAt !== undefined, 'rs2 came back into the table');
  const recoverMs = backAt! - listeningAt;
  t.ok(recoverMs <= RECOVERY_BOUND_MS, `rs2 back ${recoverMs} ms after it listened again (bound ${RECOVERY_BOUND_MS} ms)`);
  // Kept: the stream goes on after rs2 is back; the requests in this window are checked below.
  await sleep(2000);
  await stream.stop();

  const results = stream.results();
  const whileOut = results.filter((r) => r.start >= leftAt! && r.end <= startedAt);
  const failedWhileOut = whileOut.filter((r) => r.body.startsWith('ERR'));
  t.ok(whileOut.length >= 40, `${whileOut.length} requests while rs2 was out`);
  t.same(failedWhileOut, [], 'no request failed from the moment rs2 left the table');
  t.notOk(whileOut.some((r) => r.body === 'rs2'), 'no request reached rs2 while it was out');
  const afterBack = results.filter((r) => r.start >= backAt!);
  t.ok(afterBack.filter((r) => r.body === 'rs2').length >= 3, `rs2 gets requests again (${afterBack.filter((r) => r.body === 'rs2').length} of ${afterBack.length})`);
  t.same(afterBack.filter((r) => r.body.startsWith('ERR')), [], 'no request failed after rs2 came back');
  const lost = results.filter((r) => r.start >= stoppedAt && r.start < leftAt! && r.body.startsWith('ERR')).length;
  const errors = results.filter((r) => r.body.startsWith('ERR')).map((r) => `${r.body}@${r.start - stoppedAt}`);
  t.comment(`times from the stop: left ${leftAt! - stoppedAt}, started ${startedAt - stoppedAt}, listening ${listeningAt - stoppedAt}, back ${backAt! - stoppedAt}; errors ${errors.join(' ')}`);
  t.comment(`detection ${detectMs} ms, recovery ${recoverMs} ms; requests failed between stop and removal: ${lost}`);

  const events = healthLog(director.log()).filter((e) => e.rsKey === RS2 && e.time >= stoppedAt);
  t.same(events.map((e) => e.up), [false, true], 'after the stop the director logged rs2 down, then up');
});
