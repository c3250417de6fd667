// Full NAT in the lab (`lab up --fnat`, AF_XDP): a "fragmentation needed" from the client's path
// about the director's reply VIP:80 -> client:41000 reaches the real server as an error from the
// local address about its own packet rs1:80 -> 198.18.1.200:<local port> (tshark in rs1's
// namespace, checksums checked), which is what its TCP can match to the socket.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FNAT_LOCAL_ADDRESS, createLab, destroyLab, labExec } from '../../src/lab/index.js';
import { REPO, startDirector, writeConfig, type RunningDirector } from './director.js';
import { capture, raw, statsOf } from './icmp-fragments-lab.js';

const PREFIX = 'fni-';

t.test('Full NAT: an ICMP error from the client side reaches the real server rewritten', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await destroyLab({ prefix: PREFIX });
  });
  const lab = await createLab({ prefix: PREFIX, fnat: true });
  const client = lab.nodes.client.name;
  const clientIp = lab.nodes.client.ip;
  const sample = readFileSync(join(REPO, 'configs', 'lab-fnat.yaml'), 'utf8').replace(/io: auto/, 'io: afxdp');
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
  const stats = await statsOf(lab.nodes.dir1.name);
  t.ok(stats.icmp_forwarded >= 1, `counted as forwarded (${stats.icmp_forwarded})`);
});
