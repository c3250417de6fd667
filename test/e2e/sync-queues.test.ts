// Connection sync with dataplane.queues 2 on two-queue veths: every worker holds each synced
// flow (the kernel spreads flows over the queues by a hash ulvs cannot compute), one counts
// it. After `kill -9` of the MASTER the 30 streaming connections go on (0 broken), and the
// backup counts each once: ActiveConn sums to 30 and `ulvs conns` lists 30, not 60. The same
// over IPv6 (issue 16: IPv6 claims travel as three-slot records in the claims ring).
import t from 'tap';
import { CONNECTIONS } from './failover-harness.js';
import { ulvsIn } from './director.js';
import { syncFailover } from './sync-support.js';

interface Service { realServers: Array<{ activeConns: number; inactiveConns: number }> }

t.test('queues 2, rr, DR, sync: kill -9 of the MASTER breaks 0 of 30, and the new master counts each connection once', { timeout: 300_000 }, async (t) => {
  let activeAfter = -1, listedAfter = -1;
  const run = await syncFailover(t, 'sy9-', { lbAlgo: 'rr', kind: 'DR', sync: true, failback: false, queues: 2 }, undefined, async (lab) => {
    const services = JSON.parse((await ulvsIn(lab.nodes.dir2.name, ['list', '--json'])).stdout) as Service[];
    activeAfter = services.flatMap((s) => s.realServers).reduce((sum, rs) => sum + rs.activeConns, 0);
    const conns = JSON.parse((await ulvsIn(lab.nodes.dir2.name, ['list', '-c', '--json'])).stdout) as Array<{ state: string }>;
    listedAfter = conns.filter((c) => c.state === 'ESTABLISHED').length;
  });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.equal(activeAfter, CONNECTIONS, `ActiveConn on the new master sums to ${activeAfter}`);
  t.equal(listedAfter, CONNECTIONS, `the new master lists ${listedAfter} ESTABLISHED connections`);
  t.comment(`claims (flows whose traffic came in on another worker than the one counting them): ${run.dir2Stats.sync_claims}`);
  t.ok(run.dir2Stats.sync_claims > 0, 'some flows landed on the other queue and moved their count (so the test exercises the claim)');
});

t.test('IPv6, queues 2, rr, DR, sync: kill -9 of the MASTER breaks 0 of 30, and the new master counts each connection once', { timeout: 300_000 }, async (t) => {
  let activeAfter = -1, listedAfter = -1;
  const run = await syncFailover(t, 'sy8-', { lbAlgo: 'rr', kind: 'DR', sync: true, failback: false, queues: 2, family: 6 }, undefined, async (lab) => {
    const services = JSON.parse((await ulvsIn(lab.nodes.dir2.name, ['list', '--json'])).stdout) as Service[];
    activeAfter = services.flatMap((s) => s.realServers).reduce((sum, rs) => sum + rs.activeConns, 0);
    const conns = JSON.parse((await ulvsIn(lab.nodes.dir2.name, ['list', '-c', '--json'])).stdout) as Array<{ state: string }>;
    listedAfter = conns.filter((c) => c.state === 'ESTABLISHED').length;
  });
  t.equal(run.brokenByFailover, 0, `${run.brokenByFailover} of ${CONNECTIONS} connections broke`);
  t.equal(activeAfter, CONNECTIONS, `ActiveConn on the new master sums to ${activeAfter}`);
  t.equal(listedAfter, CONNECTIONS, `the new master lists ${listedAfter} ESTABLISHED connections`);
  t.comment(`claims (flows whose traffic came in on another worker than the one counting them): ${run.dir2Stats.sync_claims}`);
  t.ok(run.dir2Stats.sync_claims > 0, 'some flows landed on the other queue and moved their count (so the test exercises the claim)');
});
