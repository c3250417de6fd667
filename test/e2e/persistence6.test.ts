// IPv6 persistence (issue 16) over AF_XDP with dataplane.queues 2: persistence_timeout with
// persistence_granularity 64 (ipvsadm -M 64) keeps every connection of a client on one real
// server whichever queue RSS puts it on (the workers share the IPv6 template table), a second
// client of the same /64 goes to that server too, and the template is listed once, with the
// masked prefix as its client, as ipvsadm -Lnc does.
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { HTTP_CLIENT, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'h6p-';
const CONNECTIONS = 20;
const SECOND_CLIENT = '2001:2::1:5';

async function requestsFrom(namespace: string, localAddress: string): Promise<string[]> {
  const r = await labExec(namespace, [process.execPath, HTTP_CLIENT, 'http://[2001:2::100]/', String(CONNECTIONS), 'new', '0', localAddress], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`http client failed (${r.code}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { bodies: string[] }).bodies;
}

t.test('IPv6 persistence, granularity /64, queues 2: one server per prefix, one shared template', { timeout: 300_000 }, async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  await destroyLab({ prefix }).catch(() => undefined);
  const lab = await createLab({ prefix, directorQueues: 2 });
  const client = lab.nodes.client.name;
  t.equal((await labExec(client, ['ip', '-6', 'addr', 'add', `${SECOND_CLIENT}/64`, 'dev', 'eth0', 'nodad'])).code, 0, 'a second client address in 2001:2::/64');
  director = await startDirector(lab.nodes.dir1.name, writeConfig(`dataplane: { interface: eth0, io: auto, queues: 2 }
static_ipaddress: [ { address: "2001:2::100/128", dev: eth0 } ]
virtual_servers:
  - vip: "2001:2::100"
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    persistence_timeout: 300
    persistence_granularity: 64
    real_servers:
${[10, 20, 30].map((n) => `      - { ip: "2001:2::${n}", port: 80, weight: 1 }\n`).join('')}`));
  t.match(director.log(), /"queue":1[^\n]*packets taken with afxdp/, 'a worker on queue 1');
  const first = tally(await requestsFrom(client, '2001:2::1'));
  t.equal(Object.keys(first).length, 1, `every connection of 2001:2::1 on one real server: ${JSON.stringify(first)}`);
  t.equal(Object.values(first)[0], CONNECTIONS, 'all answered');
  const second = tally(await requestsFrom(client, SECOND_CLIENT));
  t.same(second, first, `${SECOND_CLIENT} (same /64) goes to the same server`);
  const stats = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['stats', '--json'])).stdout) as Record<string, number>;
  t.ok(stats.queue0_rx > 0 && stats.queue1_rx > 0, `both queues received the clients' packets (${stats.queue0_rx}, ${stats.queue1_rx}): the test crosses queues`);
  const conns = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['conns', '--json'])).stdout) as Array<{ state: string; source: string; destination: string }>;
  const templates = conns.filter((c) => c.state === 'NONE');
  t.same(templates.map((c) => c.source), ['[2001:2::]:0'], `one template, the /64 as its client, listed once: ${JSON.stringify(templates)}`);
  const server = Object.keys(first)[0];
  t.equal(templates[0]?.destination, `[2001:2::${server.slice(2)}0]:80`, 'naming the chosen server');
  const list = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['list', '--json'])).stdout) as Array<{ realServers: Array<{ persistConns: number }> }>;
  t.equal(list.flatMap((s) => s.realServers).reduce((n, rs) => n + rs.persistConns, 0), 1, 'PersistConn counts the template once');
  const listing = (await ulvsIn(lab.nodes.dir1.name, ['ipvsadm', '-Ln'])).stdout;
  t.match(listing, /TCP {2}\[2001:2::100\]:80 rr persistent 300 mask 64/, 'ipvsadm -Ln prints the persistence as ipvsadm');
});
