// TUN encapsulation for every tun_type: the bytes, the MTU bound, ECMP-friendly GUE source
// ports, and tshark's independent reading of GRE (with its checksum) and of GUE's UDP (tshark
// 4.0 has no GUE dissector: the GUE header and the inner IPv4 header are checked from the UDP
// payload bytes, and the inner packet is decoded by tshark as IPv4 after the 4 GUE bytes).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameView, ParsedFrame, ParseResult, parseFrame } from '../../src/packet/parse.js';
import { FrameSpan, RewriteResult } from '../../src/packet/rewrite.js';
import {
  TUNNEL_OVERHEAD, TunnelKind, encapsulateTunnel, gueSourcePort, tunnelKindOf, tunnelMtu,
  GUE_SOURCE_PORT_MAX, GUE_SOURCE_PORT_MIN,
} from '../../src/packet/tunnels.js';
import { buildFrame } from '../../src/packet/build.js';
import { ipToNumber, parseMac } from '../../src/packet/addr.js';
import { internetChecksum, ipv4HeaderChecksumValid, transportChecksumValid } from '../../src/packet/checksum.js';
import { writePcapFile } from '../../src/packet/pcap.js';

const FRAME_SIZE = 2048;
const RS_MAC = parseMac('02:00:c6:12:00:0b');
const DIR_MAC = parseMac('02:00:c6:12:00:0a');
const CLIENT = '198.18.0.1', VIP = '198.18.0.100', RS = '198.18.0.20', DIR = '198.18.0.2';
const GUE_PORT = 6080;

interface Encapsulated { bytes: Uint8Array; result: number; parsed: ParsedFrame }

function encapsulate(kind: number, frame: Uint8Array, offset: number, mtu = 1500): Encapsulated {
  const memory = new Uint8Array(3 * FRAME_SIZE);
  memory.set(frame, offset);
  const view = new FrameView(memory);
  const parsed = new ParsedFrame();
  if (parseFrame(view.u8, view.dv, offset, frame.length, parsed) !== ParseResult.OK) throw new Error('fixture does not parse');
  const span = new FrameSpan();
  const result = encapsulateTunnel(view.u8, view.dv, parsed, FRAME_SIZE, kind, GUE_PORT, ipToNumber(DIR), ipToNumber(RS),
    parsed.ttl, 0x1234, RS_MAC, DIR_MAC, mtu, span);
  return { bytes: result === RewriteResult.OK ? memory.slice(span.offset, span.offset + span.length) : frame, result, parsed };
}

const tcpFrame = (srcPort = 40000, payload = 'GET / HTTP/1.0\r\n\r\n') =>
  buildFrame({ ip: { src: CLIENT, dst: VIP, df: true, tos: 0x10 }, tcp: { srcPort, dstPort: 80, ack: 7 }, payload });

t.test('overheads and the MTU frag needed reports (1500 link: IPIP 1480, GRE 1476/1472, GUE 1468)', async (t) => {
  t.same([...TUNNEL_OVERHEAD], [20, 24, 28, 32, 32]);
  t.same([0, 1, 2, 3, 4].map((k) => tunnelMtu(1500, k)), [1480, 1476, 1472, 1468, 1468]);
  t.equal(tunnelKindOf('ipip', undefined), TunnelKind.IPIP);
  t.equal(tunnelKindOf('gre', 'nocsum'), TunnelKind.GRE);
  t.equal(tunnelKindOf('gre', 'csum'), TunnelKind.GRE_CSUM);
  t.equal(tunnelKindOf('gue', undefined), TunnelKind.GUE);
  t.equal(tunnelKindOf('gue', 'remcsum'), TunnelKind.GUE, 'remcsum: forwarded packets carry no option (as IPVS)');
  t.equal(tunnelKindOf('gue', 'csum'), TunnelKind.GUE_CSUM);
});

t.test('each kind: outer header, tunnel header, inner packet unchanged, with and without headroom', async (t) => {
  const input = tcpFrame();
  const inner = input.subarray(14);
  for (const kind of [TunnelKind.IPIP, TunnelKind.GRE, TunnelKind.GRE_CSUM, TunnelKind.GUE, TunnelKind.GUE_CSUM]) {
    for (const offset of [FRAME_SIZE + 256, FRAME_SIZE]) {
      const e = encapsulate(kind, input, offset);
      const label = `kind ${kind} offset ${offset}`;
      t.equal(e.result, RewriteResult.OK, label);
      const b = e.bytes;
      const overhead = TUNNEL_OVERHEAD[kind];
      t.equal(b.length, input.length + overhead, `${label}: length`);
      t.same([...b.subarray(0, 6)], [...RS_MAC], `${label}: to the real server's MAC`);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      t.ok(ipv4HeaderChecksumValid(b, 14, 20), `${label}: outer header checksum`);
      t.equal(dv.getUint16(16), inner.length + overhead, `${label}: outer total length`);
      t.equal(b[15], 0x10, `${label}: TOS copied`);
      t.equal(dv.getUint16(20) & 0x4000, 0x4000, `${label}: DF copied`);
      t.equal(b[23], [4, 47, 47, 17, 17][kind], `${label}: outer protocol`);
      t.same([...b.subarray(14 + overhead)], [...inner], `${label}: inner packet byte for byte`);
      const l4 = 34;
      if (kind === TunnelKind.GRE || kind === TunnelKind.GRE_CSUM) {
        t.equal(dv.getUint16(l4), kind === TunnelKind.GRE_CSUM ? 0x8000 : 0, `${label}: GRE C bit, version 0`);
        t.equal(dv.getUint16(l4 + 2), 0x0800, `${label}: GRE protocol IPv4`);
        if (kind === TunnelKind.GRE_CSUM) t.equal(internetChecksum(b, l4, b.length - l4), 0, `${label}: GRE checksum verifies`);
      }
      if (kind === TunnelKind.GUE || kind === TunnelKind.GUE_CSUM) {
        const sport = dv.getUint16(l4);
        t.ok(sport >= GUE_SOURCE_PORT_MIN && sport <= GUE_SOURCE_PORT_MAX, `${label}: source port in Linux's ephemeral range`);
        t.equal(dv.getUint16(l4 + 2), GUE_PORT, `${label}: to tun_port`);
        t.equal(dv.getUint16(l4 + 4), b.length - l4, `${label}: UDP length`);
        t.same([...b.subarray(l4 + 8, l4 + 12)], [0, 4, 0, 0], `${label}: GUE v0, hlen 0, proto IPIP, flags 0`);
        if (kind === TunnelKind.GUE) t.equal(dv.getUint16(l4 + 6), 0, `${label}: nocsum: UDP checksum 0`);
        else {
          t.not(dv.getUint16(l4 + 6), 0, `${label}: csum: a UDP checksum`);
          t.ok(transportChecksumValid(b, l4, b.length - l4, ipToNumber(DIR), ipToNumber(RS), 17), `${label}: UDP checksum verifies`);
        }
      }
    }
  }
});

t.test('MTU: refused above the link MTU by each kind\'s overhead, frame untouched', async (t) => {
  for (const kind of [TunnelKind.IPIP, TunnelKind.GRE, TunnelKind.GRE_CSUM, TunnelKind.GUE]) {
    const fits = tunnelMtu(1500, kind);
    const payload = (n: number) => 'x'.repeat(n - 40);
    t.equal(encapsulate(kind, tcpFrame(40000, payload(fits)), FRAME_SIZE + 256).result, RewriteResult.OK, `kind ${kind}: ${fits} fits`);
    const big = tcpFrame(40000, payload(fits + 1));
    const e = encapsulate(kind, big, FRAME_SIZE + 256);
    t.equal(e.result, RewriteResult.MTU_EXCEEDED, `kind ${kind}: ${fits + 1} does not`);
  }
  t.equal(encapsulate(TunnelKind.GUE, tcpFrame(40000, 'x'.repeat(2000)), FRAME_SIZE, 9000).result, RewriteResult.NO_ROOM,
    'no headroom and no room in the slot');
});

t.test('GUE source port: one per flow, spread across flows, one for all fragments of a datagram', async (t) => {
  const ports = new Set<number>();
  let same = true;
  for (let i = 0; i < 400; i++) {
    const a = encapsulate(TunnelKind.GUE, tcpFrame(20000 + i), FRAME_SIZE + 256).parsed;
    const port = gueSourcePort(a);
    same &&= gueSourcePort(a) === port;
    ports.add(port);
  }
  t.ok(same, 'deterministic');
  t.ok(ports.size > 380, `400 flows, ${ports.size} source ports`);
  const p = new ParsedFrame();
  p.srcIp = ipToNumber(CLIENT); p.dstIp = ipToNumber(VIP); p.protocol = 17;
  p.moreFragments = true; p.fragmentOffset = 0; p.srcPort = 5000; p.dstPort = 53;
  const first = gueSourcePort(p);
  p.moreFragments = false; p.fragmentOffset = 1480; p.srcPort = 0; p.dstPort = 0;
  t.equal(gueSourcePort(p), first, 'first and last fragment take one port');
});

t.test('tshark reads GRE (checksum too) and GUE\'s UDP; the GUE payload is a GUE v0 header and the inner IPv4 packet', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-tunnels-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const frames = [TunnelKind.GRE, TunnelKind.GRE_CSUM, TunnelKind.GUE, TunnelKind.GUE_CSUM].map((k) => encapsulate(k, tcpFrame(), FRAME_SIZE + 256).bytes);
  const path = join(dir, 'tunnels.pcap');
  writePcapFile(path, frames);
  const fields = ['ip.proto', 'ip.checksum.status', 'gre.flags.checksum', 'gre.proto', 'gre.checksum.status', 'udp.dstport', 'udp.checksum.status', 'data.data', 'tcp.dstport', 'tcp.checksum.status'];
  const run = spawnSync('tshark', ['-r', path, '-n', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=;', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 60_000 });
  t.equal(run.status, 0, `tshark ran: ${run.stderr}`);
  const rows = run.stdout.trim().split('\n').map((l) => l.split(';'));
  t.equal(rows.length, 4);
  const [gre, greCsum, gue, gueCsum] = rows;
  t.same([gre[0], gre[1], gre[2], gre[3], gre[8], gre[9]], ['47,6', '1,1', '0', '0x0800', '80', '1'], 'GRE: outer 47, inner TCP, good checksums', { row: gre });
  t.same([greCsum[2], greCsum[4]], ['1', '1'], 'GRE csum: C bit, checksum good', { row: greCsum });
  for (const [row, csum, label] of [[gue, '3', 'GUE nocsum'], [gueCsum, '1', 'GUE csum']] as const) {
    t.equal(row[0], '17', `${label}: outer UDP`);
    t.equal(row[5], String(GUE_PORT), `${label}: to tun_port`);
    t.equal(row[6], csum, `${label}: UDP checksum ${csum === '1' ? 'good' : 'not present (tshark status 3)'}`, { row });
    const data = row[7];
    t.equal(data.slice(0, 8), '00040000', `${label}: GUE header v0 hlen 0 proto 4 flags 0`);
    t.equal(data.slice(8, 10), '45', `${label}: then an IPv4 header`);
    t.equal(data.slice(8 + 24, 8 + 40), Buffer.from([198, 18, 0, 1, 198, 18, 0, 100]).toString('hex'), `${label}: client -> VIP inside`);
  }
  // Decoded as IPv4 once the 4 GUE bytes are stripped: tshark checks the inner packet.
  const innerPath = join(dir, 'gue-inner.pcap');
  writePcapFile(innerPath, [gue, gueCsum].map((row) => {
    const inner = Buffer.from(row[7].slice(8), 'hex');
    return Uint8Array.from([...RS_MAC, ...DIR_MAC, 0x08, 0x00, ...inner]);
  }));
  const innerRun = spawnSync('tshark', ['-r', innerPath, '-n', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=;', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.checksum.status', '-e', 'tcp.dstport', '-e', 'tcp.checksum.status'], { encoding: 'utf8', timeout: 60_000 });
  t.same(innerRun.stdout.trim().split('\n'), [`${CLIENT};${VIP};1;80;1`, `${CLIENT};${VIP};1;80;1`], 'inner IPv4 + TCP good');
});
