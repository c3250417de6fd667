// Hitless reload: 50 reloads that reweight, add and remove a real server while clients keep
// connecting; a long-lived connection to a server that stays survives all of them.
import { writeFileSync } from 'node:fs';
import t from 'tap';

/** Requests of the long keep-alive connection, one every 100 ms. */
const LONG_REQUESTS = 450;
import { createLab, destroyLab, waitFor } from '../../src/lab/index.js';
import { httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'e2rl-';

function config(rs1Weight: number, withRs3: boolean, extra = ''): string {
  return `dataplane: { interface: eth0, io: auto }
static_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ]
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: wrr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80, weight: ${rs1Weight} }
      - { ip: 198.18.0.20, port: 80, weight: 3 }
${withRs3 ? '      - { ip: 198.18.0.30, port: 80, weight: 3 }\n' : ''}${extra}`;
}

t.test('50 reloads under traffic: no failed request, the long connection survives', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const file = writeConfig(config(1, true));
  director = await startDirector(lab.nodes.dir1.name, file);
  const dir1 = lab.nodes.dir1.name;
  const url = `http://${lab.vip}/`;

  // The first new connection of a fresh wrr 1:3:3 goes to rs2, which every config keeps.
  // The clients run long enough that 50 reloads fit inside them even on a busy machine; the
  // test checks that they were still running when the last reload was done.
  const longConn = httpFrom(lab.nodes.client.name, url, LONG_REQUESTS, 'keepalive', 100);
  let longDone = false;
  longConn.then(() => { longDone = true; }, () => { longDone = true; });
  // Once the director tracks the long connection, the stream's connections come after it.
  await waitFor(async () => (JSON.parse((await ulvsIn(dir1, ['conns', '--json'])).stdout) as unknown[]).length > 0, 10_000, 20);
  const stream = httpFrom(lab.nodes.client.name, url, 45_000, 'duration');
  let streamDone = false;
  stream.then(() => { streamDone = true; }, () => { streamDone = true; });

  const reloads = (): number => director!.log().split('configuration reloaded').length - 1;
  const started = Date.now();
  const reloadCodes: number[] = [];
  for (let i = 0; i < 50; i++) {
    writeFileSync(file, config(1 + (i % 5), i % 2 === 1));
    if (i % 10 === 0) {
      reloadCodes.push((await ulvsIn(dir1, ['reload'])).code);
    } else {
      // SIGHUP, as keepalived users send it; wait for the director to say it is done.
      const before = reloads();
      director.process.kill('SIGHUP');
      await waitFor(() => reloads() > before, 10_000, 10);
      reloadCodes.push(reloads() > before ? 0 : 1);
    }
    if (i === 25) {
      writeFileSync(file, config(1, true, '      - { ip: 198.18.0.400, port: 80 }\n'));
      const bad = await ulvsIn(dir1, ['reload']);
      t.equal(bad.code, 2, 'an invalid config is rejected (exit 2)');
      t.match(bad.stderr, /:13:\d+: .*198\.18\.0\.400/, 'with its FILE:LINE:COL');
      t.match(bad.stderr, /running configuration is unchanged/, 'and says the running config stays');
    }
  }
  t.same(reloadCodes, Array(50).fill(0), 'all 50 reloads applied');
  t.ok(!longDone && !streamDone, `the reloads all happened while the clients ran (${Date.now() - started} ms)`);
  const list = (await ulvsIn(dir1, ['list', '-n'])).stdout;
  t.match(list, /-> 198\.18\.0\.30:80 +Route +3 /, 'the last config (rs3 back) is running');
  t.match(list, /-> 198\.18\.0\.10:80 +Route +5 /, 'with rs1 reweighted to 5');

  const [long, traffic] = await Promise.all([longConn, stream]);
  const failures = traffic.bodies.filter((b) => !/^rs[123]$/.test(b));
  t.ok(traffic.bodies.length > 200, `the client kept connecting (${traffic.bodies.length} requests)`);
  t.same(failures, [], 'no request failed across the reloads');
  const shares = tally(traffic.bodies);
  t.ok(shares.rs1 > 0 && shares.rs2 > 0 && shares.rs3 > 0, `requests went to every server (${JSON.stringify(shares)})`);
  t.equal(long.sockets, 1, 'the long connection is one TCP connection');
  t.same(new Set(long.bodies), new Set(['rs2']), `all ${LONG_REQUESTS} requests of the long connection answered by rs2`);

  // The first health check can arrive with a reload: rs3 checked on a closed port leaves the table.
  writeFileSync(file, config(1, false,
    '      - { ip: 198.18.0.30, port: 80, weight: 3, tcp_check: { connect_port: 9, connect_timeout: 1, retry: 0, delay_loop: 1 } }\n'));
  t.equal((await ulvsIn(dir1, ['reload'])).code, 0, 'a reload that adds the first health check');
  let listed = '';
  await waitFor(async () => { listed = (await ulvsIn(dir1, ['list', '-n'])).stdout; return !listed.includes('198.18.0.30'); }, 8000, 200);
  t.notMatch(listed, /198\.18\.0\.30/, 'the check runs and takes rs3 out');
  t.match(director.log(), /real server 198\.18\.0\.30:80 is down/, 'and the director logs it');
});
