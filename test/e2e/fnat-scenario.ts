// Full NAT end to end in the lab built by `ulvs lab up --fnat`: the real servers (198.18.1.0/24)
// have no route beyond their segment, so nothing reaches a client unless the director rewrote
// the source to its local address 198.18.1.200. The same scenario over AF_XDP and TAP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { FNAT_LOCAL_ADDRESS, createLab, destroyLab, labExec, sleep } from '../../src/lab/index.js';
import { REPO, httpFrom, startDirector, tally, ulvsIn, writeConfig, type RunningDirector } from './director.js';
import { capture, statsOf } from './icmp-fragments-lab.js';

export interface FullNatCase { backend: 'afxdp' | 'tap'; prefix: string }

/** Short FIN_WAIT, so a closed connection's port comes back sooner. */
const TIMEOUTS = 'lvs_timeouts: { tcp: 60, tcpfin: 2 }';

export async function fullNatScenario(t: Test, c: FullNatCase): Promise<void> {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await destroyLab({ prefix: c.prefix });
  });
  const lab = await createLab({ prefix: c.prefix, fnat: true });
  const dir1 = lab.nodes.dir1.name;
  const client = lab.nodes.client.name;
  const rs1 = lab.nodes.rs1.name;

  // The premise: a real server cannot reach the client by itself.
  const routes = await labExec(rs1, ['ip', '-4', 'route', 'show']);
  t.notMatch(routes.stdout, /default/, 'the real server has no default route');
  const reach = await labExec(rs1, ['ip', 'route', 'get', lab.nodes.client.ip]);
  t.not(reach.code, 0, `the real server has no route to the client ${lab.nodes.client.ip}`);

  const sample = readFileSync(join(REPO, 'configs', 'lab-fnat.yaml'), 'utf8');
  const config = writeConfig(sample.replace(/io: auto/, `io: ${c.backend}\n  ${TIMEOUTS}`));
  director = await startDirector(dir1, config);
  t.match(director.log(), c.backend === 'afxdp' ? /packets taken with afxdp \(XDP (native|generic) mode\)/ : /packets taken with tap/,
    `director uses ${c.backend}`);
  const addrs = await labExec(dir1, ['ip', '-4', 'addr', 'show', 'dev', 'eth1']);
  t.match(addrs.stdout, new RegExp(`inet ${FNAT_LOCAL_ADDRESS.replace(/\./g, '\\.')}/32`), 'the director holds the local address on eth1');

  // On the wire at rs1: every packet of the VIP's connections is local address <-> rs1.
  const wire = await capture(rs1, 'eth0', 'tcp port 80', ['ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'ip.checksum.status', 'tcp.flags.str'], 200, 40);

  const url = `http://${lab.vip}/`;
  const first = await httpFrom(client, url, 30, 'new');
  t.same(tally(first.bodies), { rs1: 10, rs2: 10, rs3: 10 }, 'rr shares 30 new connections 10/10/10 (no failure)');

  // What the real servers saw as the peer: the local address, a port of its pool.
  const peers = await httpFrom(client, `http://${lab.vip}/client`, 9, 'new');
  for (const peer of peers.bodies) {
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(peer);
    t.ok(m !== null && m[1] === FNAT_LOCAL_ADDRESS && Number(m[2]) >= 20000 && Number(m[2]) <= 29999,
      `the real server saw ${peer} (the local address, a pool port), not the client`);
  }
  t.equal(new Set(peers.bodies).size, peers.bodies.length, 'each connection has its own local port');

  // A long connection keeps its server (and its local port) while new ones spread.
  const [longConn, others] = await Promise.all([httpFrom(client, url, 10, 'keepalive', 100), httpFrom(client, url, 12, 'new')]);
  t.equal(longConn.sockets, 1, 'the long connection is one TCP connection');
  t.equal(new Set(longConn.bodies).size, 1, `its 10 requests answered by one server (${longConn.bodies[0]})`);
  t.notOk(others.bodies.some((b) => b.startsWith('ERR')), 'no new connection failed meanwhile');

  wire.stop();
  const lines = (await wire.lines()).map((l) => l.split('\t'));
  t.ok(lines.length > 20, `tshark at rs1 saw the connections (${lines.length} packets)`);
  const wrong = lines.filter(([src, dst]) => !((src === FNAT_LOCAL_ADDRESS && dst === lab.nodes.rs1.ip) || (src === lab.nodes.rs1.ip && dst === FNAT_LOCAL_ADDRESS)));
  t.same(wrong, [], 'every packet at rs1 is local address <-> rs1 (no client address on the real server\'s wire)');
  t.notOk(lines.some((l) => l[4] === '0'), 'IP checksums good at rs1 (tshark verified)');
  t.ok(lines.some((l) => /F/.test(l[5] ?? '')), 'FINs reach the real server');

  // Connections closed cleanly: none is left ESTABLISHED; then their ports come back.
  const conns = JSON.parse((await ulvsIn(dir1, ['conns', '--json'])).stdout) as { state: string; destination: string }[];
  t.ok(conns.length >= 50, `the connections are listed (${conns.length})`);
  t.same(conns.filter((x) => x.state === 'ESTABLISHED'), [], 'no connection left ESTABLISHED: FINs went both ways');
  const busy = await statsOf(dir1);
  t.ok(busy.local_ports_in_use > 0 && busy.local_ports_in_use <= conns.length,
    `ports in use while the connections linger: ${busy.local_ports_in_use} (<= ${conns.length} listed)`);
  t.equal(busy.drop_local_ports_exhausted, 0, 'no connection refused for ports');
  // IPVS's TIME_WAIT lasts 120 s whatever tcpfin says (ip_vs_proto_tcp.c tcp_timeouts[]).
  let idle = busy;
  for (const deadline = Date.now() + 180_000; Date.now() < deadline && idle.local_ports_in_use !== 0;) {
    await sleep(2_000);
    idle = await statsOf(dir1);
  }
  t.equal(idle.local_ports_in_use, 0, 'every port is back in the pool once the connections expired (TIME_WAIT 120 s)');
  const left = JSON.parse((await ulvsIn(dir1, ['conns', '--json'])).stdout) as unknown[];
  t.equal(left.length, 0, 'and no connection is left');

  const code = await director.stop();
  director = null;
  t.equal(code, 0, 'SIGTERM stops the director cleanly');
  const after = await labExec(dir1, ['ip', '-4', 'addr', 'show']);
  t.notMatch(after.stdout, /198\.18\.1\.200|198\.18\.0\.100/, 'the local address and the VIP are removed');
}
