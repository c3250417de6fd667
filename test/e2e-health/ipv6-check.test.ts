// Issue 16: health checks over IPv6 in the dual-stack lab take a stopped server out. The
// service is IPv4 (IPv6 services are the forwarding part's), its checks reach the real
// servers over IPv6 with connect_ip: rs1 by ping_check (ICMPv6 echo, stays up: pinging does
// not need the service), rs2 by tcp_check, rs3 by http_get. Stopping rs2's and rs3's service
// takes both out of the director's table; starting them brings them back.
import t from 'tap';
import { startServer, stopServer } from '../../src/lab/index.js';
import { ulvsIn } from '../e2e/director.js';
import { drConfig, healthLog, labWithDirector, waitFor, watchTable } from './support.js';

const PREFIX = 'vch-';
const [RS1, RS2, RS3] = ['198.18.0.10:80', '198.18.0.20:80', '198.18.0.30:80'];
// delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1: out within about 4 s; 15 s of margin.
const BOUND_MS = 20_000;
const timing = 'connect_timeout: 1, retry: 1, delay_before_retry: 1';

const config = drConfig([
  `{ ip: 198.18.0.10, port: 80, weight: 1, ping_check: { connect_ip: "2001:2::10", ${timing} } }`,
  `{ ip: 198.18.0.20, port: 80, weight: 1, tcp_check: { connect_ip: "2001:2::20", bindto: "2001:2::2", ${timing} } }`,
  `{ ip: 198.18.0.30, port: 80, weight: 1, http_get: { connect_ip: "2001:2::30", ${timing}, url: [{ path: /test.html, status_code: 200 }] } }`,
], 'delay_loop: 1');

t.test('IPv6 checks: a stopped server leaves the table, and comes back', async (t) => {
  const { director, dir1 } = await labWithDirector(t, PREFIX, config);
  const table = watchTable(t, dir1);
  const all3 = await waitFor(() => Object.keys(table.current() ?? {}).length === 3, 20_000);
  t.ok(all3, `all three up over IPv6 checks at start: ${JSON.stringify(table.current())}`);

  const stoppedAt = Date.now();
  t.ok(await stopServer('rs2', { prefix: PREFIX }), 'rs2 service stopped');
  t.ok(await stopServer('rs3', { prefix: PREFIX }), 'rs3 service stopped');
  const leftAt = await waitFor(() => table.firstAfter(stoppedAt, (s) => !(RS2 in s) && !(RS3 in s)), BOUND_MS);
  t.ok(leftAt !== undefined, `rs2 (tcp_check over IPv6) and rs3 (http_get over IPv6) left the table${leftAt === undefined ? '' : ` after ${leftAt - stoppedAt} ms`}`);
  t.ok(RS1 in (table.current() ?? {}), 'rs1 stays: ICMPv6 echo still answered');
  const listed = await ulvsIn(dir1, ['list', '-n']);
  t.notMatch(listed.stdout, /198\.18\.0\.20:80|198\.18\.0\.30:80/, '`ulvs list -n` no longer shows rs2, rs3');

  const startedAt = Date.now();
  await startServer('rs2', { prefix: PREFIX });
  await startServer('rs3', { prefix: PREFIX });
  const backAt = await waitFor(() => table.firstAfter(startedAt, (s) => RS2 in s && RS3 in s), BOUND_MS);
  t.ok(backAt !== undefined, 'both came back once their services answered over IPv6 again');

  const events = healthLog(director.log()).filter((e) => e.time >= stoppedAt);
  const rs2 = events.filter((e) => e.rsKey === RS2);
  t.same(rs2.map((e) => e.up), [false, true], 'rs2 logged down, then up');
  // Refused (a RST from rs2's IPv6 stack), not a timeout: the probe did reach 2001:2::20.
  t.match(rs2[0]?.reason ?? '', /ECONNREFUSED/, `rs2's down reason: ${rs2[0]?.reason}`);
  t.notOk(events.some((e) => e.rsKey === RS1), 'rs1 never went down');
});
