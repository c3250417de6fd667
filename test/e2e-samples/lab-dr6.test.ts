// lab-dr6.yaml on lab-dir1 over AF_XDP: a dual-stack DR service pair (the same three servers
// behind an IPv4 and an IPv6 VIP) in one director. wrr 1:3:3 gives exactly 10/30/30 of 70 new
// connections over IPv6 (next hops found by NDP in the kernel's neighbour table) and over
// IPv4 in the same run; `ulvs list -n` prints the IPv6 service and its connections as ipvsadm does.
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { ulvsIn, type RunningDirector } from '../e2e/director.js';
import { CONFIGS, checkTraffic, start, stopAll } from './support.js';

const prefix = 'vda-';
const VIP6 = '2001:2::100';

t.test('lab-dr6.yaml: DR over IPv6 and IPv4 side by side over AF_XDP', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  const director = await start(dir1, join(CONFIGS, 'lab-dr6.yaml'), running);
  const held = await labExec(dir1, ['ip', '-6', 'addr', 'show', 'dev', 'eth0']);
  t.match(held.stdout, /inet6 2001:2::100\/128/, `the config's static_ipaddress put ${VIP6} on dir1 (it answers the client's neighbour solicitation)`);
  t.match(director.log(), /packets taken with afxdp/, 'AF_XDP');
  await checkTraffic(t, lab, { url: `http://[${VIP6}]/`, requests: 70, shares: { rs1: 10, rs2: 30, rs3: 30 } });
  await checkTraffic(t, lab, { url: 'http://198.18.0.100/', requests: 70, shares: { rs1: 10, rs2: 30, rs3: 30 } });

  const listed = await ulvsIn(dir1, ['list', '-n']);
  t.equal(listed.code, 0, `ulvs list -n answers ${listed.stderr}`);
  const list = listed.stdout;
  t.match(list, /TCP  \[2001:2::100\]:80 wrr\n/, 'IPv6 service line as ipvsadm prints it');
  for (const [n, w] of [['10', 1], ['20', 3], ['30', 3]]) {
    t.match(list, new RegExp(`  -> \\[2001:2::${n}\\]:80 +Route +${w} +\\d+ +\\d+`), `real server [2001:2::${n}]:80 listed`);
  }
  t.match(list, /TCP  198\.18\.0\.100:80 wrr\n/, 'the IPv4 twin listed beside it');
  const listedJson = await ulvsIn(dir1, ['list', '-n', '--json']);
  t.equal(listedJson.code, 0, `ulvs list -n --json answers ${listedJson.stderr}`);
  const json = JSON.parse(listedJson.stdout) as
    { vip: string; realServers: { activeConns: number; inactiveConns: number }[] }[];
  const v6 = json.find((s) => s.vip === VIP6)!;
  t.same(v6.realServers.map((r) => r.activeConns + r.inactiveConns), [10, 30, 30], 'every IPv6 connection tracked against its server');
  const conns = (await ulvsIn(dir1, ['list', '-n', '-c'])).stdout;
  t.match(conns, /TCP .* \[2001:2::1\]:\d+ +\[2001:2::100\]:80 +\[2001:2::[123]0\]:80/, 'IPv6 connections listed');

  const stats = JSON.parse((await ulvsIn(dir1, ['stats', '--json'])).stdout) as Record<string, number>;
  t.ok(stats.ipv6_forwarded > 0, `IPv6 packets forwarded (${stats.ipv6_forwarded})`);
  t.equal(stats.drop_no_neighbour, 0, 'every IPv6 next hop resolved');
});
