// Full NAT in the lab (`lab up --fnat`, AF_XDP): a "fragmentation needed" from the client's path
// about the director's reply VIP:80 -> client:41000 reaches the real server as an error from the
// local address about its own packet rs1:80 -> 198.18.1.200:<local port> (tshark in rs1's
// namespace, checksums checked), which is what its TCP can match to the socket; and rs1's port
// unreachable about laddr:lport -> rs1:9002 (nothing listens there) reaches the client's
// connected UDP socket as from the VIP about client -> VIP:9002 (ECONNREFUSED). Then 4,000-byte
// UDP datagrams (fragmented by the client's kernel) to VIP:9000 reach rs1/rs2's port 9001 whole,
// and their 3,000-byte answers (fragmented by the real server, to the local address) reach the
// client whole: later fragments follow the first both ways.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FNAT_LOCAL_ADDRESS, createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { REPO, startDirector, writeConfig, type RunningDirector } from './director.js';
import type { ChildProcess } from 'node:child_process';
import { capture, raw, statsOf, udpServer } from './icmp-fragments-lab.js';

const PREFIX = 'fni-';

// A UDP Full NAT service to a port rs1 does not serve.
const UDP_SERVICE = `
  - { vip: 198.18.0.100, port: 9002, protocol: UDP, lb_algo: rr, lb_kind: FNAT, laddr_group_name: laddr_in,
      real_servers: [ { ip: 198.18.1.10, port: 9002 } ] }
  - { vip: 198.18.0.100, port: 9000, protocol: UDP, lb_algo: rr, lb_kind: FNAT, laddr_group_name: laddr_in,
      real_servers: [ { ip: 198.18.1.10, port: 9001 }, { ip: 198.18.1.20, port: 9001 } ] }
`;

t.test('Full NAT: ICMP errors rewritten both ways through a real director', async (t) => {
  let director: RunningDirector | null = null;
  const servers: ChildProcess[] = [];
  t.teardown(async () => {
    for (const s of servers) s.kill('SIGKILL');
    await director?.stop();
    await destroyLab({ prefix: PREFIX });
  });
  const lab = await createLab({ prefix: PREFIX, fnat: true });
  const client = lab.nodes.client.name;
  const clientIp = lab.nodes.client.ip;
  servers.push(udpServer(lab.nodes.rs1.name, '0.0.0.0', 9001, 'rs1'), udpServer(lab.nodes.rs2.name, '0.0.0.0', 9001, 'rs2'));
  const sample = readFileSync(join(REPO, 'configs', 'lab-fnat.yaml'), 'utf8').replace(/io: auto/, 'io: afxdp').trimEnd() + UDP_SERVICE;
  director = await startDirector(lab.nodes.dir1.name, writeConfig(sample));

  const peer = await labExec(client, ['curl', '-s', '--max-time', '10', '--local-port', '41000', `http://${lab.vip}/client`]);
  const m = /^198\.18\.1\.200:(\d+)$/.exec(peer.stdout.trim());
  t.ok(m, `the first connection (rr: rs1) came from the local address (${peer.stdout.trim()})`);
  const lport = m ? m[1] : '?';
  const rs1 = await capture(lab.nodes.rs1.name, 'eth0', 'icmp',
    ['ip.src', 'ip.dst', 'icmp.type', 'icmp.code', 'icmp.mtu', 'tcp.srcport', 'tcp.dstport', 'ip.checksum.status', 'icmp.checksum.status'], 1, 20);
  await raw(client, ['icmp-error', lab.vip, clientIp, '41000', '1400']);
  const seen = await rs1.lines();
  t.equal(seen.length, 1, 'rs1 received the ICMP error');
  const [src, dst, type, code, mtu, sport, dport, ipCsum, icmpCsum] = (seen[0] ?? '').split('\t');
  t.same([type, code, mtu], ['3', '4', '1400'], 'fragmentation needed, MTU 1400');
  t.equal(src, `${FNAT_LOCAL_ADDRESS},198.18.1.10`, 'outer source the local address; quoted source rs1');
  t.equal(dst, `198.18.1.10,${FNAT_LOCAL_ADDRESS}`, 'outer destination rs1; quoted destination the local address');
  t.same([sport, dport], ['80', lport], 'quoted ports: the real server\'s and the connection\'s local port');
  t.equal(ipCsum, '1,1', 'outer and quoted IP header checksums good');
  t.equal(icmpCsum, '1', 'ICMP checksum good');
  const refused = await raw<{ refused: boolean }>(client, ['refused', lab.vip, '9002']);
  t.equal(refused.refused, true, 'rs1\'s port unreachable reached the client\'s socket as from the VIP (ECONNREFUSED)');
  const udp = await raw<{ answers: { server: string; length: number; intact: boolean; replyBytes: number }[] }>(client, ['udp', lab.vip, '9000', '20']);
  t.equal(udp.answers.length, 20, '20 datagrams sent');
  t.ok(udp.answers.every((a) => a.length === 4000 && a.intact), 'every 4,000-byte datagram reassembled intact by a real server', { answers: udp.answers });
  t.ok(udp.answers.every((a) => a.replyBytes === 3000), 'every 3,000-byte (fragmented) answer reassembled by the client');
  t.same([...new Set(udp.answers.map((a) => a.server))].sort(), ['rs1', 'rs2'], 'balanced over both real servers');
  const stats = await statsOf(lab.nodes.dir1.name);
  t.ok(stats.icmp_forwarded >= 2, `both directions counted as forwarded (${stats.icmp_forwarded})`);
  t.ok(stats.fragments >= 120, `request and answer fragments forwarded (${stats.fragments})`);
});
