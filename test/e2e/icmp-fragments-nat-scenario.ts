// Issue 17 through a real NAT director (AF_XDP, TAP) in the lab: an ICMP error about a reply
// reaches the real server with outer and quoted headers rewritten (tshark in its namespace,
// checksums checked); a real server's port unreachable reaches the client's socket as from
// the VIP; 4,000-byte UDP datagrams (fragmented) go to a translated port and come back as
// 3,000-byte fragmented replies, all reassembled intact.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { startDirector, writeConfig, type RunningDirector } from './director.js';
import { capture, raw, statsOf, udpServer } from './icmp-fragments-lab.js';

const VIP = '198.18.0.100';

const config = (io: Io): string => `dataplane: { interface: eth0, inside: eth1, io: ${io} }
static_ipaddress:
  - { address: ${VIP}/32, dev: eth0 }
  - { address: 198.18.1.254/24, dev: eth1 }
virtual_servers:
  - { vip: ${VIP}, port: 80, protocol: TCP, lb_algo: rr, lb_kind: NAT, real_servers: [ { ip: 198.18.1.10, port: 80 } ] }
  - vip: ${VIP}
    port: 9000
    protocol: UDP
    lb_algo: rr
    lb_kind: NAT
    real_servers: [ { ip: 198.18.1.10, port: 9001 }, { ip: 198.18.1.20, port: 9001 } ]
  - { vip: ${VIP}, port: 9002, protocol: UDP, lb_algo: rr, lb_kind: NAT, real_servers: [ { ip: 198.18.1.10, port: 9002 } ] }
`;

export type Io = 'afxdp' | 'tap';

/** The scenario on one backend, in a lab of its own (`prefix`). */
export function icmpFragmentsNat(io: Io, prefix: string): void {
  t.test(`NAT: ICMP errors rewritten both ways, fragmented UDP both ways (${io})`, async (t) => {
    let director: RunningDirector | null = null;
    const servers: ChildProcess[] = [];
    t.teardown(async () => {
      for (const s of servers) s.kill('SIGKILL');
      await director?.stop();
      await destroyLab({ prefix: prefix });
    });
    const lab = await createLab({ prefix: prefix, nat: true });
    const client = lab.nodes.client.name;
    const clientIp = lab.nodes.client.ip;
    const dir1 = lab.nodes.dir1.name;
    servers.push(udpServer(lab.nodes.rs1.name, '0.0.0.0', 9001, 'rs1'), udpServer(lab.nodes.rs2.name, '0.0.0.0', 9001, 'rs2'));
    director = await startDirector(dir1, writeConfig(config(io)));

    const curl = await labExec(client, ['curl', '-s', '--max-time', '10', '--local-port', '41000', `http://${VIP}/`]);
    t.equal(curl.stdout.trim(), 'rs1', 'the connection went to rs1');
    const rs1 = await capture(lab.nodes.rs1.name, 'eth0', 'icmp',
      ['ip.src', 'ip.dst', 'icmp.type', 'icmp.code', 'icmp.mtu', 'tcp.srcport', 'tcp.dstport', 'ip.checksum.status', 'icmp.checksum.status'], 1, 20);
    await raw(client, ['icmp-error', VIP, clientIp, '41000', '1400']);
    const seen = await rs1.lines();
    t.equal(seen.length, 1, 'rs1 received the ICMP error');
    const [src, dst, type, code, mtu, sport, dport, ipCsum, icmpCsum] = (seen[0] ?? '').split('\t');
    t.same([type, code, mtu], ['3', '4', '1400'], 'fragmentation needed, MTU 1400');
    t.equal(dst, `198.18.1.10,${clientIp}`, 'outer destination rewritten to rs1; quoted destination the client');
    t.equal(src, `${clientIp},198.18.1.10`, 'quoted source rewritten to rs1');
    t.same([sport, dport], ['80', '41000'], 'quoted ports: the real server\'s and the client\'s');
    t.equal(ipCsum, '1,1', 'outer and quoted IP header checksums good');
    t.equal(icmpCsum, '1', 'ICMP checksum good');

    // rs1 has nothing on 9002: its port unreachable must reach the client's socket as from the VIP.
    const refused = await raw<{ refused: boolean }>(client, ['refused', VIP, '9002']);
    t.equal(refused.refused, true, 'the client\'s kernel matched the rewritten error to its socket (ECONNREFUSED)');

    const udp = await raw<{ answers: { server: string; length: number; intact: boolean; replyBytes: number }[] }>(client, ['udp', VIP, '9000', '20']);
    t.equal(udp.answers.length, 20);
    t.ok(udp.answers.every((a) => a.length === 4000 && a.intact), 'every 4,000-byte datagram reassembled intact at port 9001');
    t.ok(udp.answers.every((a) => a.replyBytes === 3000), 'every 3,000-byte (fragmented) reply reassembled by the client');
    t.same([...new Set(udp.answers.map((a) => a.server))].sort(), ['rs1', 'rs2'], 'balanced over both real servers');
    const stats = await statsOf(dir1);
    t.ok(stats.icmp_forwarded >= 4, `ICMP errors forwarded (${stats.icmp_forwarded})`);
    t.ok(stats.fragments >= 120, `request and reply fragments forwarded (${stats.fragments})`);
  });
}
