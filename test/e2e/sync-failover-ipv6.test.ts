// Zero-reset failover with connection sync over IPv6 (issue 16): two ulvs directors with one
// VRRPv3 instance over IPv6 (ff02::12, advert 0.1 s) holding [2001:2::100], a DR service to the
// lab's IPv6 real servers, lvs_sync_daemon carrying the IPv6 connections as IPVS v1 IPv6
// records (DR, and NAT66 with the inside gateway 2001:2:0:1::254 in the instance). 30 keep-alive connections stream; `kill -9` of the MASTER; the killed director
// starts again and preempts (failback, its table resynced from the new master). sloppy_tcp is
// off, so only sync can carry the connections: the last test shows the same kill breaks them.
import t from 'tap';
import { CONNECTIONS } from './failover-harness.js';
import { syncFailover } from './sync-support.js';

t.test('IPv6, rr, DR, sync: kill -9 of the MASTER breaks 0 of 30; its restart and failback break 0 of 30', { timeout: 300_000 }, async (t) => {
  const run = await syncFailover(t, 's61-', { lbAlgo: 'rr', kind: 'DR', sync: true, failback: true, family: 6 });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke in the failover`);
  t.equal(run.brokenAtEnd, 0, `${run.brokenAtEnd} of ${CONNECTIONS} connections broke in the failback`);
  t.ok(run.streams.every((s) => s.bodies.length === 1), 'each connection stayed on its real server throughout');
  t.equal(new Set(run.streams.flatMap((s) => s.bodies)).size, 3, 'rr spread them over the three servers');
  t.ok((run.dir1Stats?.sync_applied ?? 0) >= CONNECTIONS, `the restarted director got the table from the new master (applied ${run.dir1Stats?.sync_applied})`);
  t.ok(run.dir2Stats.sync_resyncs_sent >= 1, 'the new master answered its resync request');
  t.equal(run.dir2Stats.drop_no_flow ?? 0, 0, 'the new master never met a connection it did not know');
});

t.test('IPv6, wlc, NAT66, sync: kill -9 of the MASTER breaks 0 of 30 (replies find their client after the takeover)', { timeout: 300_000 }, async (t) => {
  const run = await syncFailover(t, 's63-', { lbAlgo: 'wlc', kind: 'NAT', sync: true, failback: false, family: 6 });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.equal(run.brokenAtEnd, 0, 'none broke afterwards either');
  t.ok(run.streams.every((s) => s.bodies.length === 1), 'each connection stayed on its real server');
  t.ok(run.dir2Stats.sync_applied >= CONNECTIONS, `the backup held them all (applied ${run.dir2Stats.sync_applied})`);
  t.equal(run.dir2Stats.drop_reply_no_flow ?? 0, 0, 'no reply met an unknown connection');
});

t.test('IPv6, rr, DR, no sync: the same kill breaks the connections (so the test above can fail)', { timeout: 300_000 }, async (t) => {
  const run = await syncFailover(t, 's62-', { lbAlgo: 'rr', kind: 'DR', sync: false, failback: false, family: 6 });
  t.ok(run.brokenByFailover >= CONNECTIONS - 5, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.ok(run.dir2Stats.drop_no_flow > 0, 'the new master dropped segments of connections it never saw');
});
