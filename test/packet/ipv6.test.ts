// IPv6 parsing: a fixture table (one row per outcome), then the fuzz property that
// parseIpv6Packet never throws and never reads outside the frame, whatever the bytes.
import t from 'tap';
import fc from 'fast-check';
import { FrameView, ParsedFrame, ParseResult, parseFrame, TCP_SYN } from '../../src/packet/parse.js';
import {
  ICMPV6_ECHO_REQUEST, ICMPV6_PACKET_TOO_BIG, IPV6_MAX_EXTENSION_HEADERS, PARSE6_RESULT_COUNT, PARSE6_RESULT_NAMES,
  Parse6Result, ParsedIpv6, parseIpv6Packet,
} from '../../src/packet/ipv6.js';
import { buildFrame6, ipv6PacketOf, type ExtensionHeader } from '../../src/packet/build6.js';

const CLIENT = '2001:2::1';
const VIP = '2001:2::100';
const ip = { src: CLIENT, dst: VIP };
const tcp = { srcPort: 40000, dstPort: 80 };

function parse6(frame: Uint8Array, length = frame.length): { result: number; p: ParsedIpv6 } {
  const view = new FrameView(frame);
  const outer = new ParsedFrame();
  const first = parseFrame(view.u8, view.dv, 0, length, outer);
  if (first !== ParseResult.IPV6) throw new Error(`parseFrame said ${first}, not IPV6`);
  const p = new ParsedIpv6();
  return { result: parseIpv6Packet(view.u8, view.dv, outer.l3Offset, length, p), p };
}

interface Fixture {
  description: string;
  input: Uint8Array;
  length?: number;
  expected: Parse6Result;
  fields?: Partial<Record<keyof ParsedIpv6, number | boolean>>;
}

const hbh: ExtensionHeader = { type: 0 };
const dstopts: ExtensionHeader = { type: 60, body: new Uint8Array(14) };
const quote = ipv6PacketOf(buildFrame6({ src: VIP, dst: CLIENT, tcp: { srcPort: 80, dstPort: 40000 } })).slice(0, 48);
const withByte = (frame: Uint8Array, at: number, value: number): Uint8Array => { const f = frame.slice(); f[at] = value; return f; };

const fixtures: Fixture[] = [
  { description: 'TCP SYN', input: buildFrame6({ ...ip, tcp, flowLabel: 0x12345, trafficClass: 0x28 }), expected: Parse6Result.OK,
    fields: { l3Offset: 14, payloadLength: 20, hopLimit: 64, protocol: 6, l4Offset: 54, l4Length: 20, srcPort: 40000, dstPort: 80,
      tcpFlags: TCP_SYN, l4HeaderLength: 20, payloadOffset: 74, src0: 0x20010002, src3: 1, dst3: 0x100, flowLabel: 0x12345,
      trafficClass: 0x28, extensionHeaderCount: 0 } },
  { description: 'UDP with payload, VLAN tag', input: buildFrame6({ vlanId: 5, ...ip, udp: { srcPort: 5353, dstPort: 53 }, payload: 'q' }),
    expected: Parse6Result.OK, fields: { l3Offset: 18, protocol: 17, l4Length: 9, srcPort: 5353, dstPort: 53, payloadOffset: 66 } },
  { description: 'hop-by-hop + destination options + routing walked to TCP',
    input: buildFrame6({ ...ip, extensions: [hbh, dstopts, { type: 43 }], tcp }), expected: Parse6Result.OK,
    fields: { extensionHeaderCount: 3, l4Offset: 54 + 8 + 16 + 8, protocol: 6, dstPort: 80 } },
  { description: 'AH length in 4-byte units', input: buildFrame6({ ...ip, extensions: [{ type: 51, body: new Uint8Array(22) }], udp: { srcPort: 1, dstPort: 2 } }),
    expected: Parse6Result.OK, fields: { l4Offset: 54 + 24, extensionHeaderCount: 1 } },
  { description: 'atomic fragment (offset 0, M=0) is a whole packet', input: buildFrame6({ ...ip, extensions: [{ type: 44 }], tcp }),
    expected: Parse6Result.OK, fields: { l4Offset: 62, extensionHeaderCount: 1 } },
  { description: 'ICMPv6 echo', input: buildFrame6({ ...ip, icmp: { type: ICMPV6_ECHO_REQUEST, rest: 0x00010002 } }), expected: Parse6Result.OK,
    fields: { protocol: 58, icmpType: 128, icmpInnerL3Offset: -1 } },
  { description: 'ICMPv6 packet too big quoting TCP', input: buildFrame6({ src: '2001:2::fe', dst: VIP, icmp: { type: ICMPV6_PACKET_TOO_BIG, rest: 1280 }, payload: quote }),
    expected: Parse6Result.OK, fields: { icmpType: 2, icmpInnerL3Offset: 62, icmpInnerProtocol: 6, icmpInnerSrcPort: 80, icmpInnerDstPort: 40000 } },
  { description: 'Ethernet padding after the payload is fine', input: buildFrame6({ ...ip, udp: { srcPort: 1, dstPort: 2 }, padTo: 128 }),
    expected: Parse6Result.OK, fields: { l4Length: 8 } },
  // drops, one row per reason
  { description: 'shorter than the fixed header', input: buildFrame6({ ...ip, tcp }), length: 14 + 39, expected: Parse6Result.TRUNCATED_IP },
  { description: 'version 4 in an IPv6 ethertype', input: buildFrame6({ ...ip, tcp, version: 4 }), expected: Parse6Result.BAD_IP_VERSION },
  { description: 'payload length 0 (jumbogram)', input: buildFrame6({ ...ip, tcp, payloadLength: 0 }), expected: Parse6Result.BAD_PAYLOAD_LENGTH },
  { description: 'payload length beyond the frame', input: buildFrame6({ ...ip, tcp, payloadLength: 21 }), expected: Parse6Result.BAD_PAYLOAD_LENGTH },
  { description: 'multicast source', input: buildFrame6({ src: 'ff02::1', dst: VIP, tcp }), expected: Parse6Result.BAD_SOURCE_ADDRESS },
  { description: 'loopback source', input: buildFrame6({ src: '::1', dst: VIP, tcp }), expected: Parse6Result.BAD_SOURCE_ADDRESS },
  { description: 'extension header longer than the payload', input: buildFrame6({ ...ip, extensions: [{ type: 60, lengthByte: 9 }], tcp }),
    expected: Parse6Result.TRUNCATED_EXTENSION_HEADER },
  { description: 'extension header cut at 4 bytes', input: buildFrame6({ ...ip, nextHeader: 60, l4: new Uint8Array([6, 0, 0, 0]) }),
    expected: Parse6Result.TRUNCATED_EXTENSION_HEADER },
  { description: 'hop-by-hop after another header', input: buildFrame6({ ...ip, extensions: [dstopts, hbh], tcp }), expected: Parse6Result.MISPLACED_HOP_BY_HOP },
  { description: `more than ${IPV6_MAX_EXTENSION_HEADERS} extension headers (a chain of destination options)`,
    input: buildFrame6({ ...ip, extensions: new Array<ExtensionHeader>(IPV6_MAX_EXTENSION_HEADERS + 1).fill({ type: 60 }), tcp }),
    expected: Parse6Result.TOO_MANY_EXTENSION_HEADERS },
  { description: 'first fragment', input: buildFrame6({ ...ip, extensions: [{ type: 44, moreFragments: true }], tcp }), expected: Parse6Result.FRAGMENT,
    fields: { moreFragments: true, fragmentOffset: 0, fragmentId: 0x12345678 } },
  { description: 'later fragment', input: buildFrame6({ ...ip, extensions: [{ type: 44, fragmentOffset: 1448 }], l4: new Uint8Array(8) }), expected: Parse6Result.FRAGMENT,
    fields: { fragmentOffset: 1448, moreFragments: false } },
  { description: 'no next header (59)', input: buildFrame6({ ...ip, nextHeader: 59, l4: new Uint8Array(8) }), expected: Parse6Result.UNSUPPORTED_PROTOCOL },
  { description: 'ESP', input: buildFrame6({ ...ip, nextHeader: 50, l4: new Uint8Array(16) }), expected: Parse6Result.UNSUPPORTED_PROTOCOL },
  { description: 'TCP cut short', input: buildFrame6({ ...ip, nextHeader: 6, l4: new Uint8Array(12) }), expected: Parse6Result.TRUNCATED_L4 },
  { description: 'TCP data offset 4', input: buildFrame6({ ...ip, tcp: { ...tcp, dataOffset: 4 } }), expected: Parse6Result.BAD_TCP_OFFSET },
  { description: 'UDP length beyond the payload', input: buildFrame6({ ...ip, udp: { srcPort: 1, dstPort: 2, length: 9 } }), expected: Parse6Result.BAD_UDP_LENGTH },
  { description: 'UDP checksum 0', input: buildFrame6({ ...ip, udp: { srcPort: 1, dstPort: 2, checksum: 'none' } }), expected: Parse6Result.UDP_ZERO_CHECKSUM },
  { description: 'ICMPv6 bad checksum', input: withByte(buildFrame6({ ...ip, icmp: { type: ICMPV6_ECHO_REQUEST } }), 14 + 40 + 7, 9),
    expected: Parse6Result.BAD_ICMPV6_CHECKSUM },
];

t.test('fixture table', async (t) => {
  for (const f of fixtures) {
    const { result, p } = parse6(f.input, f.length);
    t.equal(PARSE6_RESULT_NAMES[result], PARSE6_RESULT_NAMES[f.expected], f.description);
    for (const [key, value] of Object.entries(f.fields ?? {})) t.equal(p[key as keyof ParsedIpv6], value, `${f.description}: ${key}`);
  }
});

t.test('every drop reason has a fixture row', async (t) => {
  const covered = new Set(fixtures.map((f) => f.expected));
  for (let code = 0; code < PARSE6_RESULT_COUNT; code++) t.ok(covered.has(code as Parse6Result), PARSE6_RESULT_NAMES[code]);
});

t.test('parse never throws and stays inside the frame, on random bytes and mutated packets (property)', async () => {
  const base = buildFrame6({ ...ip, extensions: [hbh, dstopts], tcp, payload: 'hello' });
  const mutated = fc.tuple(fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.nat({ max: base.length })).map(([edits, cut]) => {
    const f = base.slice(0, Math.max(14, cut));
    for (const [at, v] of edits) if (at >= 14 && at < f.length) f[at] = v;
    return f;
  });
  const random = fc.uint8Array({ minLength: 0, maxLength: 200 });
  fc.assert(fc.property(fc.oneof(mutated, random), fc.nat({ max: 16 }), (bytes, pad) => {
    // The packet sits inside bigger memory filled with a marker: reads past `end` would show.
    const memory = new Uint8Array(bytes.length + pad + 64).fill(0xee);
    memory.set(bytes, pad);
    const view = new FrameView(memory);
    const p = new ParsedIpv6();
    const result = parseIpv6Packet(view.u8, view.dv, pad, pad + bytes.length, p);
    if (!(result >= 0 && result < PARSE6_RESULT_COUNT)) return false;
    if (result !== Parse6Result.OK) return true;
    const end = pad + bytes.length;
    return p.l4Offset + p.l4HeaderLength <= end && p.payloadOffset <= end && p.l4Offset + p.l4Length <= end;
  }), { numRuns: 3000 });
});
