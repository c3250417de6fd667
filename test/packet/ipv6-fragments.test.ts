// IPv6 fragments in parseIpv6Packet (issue 16): fixture rows for first, later and odd
// fragments, then properties against the reference fragmenter (build6.ts fragmentFrames6):
// every fragment of any UDP/TCP datagram parses to the fields the builder put there, and
// fragment-shaped random bytes never throw or lead reads out of the frame.
import t from 'tap';
import fc from 'fast-check';
import { FrameView, TCP_ACK } from '../../src/packet/parse.js';
import { PARSE6_RESULT_COUNT, PARSE6_RESULT_NAMES, Parse6Result, ParsedIpv6, parseIpv6Packet } from '../../src/packet/ipv6.js';
import { buildFrame6, fragmentFrames6, reassemble6, type Frame6Options } from '../../src/packet/build6.js';
import { ipv6TransportChecksumValid } from '../../src/packet/checksum6.js';

const ip = { src: '2001:2::1', dst: '2001:2::100' };

function parse(frame: Uint8Array, l3 = 14): { result: number; p: ParsedIpv6 } {
  const view = new FrameView(frame);
  const p = new ParsedIpv6();
  return { result: parseIpv6Packet(view.u8, view.dv, l3, frame.length, p), p };
}

const udp4000: Frame6Options = { ...ip, udp: { srcPort: 40000, dstPort: 9000 }, payload: new Uint8Array(4000).fill(7) };

t.test('fixtures: a 4,000-byte UDP datagram in 1,448-byte fragments', async (t) => {
  const frames = fragmentFrames6(udp4000, 0xdeadbeef, 1448);
  t.equal(frames.length, 3, 'three fragments');
  const [first, second, last] = frames.map((f) => parse(f));
  t.equal(PARSE6_RESULT_NAMES[first.result], 'FRAGMENT');
  t.match(first.p, { fragmentOffset: 0, moreFragments: true, fragmentId: 0xdeadbeef, protocol: 17, srcPort: 40000, dstPort: 9000,
    l4Offset: 14 + 48, l4Length: 1448, payloadLength: 1456, hopLimit: 64, extensionHeaderCount: 1 }, 'first: ports and header fields');
  t.match(second.p, { fragmentOffset: 1448, moreFragments: true, fragmentId: 0xdeadbeef, protocol: 17, srcPort: 0, dstPort: 0, l4Length: 1448 },
    'second: offset, M, id, next header; no ports');
  t.match(last.p, { fragmentOffset: 2896, moreFragments: false, protocol: 17, l4Length: 4008 - 2896 }, 'last: M clear, the rest of the bytes');
  const whole = reassemble6(frames);
  const check = new Uint8Array(54 + whole.length);
  check.set(frames[0].subarray(0, 54));
  check.set(whole, 54);
  t.ok(ipv6TransportChecksumValid(check, 14, 54, whole.length, 17), 'the reference builder\'s pieces reassemble to a datagram whose checksum verifies');
});

t.test('fixtures: odd fragments', async (t) => {
  const tcpFirst = fragmentFrames6({ ...ip, tcp: { srcPort: 5000, dstPort: 80, flags: TCP_ACK | 0x08, ack: 9 }, payload: new Uint8Array(100) }, 7, 64)[0];
  t.match(parse(tcpFirst).p, { srcPort: 5000, dstPort: 80, tcpFlags: TCP_ACK | 0x08, protocol: 6 }, 'TCP first fragment: ports and flags');
  const short = buildFrame6({ ...ip, extensions: [{ type: 44, moreFragments: true }], nextHeader: 17, l4: new Uint8Array(0) });
  const shortParsed = parse(short);
  t.equal(shortParsed.result, Parse6Result.FRAGMENT, 'a first fragment with no transport bytes is still a fragment');
  t.match(shortParsed.p, { srcPort: 0, dstPort: 0, l4Length: 0 }, '... without ports');
  const chained = buildFrame6({ ...ip, extensions: [{ type: 44, moreFragments: true }, { type: 60 }], udp: { srcPort: 1, dstPort: 2 } });
  t.match(parse(chained).p, { protocol: 60, srcPort: 0, dstPort: 0 }, 'destination options after the fragment header: no ports read');
  const behind = buildFrame6({ ...ip, extensions: [{ type: 0 }, { type: 44, moreFragments: true, fragmentId: 1 }], udp: { srcPort: 3, dstPort: 4 } });
  t.match(parse(behind).p, { extensionHeaderCount: 2, fragmentId: 1, srcPort: 3, dstPort: 4, l4Offset: 14 + 40 + 16 }, 'behind hop-by-hop options');
  const vlan = fragmentFrames6({ ...udp4000, vlanId: 9 }, 5, 1448)[1];
  t.match(parse(vlan, 18).p, { fragmentOffset: 1448, fragmentId: 5 }, 'VLAN-tagged frame (the path drops those; the parser reads them)');
  const cut = fragmentFrames6(udp4000, 5, 1448)[0].slice(0, 14 + 40 + 4);
  t.equal(parse(cut).result, Parse6Result.BAD_PAYLOAD_LENGTH, 'a fragment cut short of its payload length');
});

const datagram = fc.record({
  tcp: fc.boolean(),
  srcPort: fc.integer({ min: 1, max: 65535 }),
  dstPort: fc.integer({ min: 1, max: 65535 }),
  length: fc.integer({ min: 1, max: 9000 }),
  id: fc.integer({ min: 0, max: 0xffffffff }),
  piece: fc.integer({ min: 1, max: 200 }).map((n) => n * 8),
});

t.test('every fragment parses to what the reference fragmenter wrote (property)', async () => {
  fc.assert(fc.property(datagram, (d) => {
    const ports = { srcPort: d.srcPort, dstPort: d.dstPort };
    const o: Frame6Options = { ...ip, ...(d.tcp ? { tcp: ports } : { udp: ports }), payload: new Uint8Array(d.length).fill(0x5a) };
    const frames = fragmentFrames6(o, d.id, d.piece);
    const total = (d.tcp ? 20 : 8) + d.length;
    let offset = 0;
    for (const [i, f] of frames.entries()) {
      const { result, p } = parse(f);
      const more = i < frames.length - 1;
      if (frames.length === 1) {
        // Offset 0 and no M: an atomic fragment, a whole packet.
        if (result !== Parse6Result.OK || p.srcPort !== d.srcPort) return false;
        continue;
      }
      if (result !== Parse6Result.FRAGMENT) return false;
      if (p.fragmentOffset !== offset || p.moreFragments !== more || p.fragmentId !== d.id || p.protocol !== (d.tcp ? 6 : 17)) return false;
      if (p.l4Offset !== 62 || p.l4Length !== Math.min(d.piece, total - offset)) return false;
      const firstWithPorts = offset === 0 && p.l4Length >= (d.tcp ? 20 : 8);
      if (p.srcPort !== (firstWithPorts ? d.srcPort : 0) || p.dstPort !== (firstWithPorts ? d.dstPort : 0)) return false;
      offset += p.l4Length;
    }
    return offset === total || frames.length === 1;
  }), { numRuns: 500 });
});

t.test('fragment-shaped and random bytes never throw nor lead reads out of the frame (property)', async () => {
  const base = fragmentFrames6(udp4000, 1, 64)[0].slice(14);
  const mutated = fc.tuple(fc.array(fc.tuple(fc.nat({ max: 47 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat({ max: base.length }))
    .map(([edits, cut]) => {
      const f = base.slice(0, cut);
      for (const [at, v] of edits) if (at < f.length) f[at] = v;
      return f;
    });
  fc.assert(fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 120 })), fc.nat({ max: 16 }), (bytes, pad) => {
    const memory = new Uint8Array(bytes.length + pad + 64).fill(0xee);
    memory.set(bytes, pad);
    const view = new FrameView(memory);
    const p = new ParsedIpv6();
    const end = pad + bytes.length;
    const result = parseIpv6Packet(view.u8, view.dv, pad, end, p);
    if (!(result >= 0 && result < PARSE6_RESULT_COUNT)) return false;
    if (result !== Parse6Result.FRAGMENT) return true;
    // A fragment's transport bytes lie inside the packet; ports only when they fit.
    return p.l4Offset <= end && p.l4Offset + p.l4Length <= end && (p.dstPort === 0 || p.l4Offset + 8 <= end);
  }), { numRuns: 3000 });
});
