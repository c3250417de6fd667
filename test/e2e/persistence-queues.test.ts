// Persistence with dataplane.queues 2 (issue 18 part 3) on two-queue veths: RSS spreads one
// client's connections over both queues (the sender's per-socket hash picks the veth queue),
// and persistence_timeout must still keep every one of them on one real server. The workers
// share one template table (SharedPersistenceTable); templates are listed once.
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'pfpq-';
const CONNECTIONS = 40;

t.test('queues 2, rr, persistence_timeout: every connection of a client on one server, both queues used', { timeout: 300_000 }, async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  await destroyLab({ prefix }).catch(() => undefined);
  const lab = await createLab({ prefix, directorQueues: 2 });
  director = await startDirector(lab.nodes.dir1.name, writeConfig(`dataplane: { interface: eth0, io: auto, queues: 2 }
static_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ]
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    persistence_timeout: 300
    real_servers:
${[10, 20, 30].map((n) => `      - { ip: 198.18.0.${n}, port: 80, weight: 1 }\n`).join('')}`));
  t.match(director.log(), /"queue":1[^\n]*packets taken with afxdp/, 'a worker on queue 1');
  const { bodies } = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, CONNECTIONS, 'new');
  t.equal(bodies.length, CONNECTIONS, `${CONNECTIONS} answers`);
  const servers = tally(bodies);
  t.equal(Object.keys(servers).length, 1, `one real server for every connection of the client: ${JSON.stringify(servers)}`);
  const stats = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['stats', '--json'])).stdout) as Record<string, number>;
  t.ok(stats.queue0_rx > 0 && stats.queue1_rx > 0, `both queues received the client's packets (${stats.queue0_rx}, ${stats.queue1_rx}): the test crosses queues`);
  const conns = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['conns', '--json'])).stdout) as Array<{ state: string; source: string }>;
  const templates = conns.filter((c) => c.state === 'NONE');
  t.equal(templates.length, 1, `one template listed (not one per worker): ${JSON.stringify(templates)}`);
  const list = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['list', '--json'])).stdout) as Array<{ realServers: Array<{ persistConns: number }> }>;
  t.equal(list.flatMap((s) => s.realServers).reduce((n, rs) => n + rs.persistConns, 0), 1, 'PersistConn counts the template once');
});
