// lab-tun-types.yaml on lab-dir1: one TUN real server per tun_type (rs1 ipip, rs2 gre with
// tun_flags csum, rs3 gue with tun_port 6080 and tun_flags csum), answering real HTTP requests
// through the VIP. This kernel has no ipip/ip_gre/fou, so test/e2e/decap.py decapsulates in
// each real server's namespace into a TUN device; replies go straight back (DR return path).
// tshark in each real server's namespace reads what arrives: IPIP and GRE (checksum included)
// are dissected; tshark 4.0 has no GUE dissector, so GUE's 4 header bytes and the inner IPv4
// header are checked from the UDP payload (data.data). The checks (tcp_check) go to each real
// server's own address, unencapsulated.
import { join } from 'node:path';
import t from 'tap';
import { createLab, destroyLab } from '../../src/lab/index.js';
import { httpFrom, tally, type RunningDirector } from '../e2e/director.js';
import { capture } from '../e2e/icmp-fragments-lab.js';
import { startDecap, type Decap } from '../e2e/tunnel-lab.js';
import { CONFIGS, checkList, start, stopAll, stopAndCheck } from './support.js';

const prefix = 'tua-';
const VIP = '198.18.0.100';

t.test('lab-tun-types.yaml: HTTP through IPIP, GRE and GUE real servers, on the wire as configured', async (t) => {
  const running = new Set<RunningDirector>();
  const decaps: Decap[] = [];
  t.teardown(async () => { await stopAll(running); await Promise.all(decaps.map((d) => d.stop().catch(() => undefined))); await destroyLab({ prefix }); });
  const lab = await createLab({ prefix });
  const { rs1, rs2, rs3, dir1, client } = lab.nodes;
  decaps.push(await startDecap(rs1.name, 'tud0', 'ipip'), await startDecap(rs2.name, 'tud0', 'gre'), await startDecap(rs3.name, 'tud0', 'gue:6080'));

  const checkUdp = ['-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
  const ipip = await capture(rs1.name, 'eth0', 'ip proto 4', ['ip.src', 'ip.dst', 'ip.proto', 'ip.checksum.status', 'tcp.dstport', 'tcp.checksum.status'], 1, 60, checkUdp);
  const gre = await capture(rs2.name, 'eth0', 'ip proto 47', ['ip.src', 'ip.dst', 'ip.proto', 'gre.flags.checksum', 'gre.proto', 'gre.checksum.status', 'tcp.dstport', 'tcp.checksum.status'], 1, 60, checkUdp);
  const gue = await capture(rs3.name, 'eth0', 'udp dst port 6080', ['ip.src', 'ip.dst', 'udp.srcport', 'udp.checksum.status', 'data.data'], 1, 60, checkUdp);
  const check = await capture(rs1.name, 'eth0', `tcp dst port 80 and src host ${dir1.ip} and dst host ${rs1.ip}`, ['ip.src', 'ip.dst', 'tcp.flags.syn'], 1, 60);

  const director = await start(dir1.name, join(CONFIGS, 'lab-tun-types.yaml'), running);
  const checkSyn = await check.lines();
  t.same(checkSyn.map((l) => l.split('\t')), [[dir1.ip, rs1.ip, '1']], 'tcp_check connects to the real server\'s own address, not through the tunnel');
  await checkList(t, dir1.name, [{ line: `TCP  ${VIP}:80 rr`, realServers: [rs1, rs2, rs3].map((r) => `${r.ip}:80 Tunnel 1`) }]);

  const { bodies } = await httpFrom(client.name, `http://${VIP}/`, 30, 'new');
  t.same(tally(bodies), { rs1: 10, rs2: 10, rs3: 10 }, '30 new connections answered, 10 by each tunnel type');

  const [ipipRow] = (await ipip.lines()).map((l) => l.split('\t'));
  t.same(ipipRow, [`${dir1.ip},${client.ip}`, `${rs1.ip},${VIP}`, '4,6', '1,1', '80', '1'], 'IPIP: director -> rs1 around client -> VIP, checksums good');
  const [greRow] = (await gre.lines()).map((l) => l.split('\t'));
  t.same(greRow, [`${dir1.ip},${client.ip}`, `${rs2.ip},${VIP}`, '47,6', '1', '0x0800', '1', '80', '1'],
    'GRE: protocol 47, C bit set, payload IPv4, GRE checksum good (tshark status 1), inner TCP good');
  const [gueRow] = (await gue.lines()).map((l) => l.split('\t'));
  t.equal(gueRow[0], dir1.ip, 'GUE: from the director');
  t.equal(gueRow[1], rs3.ip, 'GUE: to rs3');
  t.ok(Number(gueRow[2]) >= 32768 && Number(gueRow[2]) <= 60999, `GUE: UDP source port ${gueRow[2]} from the flow hash, in Linux's ephemeral range`);
  t.equal(gueRow[3], '1', 'GUE: outer UDP checksum good (tun_flags csum)');
  const data = gueRow[4];
  t.equal(data.slice(0, 8), '00040000', 'GUE header: version 0, hlen 0, proto_ctype 4 (IPIP), flags 0');
  t.equal(data.slice(8, 10), '45', 'then an IPv4 header without options');
  const hexIp = (ip: string) => Buffer.from(ip.split('.').map(Number)).toString('hex');
  t.equal(data.slice(8 + 24, 8 + 40), hexIp(client.ip) + hexIp(VIP), 'inner source the client, inner destination the VIP');
  t.equal(data.slice(8 + 18, 8 + 20), '06', 'inner protocol TCP');

  const counts = await Promise.all(decaps.splice(0).map((d) => d.stop()));
  t.ok(counts[0].ipip > 0 && counts[1].gre > 0 && counts[2].gue > 0, `each real server decapsulated its type (${counts.map((c) => c.ipip + c.gre + c.gue).join('/')})`);
  t.ok(counts[1].greChecksummed === counts[1].gre, 'every GRE packet carried a checksum that verified');
  t.same(counts.map((c) => c.bad), [0, 0, 0], 'nothing malformed');
  t.same([...new Set(counts[2].gueHeaders)], ['00040000'], 'every GUE header seen: v0, proto 4');
  await stopAndCheck(t, director, dir1.name, [VIP]);
  running.clear();
});
