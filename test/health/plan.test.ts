// From a real ulvs.yaml (through src/config's loader) to running health checks. The real servers
// are lab addresses checked through connect_ip/connect_port on local listeners: a real server at
// 127.0.0.1 on another port than the VIP's is refused (Local forwarding cannot rewrite ports).
import t from 'tap';
import net from 'node:net';
import { loadConfigText } from '../../src/config/load.js';
import { healthPlan } from '../../src/health/plan.js';
import { HealthManager, type HealthEvent } from '../../src/health/manager.js';
import { waitFor } from '../../src/lab/index.js';
import { ManualClock, trackedChecks } from '../support/manual-clock.js';

t.test('config -> plan -> manager, with probe sharing across services', async (t) => {
  let connections = 0;
  const srv = net.createServer((s) => { connections++; s.on('error', () => {}); s.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as net.AddressInfo).port;
  const srv2 = net.createServer((s) => { connections++; s.on('error', () => {}); s.on('data', () => s.end('HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nok')); });
  await new Promise<void>((r) => srv2.listen(0, '127.0.0.1', r));
  t.teardown(() => srv2.close());
  const port2 = (srv2.address() as net.AddressInfo).port;
  const yaml = `
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    lb_kind: DR
    delay_loop: 0.2
    sorry_server: { ip: 198.18.0.2, port: 8080 }
    quorum: 1
    real_servers:
      - ip: 198.18.0.201
        port: 80
        weight: 2
        notify_up: "/bin/true up"
        tcp_check: { connect_ip: 127.0.0.1, connect_port: ${port}, connect_timeout: 1, retry: 0, warmup: 0 }
      - ip: 198.18.0.202
        port: 80
        weight: 1
        http_get:
          url: [ { path: /, status_code: "200-299 404", regex: "ok" } ]
          connect_ip: 127.0.0.1
          connect_port: ${port2}
          connect_timeout: 1
          retry: 0
          warmup: 0
  - vip: 198.18.0.100
    port: 443
    lb_kind: DR
    delay_loop: 0.2
    real_servers:
      - ip: 198.18.0.201
        port: 80
        tcp_check: { connect_ip: 127.0.0.1, connect_port: ${port}, connect_timeout: 1, retry: 0, warmup: 0 }
      - ip: 198.18.0.99
        port: 80
`;
  const { config } = loadConfigText(yaml, 'plan-test.yaml');
  const plan = healthPlan(config);
  t.equal(plan.checks.length, 3);
  t.same(plan.services.map((s) => s.id), ['198.18.0.100:80/TCP', '198.18.0.100:443/TCP']);
  t.same(plan.services[0].sorry_server, { ip: '198.18.0.2', port: 8080 });
  t.same(plan.services[1].uncheckedRealServers, [{ rsKey: '198.18.0.99:80', weight: 1 }], 'a real server without checks still counts');
  t.equal(plan.checks[0].notify_up, '/bin/true up');
  const clock = new ManualClock();
  const checks = trackedChecks();
  const hm = new HealthManager(plan.checks, { services: plan.services, clock, runner: checks.runner });
  t.equal(hm.probeCount, 2, 'the two identical tcp_checks (different services) share one probe; http_get is its own');
  const events: HealthEvent[] = [];
  hm.on('change', (e) => events.push(e));
  hm.start();
  t.teardown(() => hm.stop());
  await clock.advance(700, checks.settle);
  await hm.stop();
  const runs = [...hm.probeRuns().values()].reduce((a, b) => a + b, 0);
  await waitFor(() => connections >= runs, 1000); // the server's accept events trail the probes'
  t.equal(connections, runs, `one connection per probe run (${connections})`);
  t.ok(hm.status().every((m) => m.up), `all up: ${JSON.stringify(hm.status().map((m) => m.reason))}`);
  t.same(events[0].serviceIds.sort(), ['198.18.0.100:443/TCP', '198.18.0.100:80/TCP'], 'one event for the shared endpoint');
});
