import t from 'tap';
import fc from 'fast-check';
import {
  FrameView, ParsedFrame, ParseResult, PARSE_RESULT_NAMES, PARSE_RESULT_COUNT, parseFrame,
  TCP_ACK, TCP_SYN, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED_CODE, ICMP_ECHO_REQUEST,
} from '../../src/packet/parse.js';
import { buildArpFrame, buildFrame, ipPacketOf } from '../../src/packet/build.js';
import { ipToNumber } from '../../src/packet/addr.js';

const CLIENT = '198.18.0.1';
const VIP = '198.18.0.100';
const tcp = { srcPort: 40000, dstPort: 80 };
const ip = { src: CLIENT, dst: VIP };

function parse(frame: Uint8Array, length = frame.length, offset = 0): { result: number; p: ParsedFrame } {
  const view = new FrameView(frame);
  const p = new ParsedFrame();
  return { result: parseFrame(view.u8, view.dv, offset, length, p), p };
}

interface Fixture {
  description: string;
  input: Uint8Array;
  length?: number;
  expected: ParseResult;
  fields?: Partial<Record<keyof ParsedFrame, number | boolean>>;
}

const quoted = ipPacketOf(buildFrame({ ip: { src: VIP, dst: CLIENT }, tcp: { srcPort: 80, dstPort: 40000 } })).slice(0, 28);

const fixtures: Fixture[] = [
  { description: 'TCP SYN', input: buildFrame({ ip, tcp }), expected: ParseResult.OK,
    fields: { ethertype: 0x0800, l3Offset: 14, ipHeaderLength: 20, totalLength: 40, protocol: 6, srcIp: 0xc6120001,
      dstIp: 0xc6120064, l4Offset: 34, l4Length: 20, srcPort: 40000, dstPort: 80, tcpFlags: TCP_SYN, l4HeaderLength: 20,
      payloadOffset: 54, vlanId: -1, ttl: 64, dontFragment: true, moreFragments: false, tcpSeq: 1 } },
  { description: 'TCP with payload and options', input: buildFrame({ ip, tcp: { ...tcp, ack: 7, seq: 0xfffffff0, options: new Uint8Array([2, 4, 5, 0xb4, 1, 1, 4, 2]) }, payload: 'GET / HTTP/1.0\r\n\r\n' }),
    expected: ParseResult.OK, fields: { l4HeaderLength: 28, payloadOffset: 62, tcpFlags: TCP_SYN | TCP_ACK, tcpSeq: 0xfffffff0, tcpAck: 7, totalLength: 20 + 28 + 18 } },
  { description: 'IP options shift L4', input: buildFrame({ ip: { ...ip, options: new Uint8Array([0x94, 4, 0, 0, 1, 1, 1, 0]) }, tcp }),
    expected: ParseResult.OK, fields: { ipHeaderLength: 28, l4Offset: 42, srcPort: 40000, dstPort: 80 } },
  { description: 'maximum IHL (60-byte header)', input: buildFrame({ ip: { ...ip, options: new Uint8Array(40).fill(1) }, udp: { srcPort: 1, dstPort: 2 } }),
    expected: ParseResult.OK, fields: { ipHeaderLength: 60, l4Offset: 74 } },
  { description: 'UDP', input: buildFrame({ ip, udp: { srcPort: 5353, dstPort: 53 }, payload: 'q' }), expected: ParseResult.OK,
    fields: { protocol: 17, srcPort: 5353, dstPort: 53, l4HeaderLength: 8, l4Length: 9, payloadOffset: 42 } },
  { description: 'UDP without checksum', input: buildFrame({ ip, udp: { srcPort: 5353, dstPort: 53, checksum: 'none' } }), expected: ParseResult.OK },
  { description: 'ICMP echo', input: buildFrame({ ip, icmp: { type: ICMP_ECHO_REQUEST, rest: 0x00010002 } }), expected: ParseResult.OK,
    fields: { protocol: 1, icmpType: 8, icmpCode: 0, icmpInnerL3Offset: -1 } },
  { description: 'ICMP frag needed quoting a TCP header', input: buildFrame({ ip: { src: '198.18.0.254', dst: VIP }, icmp: { type: ICMP_DEST_UNREACH, code: ICMP_FRAG_NEEDED_CODE, rest: 1480 }, payload: quoted }),
    expected: ParseResult.OK, fields: { icmpType: 3, icmpCode: 4, icmpInnerL3Offset: 42, icmpInnerProtocol: 6, icmpInnerSrcIp: 0xc6120064,
      icmpInnerDstIp: 0xc6120001, icmpInnerSrcPort: 80, icmpInnerDstPort: 40000 } },
  { description: 'ICMP error with a too-short quote is OK without inner fields', input: buildFrame({ ip, icmp: { type: ICMP_DEST_UNREACH, code: 1 }, payload: quoted.slice(0, 24) }),
    expected: ParseResult.OK, fields: { icmpInnerL3Offset: -1 } },
  { description: 'VLAN-tagged TCP', input: buildFrame({ vlanId: 42, ip, tcp }), expected: ParseResult.OK,
    fields: { vlanId: 42, ethertype: 0x0800, l3Offset: 18, l4Offset: 38, dstPort: 80 } },
  { description: 'Ethernet padding after a short packet is fine', input: buildFrame({ ip, udp: { srcPort: 1, dstPort: 2 }, padTo: 60 }),
    expected: ParseResult.OK, fields: { totalLength: 28, l4Length: 8 } },
  { description: 'ARP request', input: buildArpFrame({ op: 1, senderIp: CLIENT, targetIp: VIP, dstMac: 'ff:ff:ff:ff:ff:ff', padTo: 60 }),
    expected: ParseResult.ARP, fields: { ethertype: 0x0806, arpOp: 1, srcIp: 0xc6120001, dstIp: 0xc6120064 } },
  { description: 'VLAN ARP reply', input: buildArpFrame({ vlanId: 7, op: 2, senderIp: VIP, targetIp: CLIENT }), expected: ParseResult.ARP,
    fields: { vlanId: 7, arpOp: 2, l3Offset: 18 } },
  // drops, one per reason
  { description: 'runt Ethernet', input: new Uint8Array(13), expected: ParseResult.TRUNCATED_ETHERNET },
  { description: 'VLAN tag cut short', input: buildFrame({ vlanId: 1, ip, tcp }), length: 17, expected: ParseResult.TRUNCATED_ETHERNET },
  { description: 'QinQ', input: buildFrame({ vlanId: 1, ethertype: 0x8100, ip, tcp }), expected: ParseResult.STACKED_VLAN },
  { description: 'unknown ethertype', input: buildFrame({ ethertype: 0x88cc, ip, tcp }), expected: ParseResult.UNKNOWN_ETHERTYPE },
  { description: 'IPv6', input: buildFrame({ ethertype: 0x86dd, ip, tcp }), expected: ParseResult.IPV6 },
  { description: 'ARP cut short', input: buildArpFrame({ op: 1, senderIp: CLIENT, targetIp: VIP }), length: 14 + 27, expected: ParseResult.TRUNCATED_ARP },
  { description: 'ARP for a non-IPv4 protocol', input: (() => { const f = buildArpFrame({ op: 1, senderIp: CLIENT, targetIp: VIP }); f[16] = 0x86; f[17] = 0xdd; return f; })(),
    expected: ParseResult.UNKNOWN_ETHERTYPE },
  { description: 'IPv4 header cut short', input: buildFrame({ ip, tcp }), length: 14 + 19, expected: ParseResult.TRUNCATED_IP },
  { description: 'IP version 6 in an IPv4 ethertype', input: buildFrame({ ip: { ...ip, version: 6 }, tcp }), expected: ParseResult.BAD_IP_VERSION },
  { description: 'IHL 4', input: buildFrame({ ip: { ...ip, ihl: 4 }, tcp }), expected: ParseResult.BAD_IHL },
  { description: 'IHL past the frame', input: buildFrame({ ip: { ...ip, ihl: 15 }, udp: { srcPort: 1, dstPort: 2 } }), expected: ParseResult.TRUNCATED_IP },
  { description: 'total length below header length', input: buildFrame({ ip: { ...ip, totalLength: 19 }, tcp }), expected: ParseResult.BAD_TOTAL_LENGTH },
  { description: 'total length past the frame', input: buildFrame({ ip: { ...ip, totalLength: 41 }, tcp }), expected: ParseResult.TRUNCATED_IP },
  { description: 'frame shorter than total length', input: buildFrame({ ip, tcp, payload: 'abc' }), length: 14 + 42, expected: ParseResult.TRUNCATED_IP },
  { description: 'bad IP header checksum', input: buildFrame({ ip: { ...ip, checksum: 0xbeef }, tcp }), expected: ParseResult.BAD_IP_CHECKSUM },
  { description: 'first fragment (MF)', input: buildFrame({ ip: { ...ip, mf: true }, tcp }), expected: ParseResult.FRAGMENT, fields: { moreFragments: true, fragmentOffset: 0 } },
  { description: 'later fragment (offset)', input: buildFrame({ ip: { ...ip, df: false, fragmentOffset: 1480 }, udp: { srcPort: 1, dstPort: 2 } }), expected: ParseResult.FRAGMENT,
    fields: { fragmentOffset: 1480, moreFragments: false } },
  { description: 'GRE', input: buildFrame({ ip: { ...ip, protocol: 47 }, l4: new Uint8Array(4) }), expected: ParseResult.UNSUPPORTED_PROTOCOL, fields: { protocol: 47 } },
  { description: 'TCP header cut short', input: buildFrame({ ip: { ...ip, protocol: 6 }, l4: new Uint8Array(19) }), expected: ParseResult.TRUNCATED_L4 },
  { description: 'UDP header cut short', input: buildFrame({ ip: { ...ip, protocol: 17 }, l4: new Uint8Array(7) }), expected: ParseResult.TRUNCATED_L4 },
  { description: 'ICMP header cut short', input: buildFrame({ ip: { ...ip, protocol: 1 }, l4: new Uint8Array(7) }), expected: ParseResult.TRUNCATED_L4 },
  { description: 'TCP data offset 4', input: buildFrame({ ip, tcp: { ...tcp, dataOffset: 4 } }), expected: ParseResult.BAD_TCP_OFFSET },
  { description: 'TCP data offset past the segment', input: buildFrame({ ip, tcp: { ...tcp, dataOffset: 6 } }), expected: ParseResult.BAD_TCP_OFFSET },
  { description: 'UDP length past the datagram', input: buildFrame({ ip, udp: { srcPort: 1, dstPort: 2, length: 9 } }), expected: ParseResult.BAD_UDP_LENGTH },
  { description: 'UDP length below 8', input: buildFrame({ ip, udp: { srcPort: 1, dstPort: 2, length: 7 } }), expected: ParseResult.BAD_UDP_LENGTH },
];

t.test('parse fixtures', async (t) => {
  for (const f of fixtures) {
    const { result, p } = parse(f.input, f.length ?? f.input.length);
    t.equal(PARSE_RESULT_NAMES[result], PARSE_RESULT_NAMES[f.expected], f.description);
    for (const [key, value] of Object.entries(f.fields ?? {})) {
      t.equal(p[key as keyof ParsedFrame], value, `${f.description}: ${key}`);
    }
  }
});

t.test('every parse result has a fixture and a name', async (t) => {
  const covered = new Set(fixtures.map((f) => f.expected));
  for (let code = 0; code < PARSE_RESULT_COUNT; code++) {
    t.ok(covered.has(code as ParseResult), `fixture for ${PARSE_RESULT_NAMES[code]}`);
    t.type(PARSE_RESULT_NAMES[code], 'string');
  }
});

t.test('parses at an offset inside shared frame memory (a UMEM slot)', async (t) => {
  const frame = buildFrame({ vlanId: 5, ip, udp: { srcPort: 9, dstPort: 53 } });
  const memory = new Uint8Array(4 * 2048);
  memory.set(frame, 2048 * 2 + 256);
  // The view itself starts mid-ArrayBuffer, as a sub-array of a larger allocation would.
  const sub = new Uint8Array(memory.buffer, 2048, 3 * 2048);
  const view = new FrameView(sub);
  const p = new ParsedFrame();
  t.equal(parseFrame(view.u8, view.dv, 2048 + 256, frame.length, p), ParseResult.OK);
  t.equal(p.dstIp, ipToNumber(VIP));
  t.equal(p.l4Offset, 2048 + 256 + 18 + 20);
  t.equal(p.frameOffset, 2048 + 256);
  t.equal(parseFrame(view.u8, view.dv, sub.length - 10, 20, p), ParseResult.TRUNCATED_ETHERNET, 'range past the memory');
  t.equal(parseFrame(view.u8, view.dv, -1, 60, p), ParseResult.TRUNCATED_ETHERNET, 'negative offset');
});

t.test('a reused ParsedFrame does not leak VLAN or ICMP quote fields between frames', async (t) => {
  const p = new ParsedFrame();
  const a = new FrameView(buildFrame({ vlanId: 9, ip: { src: VIP, dst: CLIENT }, icmp: { type: 3, code: 3 }, payload: quoted }));
  t.equal(parseFrame(a.u8, a.dv, 0, a.u8.length, p), ParseResult.OK);
  t.equal(p.vlanId, 9);
  t.ok(p.icmpInnerL3Offset > 0);
  const b = new FrameView(buildFrame({ ip, icmp: { type: 8 } }));
  t.equal(parseFrame(b.u8, b.dv, 0, b.u8.length, p), ParseResult.OK);
  t.equal(p.vlanId, -1);
  t.equal(p.icmpInnerL3Offset, -1);
});

t.test('fuzz: random bytes of random length never throw and give a known code (property)', async () => {
  const p = new ParsedFrame();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 64 }), fc.integer({ min: -4, max: 260 }),
    (bytes, offset, length) => {
      const memory = new Uint8Array(offset + bytes.length);
      memory.set(bytes, offset);
      const view = new FrameView(memory);
      const r = parseFrame(view.u8, view.dv, offset, length, p);
      return Number.isInteger(r) && r >= 0 && r < PARSE_RESULT_COUNT;
    }), { numRuns: 20000 });
});

t.test('fuzz: mutated valid frames never throw; OK results have offsets inside the frame (property)', async () => {
  const seeds = fixtures.filter((f) => f.expected === ParseResult.OK).map((f) => f.input);
  const p = new ParsedFrame();
  fc.assert(fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(),
    (seed, mutations, cut) => {
      const frame = seed.slice();
      for (const [at, value] of mutations) frame[at % frame.length] = value;
      const length = cut % 3 === 0 ? frame.length : cut % (frame.length + 1);
      const view = new FrameView(frame);
      const r = parseFrame(view.u8, view.dv, 0, length, p);
      if (r !== ParseResult.OK) return r > 0 && r < PARSE_RESULT_COUNT;
      return p.l4Offset + p.l4HeaderLength <= length && p.l3Offset + p.totalLength <= length && p.payloadOffset <= length;
    }), { numRuns: 20000 });
});
