// Issue 17 through a real DR director (AF_XDP, TAP) in the lab: an ICMP "fragmentation needed"
// about a real server's reply reaches that real server (tshark in its namespace); echo to the
// VIP is still the kernel's; 4,000-byte UDP datagrams (fragmented by the client's kernel) are
// balanced whole and reassembled intact by the real servers; hand-made fragments sent out of
// order follow their first fragment, or are dropped and counted when they come before it.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import { capture, raw, statsOf, udpServer } from './icmp-fragments-lab.js';

const VIP = '198.18.0.100';

const config = (io: Io): string => `dataplane: { interface: eth0, io: ${io} }
static_ipaddress: [ { address: ${VIP}/32, dev: eth0 } ]
virtual_servers:
  - { vip: ${VIP}, port: 80, protocol: TCP, lb_algo: rr, lb_kind: DR, real_servers: [ { ip: 198.18.0.10, port: 80 } ] }
  - vip: ${VIP}
    port: 9000
    protocol: UDP
    lb_algo: rr
    lb_kind: DR
    real_servers: [ { ip: 198.18.0.10, port: 9000 }, { ip: 198.18.0.20, port: 9000 } ]
`;

export type Io = 'afxdp' | 'tap';

/** The scenario on one backend, in a lab of its own (`prefix`). */
export function icmpFragmentsDr(io: Io, prefix: string): void {
  t.test(`DR: ICMP errors of connections, echo, fragmented UDP (${io})`, async (t) => {
    let director: RunningDirector | null = null;
    const servers: ChildProcess[] = [];
    t.teardown(async () => {
      for (const s of servers) s.kill('SIGKILL');
      await director?.stop();
      await destroyLab({ prefix: prefix });
    });
    const lab = await createLab({ prefix: prefix });
    const client = lab.nodes.client.name;
    const clientIp = lab.nodes.client.ip;
    const dir1 = lab.nodes.dir1.name;
    servers.push(udpServer(lab.nodes.rs1.name, VIP, 9000, 'rs1'), udpServer(lab.nodes.rs2.name, VIP, 9000, 'rs2'));
    director = await startDirector(dir1, writeConfig(config(io)));

    // A connection from a known client port: its entry stays in the table (TIME_WAIT) after it.
    const curl = await labExec(client, ['curl', '-s', '--max-time', '10', '--local-port', '41000', `http://${VIP}/`]);
    t.equal(curl.stdout.trim(), 'rs1', 'the connection went to rs1');

    const rs1 = await capture(lab.nodes.rs1.name, 'eth0', 'icmp', ['ip.src', 'ip.dst', 'icmp.type', 'icmp.code', 'icmp.mtu', 'tcp.dstport', 'icmp.checksum.status'], 1, 20);
    await raw(client, ['icmp-error', VIP, clientIp, '41000', '1400']);
    const seen = await rs1.lines();
    t.equal(seen.length, 1, 'rs1 received the ICMP error');
    const [src, dst, type, code, mtu, dport, csum] = (seen[0] ?? '').split('\t');
    t.same([type, code, mtu], ['3', '4', '1400'], 'fragmentation needed, next-hop MTU 1400, as sent');
    t.equal(src, `${clientIp},${VIP}`, 'outer source the sender, quoted source the VIP');
    t.equal(dst, `${VIP},${clientIp}`, 'outer destination the VIP (DR: unchanged), quoted destination the client');
    t.equal(dport, '41000', 'quoting the connection\'s client port');
    t.equal(csum, '1', 'ICMP checksum good on the wire');

    // An error quoting a port of no connection is dropped and counted; echo is the kernel's.
    const before = await statsOf(dir1);
    await raw(client, ['icmp-error', VIP, clientIp, '41999', '1400']);
    const echo = await raw<{ reply: boolean }>(client, ['echo', VIP]);
    t.equal(echo.reply, true, 'echo request to the VIP answered by the director\'s kernel');
    const after = await statsOf(dir1);
    t.ok(after.icmp_forwarded >= 3, `errors of the connection forwarded (icmp_forwarded ${after.icmp_forwarded})`);
    t.equal(after.drop_icmp_no_flow - before.drop_icmp_no_flow, 3, 'the 3 errors matching no connection counted');

    const udp = await raw<{ answers: { server: string; length: number; intact: boolean }[] }>(client, ['udp', VIP, '9000', '20']);
    t.equal(udp.answers.length, 20);
    t.ok(udp.answers.every((a) => a.length === 4000 && a.intact), 'every 4,000-byte datagram reassembled intact by its real server');
    const by = new Set(udp.answers.map((a) => a.server));
    t.same([...by].sort(), ['rs1', 'rs2'], 'datagrams balanced over both real servers');

    const inOrder = await raw<{ server: string | null; intact?: boolean }>(client, ['frags', clientIp, VIP, '9000', '42000', '021']);
    t.ok(inOrder.server !== null && inOrder.intact, `first, last, middle: delivered intact (${inOrder.server})`);
    const beforeReorder = await statsOf(dir1);
    const early = await raw<{ server: string | null }>(client, ['frags', clientIp, VIP, '9000', '42001', '201']);
    t.equal(early.server, null, 'last fragment before the first: the datagram is not delivered');
    const end = await statsOf(dir1);
    t.equal(end.drop_fragment_no_first - beforeReorder.drop_fragment_no_first, 1, 'the early fragment dropped and counted');
    t.ok(end.fragments >= 60, `fragments forwarded (${end.fragments})`);
  });
}
