// IPv6 addresses, checksums over the IPv6 pseudo header, and the NAT66 / hop limit / IPv6-in-IPv6
// rewrites: incremental updates equal a full recomputation (property), and tshark, an
// independent decoder, verifies what the rewrites put on the wire.
import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv6, isLinkLocalIpv6, maskIpv6, parseIpv6, parseIpv6OrNull } from '../../src/packet/addr6.js';
import { ipv6TransportChecksum, ipv6TransportChecksumValid, updateChecksum128 } from '../../src/packet/checksum6.js';
import { TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET } from '../../src/packet/checksum.js';
import { FrameView, ParsedFrame, ParseResult, parseFrame } from '../../src/packet/parse.js';
import { Parse6Result, ParsedIpv6, parseIpv6Packet } from '../../src/packet/ipv6.js';
import { decrementHopLimit, encapsulateIp6ip6, rewriteForNat66, rewriteNat66Reply } from '../../src/packet/rewrite6.js';
import { FrameSpan, RewriteResult, rewriteForDirectRouting } from '../../src/packet/rewrite.js';
import { buildFrame6 } from '../../src/packet/build6.js';
import { parseMac } from '../../src/packet/addr.js';
import { writePcapFile } from '../../src/packet/pcap.js';

const CLIENT = '2001:2::1', VIP = '2001:2::100', RS = '2001:2:0:1::10', DIR = '2001:2::2';
const FRAME_SIZE = 2048;
const RS_MAC = parseMac('02:00:c6:12:00:0b');
const DIR_MAC = parseMac('02:00:c6:12:00:0a');

function parsed(memory: Uint8Array, offset: number, length: number): { view: FrameView; p: ParsedIpv6 } {
  const view = new FrameView(memory);
  const outer = new ParsedFrame();
  if (parseFrame(view.u8, view.dv, offset, length, outer) !== ParseResult.IPV6) throw new Error('not IPv6');
  const p = new ParsedIpv6();
  const r = parseIpv6Packet(view.u8, view.dv, outer.l3Offset, offset + length, p);
  if (r !== Parse6Result.OK) throw new Error(`fixture does not parse: ${r}`);
  return { view, p };
}

t.test('address text: node:net accepts, RFC 5952 out, WHATWG URL as the oracle (property)', async (t) => {
  t.same([...parseIpv6('2001:2::100')], [0x20, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  t.equal(formatIpv6(parseIpv6('2001:0db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1', 'the first longest zero run');
  t.equal(formatIpv6(parseIpv6('::ffff:198.18.0.1')), '::ffff:c612:1', 'embedded dotted quad');
  t.equal(formatIpv6(parseIpv6('::')), '::');
  t.equal(formatIpv6(parseIpv6('1:0:2:3:4:5:6:7')), '1:0:2:3:4:5:6:7', 'a single zero group stays');
  for (const bad of ['198.18.0.1', '2001:2::1::2', 'fe80::1%eth0', '12345::', 'ae00::2-9', '']) t.equal(parseIpv6OrNull(bad), null, bad);
  t.ok(isLinkLocalIpv6(parseIpv6('fe80::1')));
  t.notOk(isLinkLocalIpv6(parseIpv6('fec0::1')));
  t.equal(formatIpv6(maskIpv6(parseIpv6('2001:2:0:1:ffff::1'), 48)), '2001:2::', 'a /48 prefix');
  t.equal(formatIpv6(maskIpv6(parseIpv6('2001:2:0:1:ffff::1'), 68)), '2001:2:0:1:f000::', 'a prefix inside a group');
  fc.assert(fc.property(fc.ipV6(), (text) => {
    const bytes = parseIpv6OrNull(text);
    if (bytes === null) return false;
    const oracle = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    return formatIpv6(bytes) === oracle && formatIpv6(parseIpv6(formatIpv6(bytes))) === oracle;
  }), { numRuns: 2000 });
});

const segment = fc.record({
  udp: fc.boolean(),
  payload: fc.uint8Array({ maxLength: 300 }),
  src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  dst: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => { b[0] &= 0xfe; return b; }),
  newAddress: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  newPort: fc.integer({ min: 1, max: 65535 }),
  reply: fc.boolean(),
}).map((s) => { s.src[0] = 0x20; return s; });

t.test('NAT66 incremental checksum equals a full recomputation (property)', async () => {
  fc.assert(fc.property(segment, (s) => {
    const frame = buildFrame6({ src: s.src, dst: s.dst, payload: s.payload,
      ...(s.udp ? { udp: { srcPort: 40000, dstPort: 53 } } : { tcp: { srcPort: 40000, dstPort: 80, ack: 9 } }) });
    const memory = new Uint8Array(FRAME_SIZE);
    memory.set(frame, 100);
    const { view, p } = parsed(memory, 100, frame.length);
    const r = s.reply ? rewriteNat66Reply(view.u8, view.dv, p, s.newAddress, 0, s.newPort)
      : rewriteForNat66(view.u8, view.dv, p, s.newAddress, 0, s.newPort);
    if (r !== RewriteResult.OK) return false;
    const field = p.l4Offset + (s.udp ? UDP_CHECKSUM_OFFSET : TCP_CHECKSUM_OFFSET);
    const written = view.dv.getUint16(field);
    let full = ipv6TransportChecksum(view.u8, p.l3Offset, p.l4Offset, p.l4Length, s.udp ? UDP_CHECKSUM_OFFSET : TCP_CHECKSUM_OFFSET, s.udp ? 17 : 6);
    if (s.udp && full === 0) full = 0xffff;
    const moved = formatIpv6(view.u8, s.reply ? p.srcOffset : p.dstOffset) === formatIpv6(s.newAddress);
    const port = view.dv.getUint16(p.l4Offset + (s.reply ? 0 : 2)) === s.newPort;
    return written === full && moved && port && ipv6TransportChecksumValid(view.u8, p.l3Offset, p.l4Offset, p.l4Length, s.udp ? 17 : 6);
  }), { numRuns: 1500 });
});

t.test('128-bit RFC 1624 update equals recomputation on arbitrary data (property)', async () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 120 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (data, next) => {
    const even = data.slice(0, data.length & ~1);
    const sumOf = (b: Uint8Array): number => { let s = 0; for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | b[i + 1]; return s; };
    const fold = (s: number): number => { while (s > 0xffff) s = (s & 0xffff) + (s >>> 16); return ~s & 0xffff; };
    const before = fold(sumOf(even));
    const updated = updateChecksum128(before, even, 0, next, 0);
    even.set(next, 0);
    return updated === fold(sumOf(even));
  }), { numRuns: 3000 });
});

t.test('hop limit: decremented, 1 and 0 expire untouched', async (t) => {
  for (const [hop, expected] of [[64, RewriteResult.OK], [2, RewriteResult.OK], [1, RewriteResult.TTL_EXPIRED], [0, RewriteResult.TTL_EXPIRED]] as const) {
    const frame = buildFrame6({ src: CLIENT, dst: VIP, hopLimit: hop, tcp: { srcPort: 1, dstPort: 80 } });
    const { view, p } = parsed(frame, 0, frame.length);
    t.equal(decrementHopLimit(view.u8, p), expected, `hop limit ${hop}`);
    t.equal(frame[14 + 7], expected === RewriteResult.OK ? hop - 1 : hop);
  }
});

t.test('IPv6-in-IPv6: headroom, in-slot move, MTU', async (t) => {
  const inner = buildFrame6({ src: CLIENT, dst: VIP, tcp: { srcPort: 1, dstPort: 80 }, payload: 'x' });
  for (const offset of [300, FRAME_SIZE]) {
    const memory = new Uint8Array(2 * FRAME_SIZE);
    memory.set(inner, offset);
    const { view, p } = parsed(memory, offset, inner.length);
    const span = new FrameSpan();
    t.equal(encapsulateIp6ip6(view.u8, view.dv, p, offset, FRAME_SIZE, parseIpv6(DIR), parseIpv6(RS), 63, RS_MAC, DIR_MAC, 1500, span), RewriteResult.OK);
    t.equal(span.length, inner.length + 40);
    t.equal(span.offset, offset === 300 ? 260 : FRAME_SIZE);
    const outer = span.offset + 14;
    t.equal(memory[outer + 6], 41, 'next header 41');
    t.equal(formatIpv6(memory, outer + 24), RS);
    t.same([...memory.slice(outer + 40, outer + 40 + inner.length - 14)], [...inner.slice(14)], 'inner packet intact');
    t.equal(encapsulateIp6ip6(view.u8, view.dv, p, offset, FRAME_SIZE, parseIpv6(DIR), parseIpv6(RS), 63, RS_MAC, DIR_MAC, inner.length - 14 + 39, span),
      RewriteResult.MTU_EXCEEDED);
  }
});

t.test('tshark decodes rewritten IPv6 frames with good checksums', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-packet6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out: Uint8Array[] = [];
  const rewrite = (frame: Uint8Array, offset: number, f: (v: FrameView, p: ParsedIpv6, span: FrameSpan) => void): void => {
    const memory = new Uint8Array(2 * FRAME_SIZE);
    memory.set(frame, offset);
    const { view, p } = parsed(memory, offset, frame.length);
    const span = new FrameSpan();
    span.offset = offset; span.length = frame.length;
    f(view, p, span);
    out.push(memory.slice(span.offset, span.offset + span.length));
  };
  rewrite(buildFrame6({ src: CLIENT, dst: VIP, tcp: { srcPort: 40000, dstPort: 80, ack: 5 }, payload: 'GET / HTTP/1.0\r\n\r\n' }), 300, (v, p) => {
    decrementHopLimit(v.u8, p);
    rewriteForNat66(v.u8, v.dv, p, parseIpv6(RS), 0, 8080);
    rewriteForDirectRouting(v.u8, 300, RS_MAC, DIR_MAC);
  });
  rewrite(buildFrame6({ src: RS, dst: CLIENT, extensions: [{ type: 60 }], udp: { srcPort: 7001, dstPort: 40500 }, payload: 'answer' }), 300, (v, p) => {
    rewriteNat66Reply(v.u8, v.dv, p, parseIpv6(VIP), 0, 7000);
  });
  rewrite(buildFrame6({ src: CLIENT, dst: VIP, tcp: { srcPort: 40001, dstPort: 80 }, payload: 'x' }), 300, (v, p, span) => {
    decrementHopLimit(v.u8, p);
    encapsulateIp6ip6(v.u8, v.dv, p, 300, FRAME_SIZE, parseIpv6(DIR), parseIpv6(RS), p.hopLimit, RS_MAC, DIR_MAC, 1500, span);
  });
  const path = join(dir, 'rewritten6.pcap');
  writePcapFile(path, out);
  const run = spawnSync('tshark', ['-r', path, '-V', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'],
    { encoding: 'utf8', timeout: 60_000 });
  t.equal(run.status, 0, `tshark ran: ${run.stderr}`);
  const text = run.stdout;
  t.notMatch(text, /status: Bad|Malformed|Expert Info \(Error/i, 'no bad checksum or malformed packet');
  const good = text.match(/\[Checksum [Ss]tatus: Good\]/g) ?? [];
  t.ok(good.length >= 3, `${good.length} good transport checksums (TCP, UDP, inner TCP)`);
  t.match(text, /Destination Address: 2001:2:0:1::10[\s\S]*Destination Port: 8080/, 'NAT66 destination');
  t.match(text, /Source Address: 2001:2::100\n[\s\S]*Source Port: 7000\n/, 'NAT66 reply source');
  t.match(text, /Next Header: IPv6 \(41\)/, 'IPv6-in-IPv6 outer next header');
  t.match(text, /Hop Limit: 63/, 'hop limit decremented');
  if (t.passing() === false) t.comment(text);
});
