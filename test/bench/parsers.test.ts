// The bench's readers of /proc and of wrk's output, from fixture text.
import t from 'tap';
import { machineBusySeconds, processCpuSeconds, machineInfo } from '../../bench/sys.js';
import { parseWrk } from '../../bench/experiments.js';
import { directorConfig } from '../../bench/lab.js';
import { labNodes } from '../../src/lab/index.js';

const labNodesForTest = (prefix: string, nat: boolean) => labNodes(prefix, { nat });

t.test('/proc/stat: busy = user + nice + system + irq + softirq + steal, in seconds', async (t) => {
  const stat = 'cpu  1000 20 300 50000 400 5 6 7 0 0\ncpu0 500 10 150 25000 200 2 3 3 0 0\nintr 1\n';
  t.equal(machineBusySeconds(stat), (1000 + 20 + 300 + 5 + 6 + 7) / 100);
  t.throws(() => machineBusySeconds('intr 1\n'), /no cpu line/);
  t.ok(machineBusySeconds() > 0, 'reads the real /proc/stat');
});

t.test('/proc/PID/stat: utime + stime even when the name holds spaces and parentheses', async (t) => {
  const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '250', '75', '0', '0', '20', '0', '8'];
  t.equal(processCpuSeconds(1, `1234 (node (worker) x) ${fields.join(' ')}\n`), 3.25);
  t.ok(processCpuSeconds(process.pid) >= 0, 'reads our own');
  const m = machineInfo();
  t.ok(m.cores >= 1 && m.kernel.length > 0 && m.node.startsWith('v'));
});

t.test('wrk: requests/s, request count and p99 in ms from each unit', async (t) => {
  const out = (p99: string) => `Running 3s test @ http://198.18.0.100:8080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.00us  1.20ms  30.00ms   95.00%
    Req/Sec    47.13k     2.00k   50.00k    70.00%
  Latency Distribution
     50%  400.00us
     75%  500.00us
     90%  700.00us
     99%  ${p99}
  141402 requests in 3.00s, 20.00MB read
Requests/sec:  47134.00
Transfer/sec:      6.67MB
`;
  t.same(parseWrk(out('21.99ms')), { rps: 47134, requests: 141402, p99Ms: 21.99, errors: 0 });
  t.equal(parseWrk(out('850.00us')).p99Ms, 0.85);
  t.equal(parseWrk(out('1.50s')).p99Ms, 1500);
  t.equal(parseWrk(out('2.00ms').replace('Requests/sec', 'Non-2xx or 3xx responses: 12\nRequests/sec')).errors, 12);
  t.throws(() => parseWrk('unable to connect to 198.18.0.100:8080 Connection refused'), /cannot read wrk's output/);
});

t.test('director config: DR and NAT labs, extra services', async (t) => {
  const dr = directorConfig({ prefix: 'x-', nat: false, nodes: labNodesForTest('x-', false) }, { io: 'afxdp' });
  t.match(dr, /io: afxdp, conn_table_size: 1048576/);
  t.match(dr, /lb_kind: DR/);
  t.match(dr, /- \{ ip: 198\.18\.0\.30, port: 9000 \}/);
  t.notMatch(dr, /inside/);
  t.notMatch(dr, /port: 8080/);
  const nat = directorConfig({ prefix: 'x-', nat: true, nodes: labNodesForTest('x-', true) }, { io: 'tap', connTableSize: 2097152, extraServices: true });
  t.match(nat, /interface: eth0, inside: eth1, io: tap, conn_table_size: 2097152/);
  t.match(nat, /198\.18\.1\.254\/24, dev: eth1/);
  t.match(nat, /lb_kind: NAT/);
  t.match(nat, /- \{ ip: 198\.18\.1\.10, port: 8080 \}/);
  t.match(nat, /port: 7007\n    protocol: UDP/);
});
