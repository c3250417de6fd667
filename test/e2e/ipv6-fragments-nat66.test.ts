// IPv6 fragments through a real NAT66 director over AF_XDP (issue 16): 4,000-byte UDP datagrams
// from the client (its kernel fragments them: a first fragment with the ports, later ones
// without) go to [2001:2::100]:9000, are balanced over two real servers on 2001:2:0:1::/64
// (port 9001), and reassemble intact there; each server's 3,000-byte answer (fragmented by its
// kernel) comes back as from the VIP and reassembles at the client. Later fragments follow
// their first fragment (src/dataplane/fragments6.ts); the hand-made out-of-order and forged
// cases are in test/dataplane/ipv6-fragments.test.ts.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import { raw, statsOf, udpServer } from './icmp-fragments-lab.js';

const prefix = 'e6fr-';
const VIP6 = '2001:2::100';
const DATAGRAMS = 20;

const config = `dataplane: { interface: eth0, inside: eth1, io: afxdp }
static_ipaddress:
  - { address: "${VIP6}/128", dev: eth0 }
  - { address: "2001:2:0:1::254/64", dev: eth1 }
virtual_servers:
  - vip: "${VIP6}"
    port: 9000
    protocol: UDP
    lb_algo: rr
    lb_kind: NAT
    real_servers: [ { ip: "2001:2:0:1::10", port: 9001 }, { ip: "2001:2:0:1::20", port: 9001 } ]
`;

t.test('NAT66: fragmented UDP both ways, balanced, reassembled intact (AF_XDP)', async (t) => {
  let director: RunningDirector | null = null;
  const servers: ChildProcess[] = [];
  t.teardown(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await director?.stop();
    await destroyLab({ prefix });
  });
  const lab = await createLab({ prefix, nat: true });
  const dir1 = lab.nodes.dir1.name;
  servers.push(udpServer(lab.nodes.rs1.name, '::', 9001, 'rs1'), udpServer(lab.nodes.rs2.name, '::', 9001, 'rs2'));
  director = await startDirector(dir1, writeConfig(config));
  t.match(director.log(), /packets taken with afxdp/, 'AF_XDP');
  const before = await statsOf(dir1);

  const udp = await raw<{ answers: { server: string | null; length: number; intact: boolean; replyBytes: number }[] }>(
    lab.nodes.client.name, ['udp', VIP6, '9000', String(DATAGRAMS)]);
  t.equal(udp.answers.length, DATAGRAMS);
  t.ok(udp.answers.every((a) => a.length === 4000 && a.intact), 'every 4,000-byte datagram reassembled intact at a real server');
  t.ok(udp.answers.every((a) => a.replyBytes === 3000), 'every 3,000-byte (fragmented) answer reassembled at the client');
  t.same([...new Set(udp.answers.map((a) => a.server))].sort(), ['rs1', 'rs2'], 'balanced over both real servers');
  const stats = await statsOf(dir1);
  const moved = (k: string): number => (stats[k] ?? 0) - (before[k] ?? 0);
  // 3 fragments each way per datagram at MTU 1500 (retries would add more).
  t.ok(moved('fragments') >= DATAGRAMS * 6, `request and answer fragments forwarded (${moved('fragments')})`);
  t.equal(moved('drop_fragment_no_first'), 0, 'no fragment arrived without its first');
  t.equal(moved('drop_fragment_forged'), 0, 'none taken for forged');
  t.equal(moved('drop_reply_no_flow'), 0, 'every answer matched its connection');
});
