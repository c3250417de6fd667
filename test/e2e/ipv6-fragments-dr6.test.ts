// IPv6 fragments through a real DR director (issue 16), over AF_XDP and over TAP (whose tc u32
// filters must steer IPv6 fragments of the service to ulvs): 4,000-byte UDP datagrams from the
// client (its kernel fragments them: a first fragment with the ports, later ones without) go
// to [2001:2::100]:9000, are balanced over rs1 and rs2 (which hold the VIP on lo, as DR needs)
// and reassemble intact there; each server's 3,000-byte answer goes straight back to the client
// from the VIP. Later fragments follow their first one (src/dataplane/fragments6.ts): a later
// fragment sent to the other server would leave both datagrams unreassembled.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import { raw, statsOf, udpServer } from './icmp-fragments-lab.js';

const VIP6 = '2001:2::100';
const DATAGRAMS = 20;

const config = (io: 'afxdp' | 'tap'): string => `dataplane: { interface: eth0, io: ${io} }
static_ipaddress:
  - { address: "${VIP6}/128", dev: eth0 }
virtual_servers:
  - vip: "${VIP6}"
    port: 9000
    protocol: UDP
    lb_algo: rr
    lb_kind: DR
    real_servers: [ { ip: "2001:2::10", port: 9000 }, { ip: "2001:2::20", port: 9000 } ]
`;

for (const [io, prefix] of [['afxdp', 'e6da-'], ['tap', 'e6dt-']] as const) {
  t.test(`DR over IPv6: fragmented UDP balanced and reassembled intact (${io})`, async (t) => {
    let director: RunningDirector | null = null;
    const servers: ChildProcess[] = [];
    t.teardown(async () => {
      for (const s of servers) s.kill('SIGKILL');
      await director?.stop();
      await destroyLab({ prefix });
    });
    const lab = await createLab({ prefix });
    const dir1 = lab.nodes.dir1.name;
    servers.push(udpServer(lab.nodes.rs1.name, '::', 9000, 'rs1'), udpServer(lab.nodes.rs2.name, '::', 9000, 'rs2'));
    director = await startDirector(dir1, writeConfig(config(io)));
    t.match(director.log(), new RegExp(`packets taken with ${io}`), io);
    const before = await statsOf(dir1);

    const udp = await raw<{ answers: { server: string | null; length: number; intact: boolean; replyBytes: number }[] }>(
      lab.nodes.client.name, ['udp', VIP6, '9000', String(DATAGRAMS)]);
    t.equal(udp.answers.length, DATAGRAMS);
    t.ok(udp.answers.every((a) => a.length === 4000 && a.intact), 'every 4,000-byte datagram reassembled intact at a real server');
    t.ok(udp.answers.every((a) => a.replyBytes === 3000), 'every 3,000-byte answer (straight from the server) reassembled at the client');
    t.same([...new Set(udp.answers.map((a) => a.server))].sort(), ['rs1', 'rs2'], 'balanced over both real servers');
    const stats = await statsOf(dir1);
    const moved = (k: string): number => (stats[k] ?? 0) - (before[k] ?? 0);
    // 3 fragments per request at MTU 1500; answers do not cross a DR director.
    t.ok(moved('fragments') >= DATAGRAMS * 2, `later request fragments followed their first (${moved('fragments')})`);
    t.equal(moved('drop_fragment_no_first'), 0, 'no fragment arrived without its first');
    t.equal(moved('drop_fragment_forged'), 0, 'none taken for forged');
  });
}
