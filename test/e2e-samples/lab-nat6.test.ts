// lab-nat6.yaml in the NAT lab over AF_XDP: NAT66 (destination rewritten to the real server on
// 2001:2:0:1::/64, its replies steered back by their source and given the VIP) round robin,
// with the IPv4 NAT twin in the same director: rr gives 24/23/23 of 70 new connections in
// each family, and the real servers see the client's own address (no source NAT).
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { ulvsIn, type RunningDirector } from '../e2e/director.js';
import { CONFIGS, checkTraffic, start, stopAll } from './support.js';

const prefix = 'vdn-';
const VIP6 = '2001:2::100';

t.test('lab-nat6.yaml: NAT66 and NAT side by side over AF_XDP', async (t) => {
  const running = new Set<RunningDirector>();
  t.teardown(async () => { await stopAll(running); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix, nat: true });
  const dir1 = lab.nodes.dir1.name;
  const director = await start(dir1, join(CONFIGS, 'lab-nat6.yaml'), running);
  for (const [address, dev] of [[`${VIP6}/128`, 'eth0'], ['2001:2:0:1::254/64', 'eth1']]) {
    const held = await labExec(dir1, ['ip', '-6', 'addr', 'show', 'dev', dev]);
    t.ok(held.stdout.includes(`inet6 ${address}`), `the config's static_ipaddress put ${address} on ${dev}`);
  }
  t.match(director.log(), /packets taken with afxdp/, 'AF_XDP');
  await checkTraffic(t, lab, { url: `http://[${VIP6}]/`, requests: 70, shares: { rs1: 24, rs2: 23, rs3: 23 } });
  await checkTraffic(t, lab, { url: 'http://198.18.0.100/', requests: 70, shares: { rs1: 24, rs2: 23, rs3: 23 } });

  const listed = await ulvsIn(dir1, ['list', '-n']);
  t.equal(listed.code, 0, `ulvs list -n answers ${listed.stderr}`);
  if (listed.code !== 0) t.comment(director.log().slice(-3000));
  const list = listed.stdout;
  t.match(list, /TCP  \[2001:2::100\]:80 rr\n/, 'IPv6 service line');
  for (const n of ['10', '20', '30']) t.match(list, new RegExp(`  -> \\[2001:2:0:1::${n}\\]:80 +Masq +1 `), `[2001:2:0:1::${n}]:80 listed as Masq`);
  const conns = (await ulvsIn(dir1, ['list', '-n', '-c'])).stdout;
  t.match(conns, /TCP .* \[2001:2::1\]:\d+ +\[2001:2::100\]:80 +\[2001:2:0:1::[123]0\]:80/, 'NAT66 connections listed with the client\'s own address');
  const stats = JSON.parse((await ulvsIn(dir1, ['stats', '--json'])).stdout) as Record<string, number>;
  t.equal(stats.drop_reply_no_flow, 0, 'every NAT66 reply matched its connection');
  t.ok(stats.ipv6_forwarded >= 70 * 4, `requests and replies both forwarded (${stats.ipv6_forwarded})`);
});
