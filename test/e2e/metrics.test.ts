// Counters, rates and /metrics on a real NAT director (issue 13 parts 2 and 3): after 30 new
// connections through the VIP the list reply shows conns 30 on the service and 10/10/10 on
// the servers, packets in and out grow, /metrics (parsed by a Prometheus parser) carries the
// same values, and `zero` zeroes them.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import type { ServiceStatus } from '../../src/control/format.js';
import { parseMetrics, sample } from '../support/prometheus.js';
import { REPO, httpFrom, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const PREFIX = 'mtm-';
const LISTEN = '127.0.0.1:9650';

t.test('list stats, /metrics and zero after real traffic through the VIP', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await destroyLab({ prefix: PREFIX });
  });
  const lab = await createLab({ prefix: PREFIX, nat: true });
  const ns = lab.nodes.dir1.name;
  const yaml = readFileSync(join(REPO, 'configs', 'lab-nat.yaml'), 'utf8') + `metrics: { listen: ${LISTEN} }\n`;
  director = await startDirector(ns, writeConfig(yaml));
  t.match(director.log(), /metrics served at \/metrics/);

  const list = async (): Promise<ServiceStatus> => {
    const r = await ulvsIn(ns, ['list', '-n', '--json']);
    if (r.code !== 0) throw new Error(`ulvs list: ${r.stderr}`);
    return (JSON.parse(r.stdout) as ServiceStatus[])[0];
  };
  const scrape = async () => {
    const r = await labExec(ns, ['curl', '-sS', '--max-time', '10', `http://${LISTEN}/metrics`]);
    if (r.code !== 0) throw new Error(`curl /metrics: ${r.stderr}`);
    return parseMetrics(r.stdout);
  };

  const first = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 30, 'new');
  t.equal(first.bodies.filter((b) => /^rs[123]$/.test(b)).length, 30, 'the 30 requests were answered');
  const svc = await list();
  t.equal(svc.stats?.conns, 30, 'the service counted 30 connections');
  t.same(svc.realServers.map((r) => r.stats?.conns), [10, 10, 10], 'rr split them 10/10/10');
  t.ok(svc.stats!.inPkts >= 30 * 5, `at least SYN, ACK, request, FIN, ACK per connection in (${svc.stats!.inPkts})`);
  t.ok(svc.stats!.outPkts >= 30 * 3, `NAT replies counted out (${svc.stats!.outPkts})`);
  t.ok(svc.stats!.inBytes >= svc.stats!.inPkts * 40, 'bytes are IP lengths (>= 40 per TCP packet)');
  t.equal(svc.realServers.reduce((n, r) => n + r.stats!.inPkts, 0), svc.stats!.inPkts, 'the servers\' packets add up to the service\'s');
  t.ok(svc.rates, 'the reply carries rates');

  await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 3, 'new');
  const grown = await list();
  t.ok(grown.stats!.inPkts > svc.stats!.inPkts, `inPkts grows (${svc.stats!.inPkts} -> ${grown.stats!.inPkts})`);
  t.equal(grown.stats!.conns, 33);

  const m = await scrape();
  const local = { local_address: '198.18.0.100', local_port: '80', proto: 'TCP' };
  const now = await list();
  t.equal(sample(m, 'ulvs_ipvs_connections_total'), now.stats!.conns, '/metrics total = the list\'s conns');
  t.equal(sample(m, 'ulvs_ipvs_service_connections_total', local), now.stats!.conns);
  t.equal(sample(m, 'ulvs_ipvs_incoming_packets_total'), now.stats!.inPkts, 'idle: the same packets in');
  t.equal(sample(m, 'ulvs_ipvs_outgoing_bytes_total'), now.stats!.outBytes);
  for (const r of now.realServers) {
    const labels = { ...local, remote_address: r.ip, remote_port: String(r.port), local_mark: '' };
    t.equal(sample(m, 'ulvs_ipvs_backend_connections_total', labels), r.stats!.conns, `${r.ip}: conns`);
    t.equal(sample(m, 'ulvs_ipvs_backend_weight', labels), r.weight, `${r.ip}: weight`);
    t.equal(sample(m, 'ulvs_ipvs_backend_connections_inactive', labels)! + sample(m, 'ulvs_ipvs_backend_connections_active', labels)!,
      r.activeConns + r.inactiveConns, `${r.ip}: connections tracked`);
  }
  t.ok((sample(m, 'ulvs_worker_batches_total', { queue: '0' }) ?? 0) > 0, 'worker batches are counted');
  t.equal(sample(m, 'ulvs_flow_table_capacity'), 1048576);

  const notFound = await labExec(ns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${LISTEN}/other`]);
  t.equal(notFound.stdout, '404');

  // ipvsadm -Z through the control socket's `zero` command (one service, then all).
  const zero = (args: Record<string, unknown>) => labExec(ns, [process.execPath, '--input-type=module', '-e',
    `import { requestControl, controlSocketPath } from '${join(REPO, 'dist/src/control/socket.js')}';` +
    `console.log(JSON.stringify(await requestControl(controlSocketPath(), 'zero', ${JSON.stringify(args)})));`]);
  const zeroed = await zero({ service: { protocol: 'TCP', vip: '198.18.0.100', port: 80 } });
  t.equal(zeroed.code, 0, zeroed.stderr);
  t.same(JSON.parse(zeroed.stdout), { zeroed: 4 }, 'the service and its 3 servers');
  const after = await list();
  t.same(after.stats, { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 }, 'the service counts from zero');
  t.same(after.realServers.map((r) => r.stats!.conns), [0, 0, 0]);
  t.same(after.rates, { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 }, 'and its rates restart');
  t.equal(sample(await scrape(), 'ulvs_ipvs_connections_total'), 0, '/metrics shows the zero');
  const unknown = await zero({ service: { protocol: 'TCP', vip: '198.18.0.199', port: 80 } });
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /No such service/);

  await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 6, 'new');
  t.equal((await list()).stats!.conns, 6, 'counting goes on after the zero');
  t.equal((await zero({})).code, 0, 'zero without a service zeroes all');
  t.equal((await list()).stats!.conns, 0);
});
