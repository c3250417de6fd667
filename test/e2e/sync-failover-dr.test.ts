// Zero-reset failover with connection sync, DR: two ulvs directors (VRRPv3, advert 0.1 s),
// 30 keep-alive connections streaming a request every 50 ms, `kill -9` of the MASTER, then the
// killed director started again with the same config, which preempts (failback). sloppy_tcp is
// off, so only sync can carry the connections; without sync the same kill breaks them.
import t from 'tap';
import { CONNECTIONS } from './failover-harness.js';
import { syncFailover } from './sync-support.js';

t.test('rr, DR, sync: kill -9 of the MASTER breaks 0 of 30; its restart and failback break 0 of 30', { timeout: 300_000 }, async (t) => {
  const run = await syncFailover(t, 'sy1-', { lbAlgo: 'rr', kind: 'DR', sync: true, failback: true });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke in the failover`);
  t.equal(run.brokenAtEnd, 0, `${run.brokenAtEnd} of ${CONNECTIONS} connections broke in the failback`);
  t.ok(run.streams.every((s) => s.bodies.length === 1), 'each connection stayed on its real server throughout');
  t.ok(new Set(run.streams.flatMap((s) => s.bodies)).size === 3, 'rr spread them over the three servers');
  t.ok((run.dir1Stats?.sync_applied ?? 0) >= CONNECTIONS, `the restarted director got the table from the new master (applied ${run.dir1Stats?.sync_applied})`);
  t.ok(run.dir2Stats.sync_resyncs_sent >= 1, 'the new master answered its resync request');
  t.equal(run.dir2Stats.drop_no_flow ?? 0, 0, 'the new master never met a connection it did not know');
});

t.test('wlc, DR, sync: kill -9 of the MASTER breaks 0 of 30', { timeout: 300_000 }, async (t) => {
  const run = await syncFailover(t, 'sy2-', { lbAlgo: 'wlc', kind: 'DR', sync: true, failback: false });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.equal(run.brokenAtEnd, 0, 'none broke afterwards either');
  t.ok(run.dir2Stats.sync_applied >= CONNECTIONS, `the backup held them all (applied ${run.dir2Stats.sync_applied})`);
});

t.test('rr, DR, no sync: the same kill breaks the connections (so the tests above can fail)', { timeout: 300_000 }, async (t) => {
  const run = await syncFailover(t, 'sy3-', { lbAlgo: 'rr', kind: 'DR', sync: false, failback: false });
  t.ok(run.brokenByFailover >= CONNECTIONS - 5, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.ok(run.dir2Stats.drop_no_flow > 0, 'the new master dropped segments of connections it never saw');
});
