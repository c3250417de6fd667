// An independent decoder checks what the rewrites put on the wire: tshark re-verifies every
// checksum (IP, TCP, UDP, the IPIP outer and inner headers) of frames written to a pcap.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameView, ParsedFrame, ParseResult, parseFrame } from '../../src/packet/parse.js';
import {
  FrameSpan, RewriteResult, decrementTtl, rewriteForDirectRouting, rewriteForNat, rewriteNatReply,
} from '../../src/packet/rewrite.js';
import { encapsulateIpip } from '../../src/packet/tunnels.js';
import { buildFrame } from '../../src/packet/build.js';
import { ipToNumber, parseMac } from '../../src/packet/addr.js';
import { decodePcap, encodePcap, readPcapFile, writePcapFile } from '../../src/packet/pcap.js';

const FRAME_SIZE = 2048;
const RS_MAC = parseMac('02:00:c6:12:00:0b');
const DIR_MAC = parseMac('02:00:c6:12:00:0a');

function rewritten(frame: Uint8Array, offset: number, rewrite: (view: FrameView, p: ParsedFrame, span: FrameSpan) => void): Uint8Array {
  const memory = new Uint8Array(2 * FRAME_SIZE);
  memory.set(frame, offset);
  const view = new FrameView(memory);
  const p = new ParsedFrame();
  if (parseFrame(view.u8, view.dv, offset, frame.length, p) !== ParseResult.OK) throw new Error('fixture does not parse');
  const span = new FrameSpan();
  span.offset = offset;
  span.length = frame.length;
  rewrite(view, p, span);
  return memory.slice(span.offset, span.offset + span.length);
}

t.test('pcap round trip', async (t) => {
  const a = buildFrame({ ip: { src: '198.18.0.1', dst: '198.18.0.2' }, udp: { srcPort: 1, dstPort: 2 } });
  const b = buildFrame({ ip: { src: '198.18.0.1', dst: '198.18.0.2' }, tcp: { srcPort: 1, dstPort: 2 } });
  const file = decodePcap(encodePcap([a, { data: b, timestampMicros: 1_700_000_000_123_456 }]));
  t.equal(file.linktype, 1);
  t.equal(file.records.length, 2);
  t.same([...file.records[0].data], [...a]);
  t.same([...file.records[1].data], [...b]);
  t.equal(file.records[1].timestampMicros, 1_700_000_000_123_456);
  t.throws(() => decodePcap(new Uint8Array(24)), /unknown magic/);
});

t.test('tshark decodes rewritten frames with good checksums', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-packet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const client = '198.18.0.1', vip = '198.18.0.100', rs = '198.18.0.11', director = '198.18.0.10';
  // Ports without a tshark dissector, so that payloads are not decoded as, say, DNS.
  const frames = [
    // 1 NAT forward TCP
    rewritten(buildFrame({ ip: { src: client, dst: vip }, tcp: { srcPort: 40000, dstPort: 80, ack: 5 }, payload: 'GET / HTTP/1.0\r\n\r\n' }), 300, (v, p) => {
      decrementTtl(v.u8, v.dv, p);
      rewriteForNat(v.u8, v.dv, p, Uint32Array.of(ipToNumber(rs)), 0, 8080);
      rewriteForDirectRouting(v.u8, p.frameOffset, RS_MAC, DIR_MAC);
    }),
    // 2 NAT reply UDP
    rewritten(buildFrame({ ip: { src: rs, dst: client }, udp: { srcPort: 7001, dstPort: 40500 }, payload: 'answer' }), 300, (v, p) => {
      rewriteNatReply(v.u8, v.dv, p, Uint32Array.of(ipToNumber(vip)), 0, 7000);
    }),
    // 3 IPIP with headroom, inner TCP with IP options
    rewritten(buildFrame({ ip: { src: client, dst: vip, options: new Uint8Array([1, 1, 1, 0]) }, tcp: { srcPort: 40001, dstPort: 80 }, payload: 'x' }), 300, (v, p, span) => {
      decrementTtl(v.u8, v.dv, p);
      if (encapsulateIpip(v.u8, v.dv, p, FRAME_SIZE, ipToNumber(director), ipToNumber(rs), p.ttl, 1, RS_MAC, DIR_MAC, 1500, span) !== RewriteResult.OK) throw new Error('encap');
    }),
    // 4 IPIP without headroom, inner UDP, VLAN
    rewritten(buildFrame({ vlanId: 20, ip: { src: client, dst: vip }, udp: { srcPort: 40500, dstPort: 7000 }, payload: 'q' }), FRAME_SIZE, (v, p, span) => {
      if (encapsulateIpip(v.u8, v.dv, p, FRAME_SIZE, ipToNumber(director), ipToNumber(rs), p.ttl, 2, RS_MAC, DIR_MAC, 1500, span) !== RewriteResult.OK) throw new Error('encap');
    }),
  ];
  const path = join(dir, 'rewritten.pcap');
  writePcapFile(path, frames);
  t.equal(readPcapFile(path).records.length, frames.length);
  const run = spawnSync('tshark', ['-r', path, '-V', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
    '-o', 'udp.check_checksum:TRUE'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(run.status, 0, `tshark ran: ${run.stderr}`);
  const out = run.stdout;
  t.notMatch(out, /status: Bad|Malformed|Expert Info \(Error/i, 'no bad checksum or malformed packet');
  const good = out.match(/\[(Header checksum|Checksum) [Ss]tatus: Good\]/g) ?? [];
  // IP headers: 1+1+2+2; L4: TCP, UDP, TCP, UDP.
  t.ok(good.length >= 10, `${good.length} good checksums`);
  t.match(out, /Destination Address: 198\.18\.0\.11[\s\S]*Destination Port: 8080/, 'NAT destination');
  t.match(out, /Source Address: 198\.18\.0\.100\n[\s\S]*Source Port: 7000\n/, 'NAT reply source');
  t.match(out, /Protocol: IPIP \(4\)/, 'IPIP outer protocol');
  t.match(out, /802\.1Q Virtual LAN, PRI: 0, DEI: 0, ID: 20/, 'VLAN kept');
  if (t.passing() === false) t.comment(out);
});
