// End-to-end forwarding through a real director in the lab: the same scenario for DR and NAT,
// over AF_XDP and over TAP (one test file per combination, each with its own lab prefix).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { createLab, destroyLab, labExec, type LabTopology } from '../../src/lab/index.js';
import { REPO, httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';

export interface ForwardingCase { mode: 'dr' | 'nat'; backend: 'afxdp' | 'tap'; prefix: string }

/** Starts a throwaway HTTP server on the director's own address: proves the kernel still gets its traffic. */
async function startKernelServer(lab: LabTopology): Promise<void> {
  const ns = lab.nodes.dir1.name;
  const script = `require('http').createServer((q,s)=>s.end('dir1-kernel\\n')).listen(8080,'${lab.nodes.dir1.ip}')`;
  const r = await labExec(ns, ['sh', '-c', `nohup ${process.execPath} -e "${script}" >/dev/null 2>&1 & echo $!`]);
  if (r.code !== 0) throw new Error(`cannot start kernel-side server: ${r.stderr}`);
  await new Promise((res) => setTimeout(res, 500));
}

export async function forwardingScenario(t: Test, c: ForwardingCase): Promise<void> {
  const nat = c.mode === 'nat';
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await labExec(`${c.prefix}dir1`, ['pkill', '-f', 'dir1-kernel']).catch(() => undefined);
    await destroyLab({ prefix: c.prefix });
  });
  const lab = await createLab({ prefix: c.prefix, nat });
  const sample = readFileSync(join(REPO, 'configs', nat ? 'lab-nat.yaml' : 'lab-dr.yaml'), 'utf8');
  const config = writeConfig(sample.replace(/io: auto/, `io: ${c.backend}`));
  director = await startDirector(lab.nodes.dir1.name, config);
  t.match(director.log(), c.backend === 'afxdp' ? /packets taken with afxdp \(XDP (native|generic) mode\)/ : /packets taken with tap/,
    `director uses ${c.backend}`);

  const client = lab.nodes.client.name;
  const url = `http://${lab.vip}/`;
  const first = await httpFrom(client, url, 70, 'new');
  const shares = tally(first.bodies);
  if (nat) t.same(shares, { rs1: 24, rs2: 23, rs3: 23 }, 'rr shares 70 new connections 24/23/23');
  else t.same(shares, { rs1: 10, rs2: 30, rs3: 30 }, 'wrr 1:3:3 shares 70 new connections 10/30/30');

  const list = await ulvsIn(lab.nodes.dir1.name, ['list', '-n']);
  t.equal(list.code, 0, 'ulvs list -n answers');
  t.match(list.stdout, /^IP Virtual Server version 1\.2\.1 \(size=\d+\)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n/,
    'ipvsadm -Ln header');
  t.match(list.stdout, new RegExp(`TCP  198\\.18\\.0\\.100:80 ${nat ? 'rr' : 'wrr'}\\n`), 'service line');
  const forward = nat ? 'Masq' : 'Route';
  const rsNet = nat ? '198.18.1' : '198.18.0';
  for (const [n, weight] of [[10, nat ? 1 : 1], [20, nat ? 1 : 3], [30, nat ? 1 : 3]]) {
    t.match(list.stdout, new RegExp(`  -> ${rsNet}\\.${n}:80 +${forward} +${weight} +\\d+ +\\d+`), `real server .${n} listed as ${forward}`);
  }
  const json = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['list', '-n', '--json'])).stdout) as
    { realServers: { activeConns: number; inactiveConns: number }[] }[];
  const tracked = json[0].realServers.map((r) => r.activeConns + r.inactiveConns);
  t.same(tracked, nat ? [24, 23, 23] : [10, 30, 30], 'every connection is tracked against its real server');

  // A long connection stays on one real server while new connections are spread around it.
  const [longConn, others] = await Promise.all([
    httpFrom(client, url, 15, 'keepalive', 100),
    httpFrom(client, url, 20, 'new'),
  ]);
  t.equal(longConn.sockets, 1, 'the long connection is one TCP connection');
  t.equal(new Set(longConn.bodies).size, 1, `all 15 requests of the long connection answered by one server (${longConn.bodies[0]})`);
  t.ok(/^rs[123]$/.test(longConn.bodies[0]), 'the long connection was answered');
  t.ok(new Set(others.bodies).size > 1, 'new connections meanwhile go to several servers');
  t.notOk(others.bodies.some((b) => b.startsWith('ERR')), 'no new connection failed');

  // The director's own address still reaches its kernel while ulvs runs.
  await startKernelServer(lab);
  const own = await httpFrom(client, `http://${lab.nodes.dir1.ip}:8080/`, 3, 'new');
  t.same(own.bodies, ['dir1-kernel', 'dir1-kernel', 'dir1-kernel'], 'traffic to the director\'s own address reaches its kernel');

  const stats = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['stats', '--json'])).stdout) as Record<string, number>;
  t.ok(stats.rx > 0 && stats.tx > 0, `counters move (rx ${stats.rx}, tx ${stats.tx})`);

  const code = await director.stop();
  director = null;
  t.equal(code, 0, 'SIGTERM stops the director cleanly');
  const dir1 = lab.nodes.dir1.name;
  const links = await labExec(dir1, ['ip', '-d', 'link', 'show']);
  t.notMatch(links.stdout, /prog\/xdp|xdpgeneric|xdpdrv/, 'no XDP program left attached');
  t.notMatch(links.stdout, /ulvs/, 'no tap device left');
  const addrs = await labExec(dir1, ['ip', '-4', 'addr', 'show']);
  t.notMatch(addrs.stdout, /198\.18\.0\.100/, 'the VIP is removed');
  const tc = await labExec(dir1, ['tc', 'filter', 'show', 'dev', 'eth0', 'ingress']);
  t.equal(tc.stdout.trim(), '', 'no tc filter left');
}
