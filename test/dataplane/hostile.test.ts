// Hostile traffic to the VIP (issue 15 part 5), over synthetic frame memory: each packet is
// forwarded correctly or dropped and counted by reason, never forwarded where it must not go.
import t from 'tap';
import { C_DROP_BASE, C_PARSE_BASE, COUNTER_COUNT, DATAPLANE_DROP_NAMES, DataplaneDrop } from '../../src/dataplane/counters.js';
import { PipelineRig, caseSnapshot, CLIENT_MAC, DIRECTOR_MAC, INSIDE_MAC, RS_MAC } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { hasSourceRoute } from '../../src/dataplane/screen.js';
import { FORWARD_DR, FORWARD_NAT } from '../../src/dataplane/snapshot.js';
import { DROP, TX, TX_OTHER } from '../../src/io/port.js';
import { ipToNumber } from '../../src/packet/addr.js';
import { buildFrame, ipPacketOf, type FrameOptions } from '../../src/packet/build.js';
import { ipv4HeaderChecksumValid, transportChecksumValid } from '../../src/packet/checksum.js';
import { PARSE_RESULT_NAMES, ParsedFrame, ParseResult, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, parseFrame } from '../../src/packet/parse.js';

function parse(frame: Uint8Array): { result: number; parsed: ParsedFrame } {
  const parsed = new ParsedFrame();
  const result = parseFrame(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.length, parsed);
  return { result, parsed };
}

const CLIENT = '198.18.0.1';
const VIP = '198.18.0.100';
const tcpTo = (o: Partial<FrameOptions> & { flags?: number; srcPort?: number; src?: string } = {}): Uint8Array => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ...o,
  ip: { src: o.src ?? CLIENT, dst: VIP, ...o.ip },
  tcp: { srcPort: o.srcPort ?? 40000, dstPort: 80, flags: o.flags ?? TCP_SYN },
});

/** Which counter moved (name), the verdict and the frame that left. */
function sendOne(rig: PipelineRig, frame: Uint8Array, side: 'outside' | 'inside' = 'outside'): { verdict: number; counter: string | null; out: Uint8Array } {
  const before = Float64Array.from(rig.counters);
  const { verdict, out } = rig.send({ side, frame });
  let counter: string | null = null;
  for (let i = C_PARSE_BASE; i < COUNTER_COUNT; i++) {
    if (rig.counters[i] === before[i] + 1 && i >= C_PARSE_BASE + ParseResult.TRUNCATED_ETHERNET) {
      counter = i >= C_DROP_BASE ? DATAPLANE_DROP_NAMES[i - C_DROP_BASE] ?? null : PARSE_RESULT_NAMES[i - C_PARSE_BASE];
    }
  }
  return { verdict, counter, out };
}

t.test('IP options: harmless ones forwarded with the options intact, source routes dropped and counted', (t) => {
  const rig = new PipelineRig(caseSnapshot({ forward: FORWARD_DR }));
  // Record route (7), then a timestamp (68): forwarded as the kernel would, options untouched.
  const recordRoute = Uint8Array.from([7, 7, 4, 0, 0, 0, 0, 68, 8, 5, 0, 0, 0, 0, 0]);
  const ok = sendOne(rig, tcpTo({ ip: { src: CLIENT, dst: VIP, options: recordRoute } }));
  t.equal(ok.verdict, TX);
  const v = parse(ok.out);
  t.equal(v.result, ParseResult.OK);
  t.equal(v.parsed.ipHeaderLength, 36, 'options kept');
  t.ok(ipv4HeaderChecksumValid(ok.out, 14, 36), 'header checksum still valid after the TTL decrement');
  t.same([...ok.out.subarray(34, 34 + recordRoute.length)], [...recordRoute]);
  for (const [name, option] of [['LSRR', [0x83, 7, 4, 198, 18, 0, 10]], ['SSRR', [0x89, 7, 4, 198, 18, 0, 10]], ['malformed length', [7, 40, 4]]] as const) {
    const r = sendOne(rig, tcpTo({ srcPort: 40001, ip: { src: CLIENT, dst: VIP, options: Uint8Array.from(option) } }));
    t.equal(r.verdict, DROP, `${name}: dropped`);
    t.equal(r.counter, 'SOURCE_ROUTE', `${name}: counted as SOURCE_ROUTE`);
  }
  t.notOk(hasSourceRoute(Uint8Array.from([0x45, ...new Array(19).fill(0), 1, 1, 0, 0x83]), 0, 24), 'options after END are not read');
  t.end();
});

t.test('VLAN-tagged frames to the VIP are dropped and counted, on both sides', (t) => {
  const dr = new PipelineRig(caseSnapshot({ forward: FORWARD_DR }));
  const r = sendOne(dr, tcpTo({ vlanId: 42 }));
  t.equal(r.verdict, DROP);
  t.equal(r.counter, 'VLAN_TAGGED');
  const nat = new PipelineRig(caseSnapshot({ forward: FORWARD_NAT }));
  t.equal(sendOne(nat, tcpTo()).verdict, TX_OTHER, 'the untagged request opens the NAT flow');
  const taggedReply = buildFrame({
    dstMac: INSIDE_MAC, srcMac: RS_MAC(1), vlanId: 7, ip: { src: '198.18.1.10', dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 40000, flags: TCP_SYN | TCP_ACK },
  });
  const reply = sendOne(nat, taggedReply, 'inside');
  t.equal(reply.verdict, DROP, 'a tagged reply of that flow is not sent to the client');
  t.equal(reply.counter, 'VLAN_TAGGED');
  t.end();
});

t.test('IPIP to the VIP, and stacked VLAN tags: dropped and counted by the parser', (t) => {
  const rig = new PipelineRig(caseSnapshot({ forward: FORWARD_DR }));
  const inner = ipPacketOf(tcpTo());
  const ipip = sendOne(rig, buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, protocol: 4 }, l4: inner }));
  t.equal(ipip.verdict, DROP);
  t.equal(ipip.counter, 'UNSUPPORTED_PROTOCOL', 'ulvs does not decapsulate: IPIP is not a service packet');
  const qinq = sendOne(rig, tcpTo({ vlanId: 1, ethertype: 0x8100 }));
  t.equal(qinq.verdict, DROP);
  t.equal(qinq.counter, 'STACKED_VLAN');
  t.end();
});

t.test('tiny, overlapping and later fragments are dropped and counted, none forwarded', (t) => {
  const rig = new PipelineRig(caseSnapshot({ forward: FORWARD_DR }));
  const payload = new Uint8Array(64);
  const frags: [string, Uint8Array][] = [
    // A first fragment of 8 bytes: the ports but not the TCP flags (RFC 1858's tiny fragment).
    ['tiny first fragment', buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, protocol: 6, mf: true, df: false }, l4: ipPacketOf(tcpTo()).subarray(20, 28) })],
    // Offset 8: rewrites the TCP flags of a first fragment already seen (RFC 1858's overlap).
    ['overlapping fragment at offset 8', buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, protocol: 6, fragmentOffset: 8, df: false }, l4: payload })],
    ['last fragment', buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, protocol: 6, fragmentOffset: 1480, df: false }, l4: payload })],
  ];
  for (const [name, frame] of frags) {
    const r = sendOne(rig, frame);
    t.equal(r.verdict, DROP, `${name}: dropped`);
    t.match(r.counter ?? '', /FRAG/, `${name}: counted as a fragment drop (${r.counter})`);
  }
  t.equal(rig.flows.stats.size, 0, 'no fragment opened a connection');
  t.end();
});

t.test('every TCP flag combination without a connection: only a SYN (no ACK/RST/FIN) opens one', (t) => {
  const mismatches: string[] = [];
  for (let flags = 0; flags < 256; flags++) {
    const rig = new PipelineRig(caseSnapshot({ forward: FORWARD_DR }));
    const r = sendOne(rig, tcpTo({ flags, srcPort: 41000 + flags }));
    const opens = (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN;
    const got = r.verdict === TX ? 'TX' : `DROP/${r.counter}`;
    const want = opens ? 'TX' : 'DROP/NO_FLOW';
    if (got !== want) mismatches.push(`flags 0x${flags.toString(16)}: ${got}, wanted ${want}`);
    if (r.verdict === TX) {
      const v = parse(r.out);
      if (!transportChecksumValid(r.out, v.parsed.l4Offset, v.parsed.l4Length, v.parsed.srcIp, v.parsed.dstIp, 6)) mismatches.push(`flags ${flags}: bad checksum`);
    }
  }
  t.same(mismatches, []);
  t.end();
});

t.test('martian sources to the VIP are dropped and counted', (t) => {
  const rig = new PipelineRig(caseSnapshot({ forward: FORWARD_DR }));
  for (const src of ['0.0.0.1', '127.0.0.1', '224.0.0.5', '240.0.0.1', '255.255.255.255']) {
    const r = sendOne(rig, tcpTo({ src }));
    t.equal(r.verdict, DROP, `${src}: dropped`);
    t.equal(r.counter, 'MARTIAN_SOURCE', `${src}: counted`);
  }
  t.equal(rig.flows.stats.size, 0);
  t.end();
});

t.test('spoofed NAT "replies" from an address or port that is not the connection\'s real server are dropped', (t) => {
  const rig = new PipelineRig(caseSnapshot({ forward: FORWARD_NAT }));
  t.equal(sendOne(rig, tcpTo({ srcPort: 45000 })).verdict, TX_OTHER);
  const reply = (src: string, srcPort: number): Uint8Array => buildFrame({
    dstMac: INSIDE_MAC, srcMac: RS_MAC(1), ip: { src, dst: CLIENT }, tcp: { srcPort, dstPort: 45000, flags: TCP_SYN | TCP_ACK },
  });
  for (const [what, frame] of [
    ['another inside host', reply('198.18.1.99', 8080)],
    ['another real server of the service', reply('198.18.1.20', 8080)],
    ['the right server, another port', reply('198.18.1.10', 8081)],
  ] as const) {
    const r = sendOne(rig, frame, 'inside');
    t.equal(r.verdict, DROP, `${what}: dropped`);
    t.equal(r.counter, 'REPLY_NO_FLOW', `${what}: counted`);
  }
  // The same spoof arriving on the outside, addressed to the client: not for a VIP at all.
  const outside = sendOne(rig, buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: '198.18.1.10', dst: CLIENT }, tcp: { srcPort: 8080, dstPort: 45000, flags: TCP_ACK } }));
  t.equal(outside.verdict, DROP);
  t.equal(outside.counter, 'NO_SERVICE');
  const real = sendOne(rig, reply('198.18.1.10', 8080), 'inside');
  t.equal(real.verdict, TX_OTHER, 'the real server\'s own reply still goes out');
  t.equal(parse(real.out).result, ParseResult.OK);
  t.equal(ipToNumber(VIP), new DataView(real.out.buffer).getUint32(26), 'with the VIP as its source');
  t.end();
});

t.test('the drop reasons are distinct counters with names', (t) => {
  t.equal(new Set(Object.values(DataplaneDrop)).size, DATAPLANE_DROP_NAMES.length);
  t.ok(DATAPLANE_DROP_NAMES.includes('VLAN_TAGGED') && DATAPLANE_DROP_NAMES.includes('SOURCE_ROUTE') && DATAPLANE_DROP_NAMES.includes('MARTIAN_SOURCE'));
  t.end();
});
