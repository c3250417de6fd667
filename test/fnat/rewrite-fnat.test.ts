// Full NAT rewrites: fixtures against frames built whole (buildFrame computes every checksum
// from scratch), and a property: any request/reply pair rewritten in place verifies.
import t from 'tap';
import fc from 'fast-check';
import { FrameView, ParsedFrame, ParseResult, parseFrame } from '../../src/packet/parse.js';
import { RewriteResult } from '../../src/packet/rewrite.js';
import { rewriteForFullNat, rewriteFullNatReply } from '../../src/packet/rewrite-fnat.js';
import { buildFrame } from '../../src/packet/build.js';
import { ipToNumber, numberToIp } from '../../src/packet/addr.js';
import { ipv4HeaderChecksumValid, transportChecksumValid } from '../../src/packet/checksum.js';

const CLIENT = '198.51.100.7', VIP = '198.18.0.100', LADDR = '198.18.1.200', RS = '10.20.30.40';

function load(frame: Uint8Array): { u8: Uint8Array; dv: DataView; p: ParsedFrame } {
  const view = new FrameView(new Uint8Array(4096));
  view.u8.set(frame, 256);
  const p = new ParsedFrame();
  const r = parseFrame(view.u8, view.dv, 256, frame.length, p);
  if (r !== ParseResult.OK) throw new Error(`fixture does not parse: ${r}`);
  return { u8: view.u8, dv: view.dv, p };
}

function valid(u8: Uint8Array, p: ParsedFrame): boolean {
  const l4Length = p.totalLength - (p.l4Offset - p.l3Offset);
  return ipv4HeaderChecksumValid(u8, p.l3Offset, p.l4Offset - p.l3Offset) &&
    transportChecksumValid(u8, p.l4Offset, l4Length, p.srcIp, p.dstIp, p.protocol);
}

const fixtures = [
  {
    description: 'TCP SYN toward the real server: client:cport -> VIP:80 becomes laddr:5000 -> rs:8080',
    input: buildFrame({ ip: { src: CLIENT, dst: VIP }, tcp: { srcPort: 40000, dstPort: 80, flags: 0x02, seq: 7 } }),
    apply: (u8: Uint8Array, dv: DataView, p: ParsedFrame) => rewriteForFullNat(u8, dv, p, Uint32Array.of(ipToNumber(LADDR), ipToNumber(RS)), 5000, 8080),
    output: buildFrame({ ip: { src: LADDR, dst: RS }, tcp: { srcPort: 5000, dstPort: 8080, flags: 0x02, seq: 7 } }),
  },
  {
    description: 'TCP reply: rs:8080 -> laddr:5000 becomes VIP:80 -> client:cport',
    input: buildFrame({ ip: { src: RS, dst: LADDR }, tcp: { srcPort: 8080, dstPort: 5000, ack: 8 }, payload: 'HTTP/1.1 200 OK\r\n' }),
    apply: (u8: Uint8Array, dv: DataView, p: ParsedFrame) => rewriteFullNatReply(u8, dv, p, Uint32Array.of(ipToNumber(VIP), ipToNumber(CLIENT)), 80, 40000),
    output: buildFrame({ ip: { src: VIP, dst: CLIENT }, tcp: { srcPort: 80, dstPort: 40000, ack: 8 }, payload: 'HTTP/1.1 200 OK\r\n' }),
  },
  {
    description: 'UDP with a checksum, both ways',
    input: buildFrame({ ip: { src: CLIENT, dst: VIP }, udp: { srcPort: 5353, dstPort: 53 }, payload: 'query' }),
    apply: (u8: Uint8Array, dv: DataView, p: ParsedFrame) => rewriteForFullNat(u8, dv, p, Uint32Array.of(ipToNumber(LADDR), ipToNumber(RS)), 65535, 53),
    output: buildFrame({ ip: { src: LADDR, dst: RS }, udp: { srcPort: 65535, dstPort: 53 }, payload: 'query' }),
  },
  {
    description: 'UDP checksum 0 (none) stays 0',
    input: buildFrame({ ip: { src: RS, dst: LADDR }, udp: { srcPort: 53, dstPort: 1024, checksum: 'none' }, payload: 'answer' }),
    apply: (u8: Uint8Array, dv: DataView, p: ParsedFrame) => rewriteFullNatReply(u8, dv, p, Uint32Array.of(ipToNumber(VIP), ipToNumber(CLIENT)), 53, 5353),
    output: buildFrame({ ip: { src: VIP, dst: CLIENT }, udp: { srcPort: 53, dstPort: 5353, checksum: 'none' }, payload: 'answer' }),
  },
];

t.test('Full NAT rewrite fixtures: bytes equal a frame built whole, checksums verify', async (t) => {
  for (const f of fixtures) {
    const { u8, dv, p } = load(f.input);
    t.equal(f.apply(u8, dv, p), RewriteResult.OK, f.description);
    t.equal(Buffer.from(u8.subarray(256, 256 + f.output.length)).toString('hex'), Buffer.from(f.output).toString('hex'), `${f.description}: bytes`);
    t.ok(valid(u8, p), `${f.description}: IP and L4 checksums verify`);
  }
});

t.test('ICMP is refused, frame untouched', async (t) => {
  const frame = buildFrame({ ip: { src: CLIENT, dst: VIP }, icmp: { type: 8, rest: 1 } });
  const { u8, dv, p } = load(frame);
  t.equal(rewriteForFullNat(u8, dv, p, Uint32Array.of(1, 3), 2, 4), RewriteResult.UNSUPPORTED_PROTOCOL);
  t.equal(Buffer.from(u8.subarray(256, 256 + frame.length)).toString('hex'), Buffer.from(frame).toString('hex'));
});

t.test('property: request then reply rewrites keep every checksum valid and restore the client view', async () => {
  const ip = fc.integer({ min: 0x01000000, max: 0xdfffffff });
  const port = fc.integer({ min: 1, max: 65535 });
  fc.assert(fc.property(ip, port, ip, port, ip, port, ip, port, fc.boolean(), fc.uint8Array({ maxLength: 64 }),
    (client, cport, vip, vport, laddr, lport, rs, rsport, udp, payload) => {
      const l4 = udp ? { udp: { srcPort: cport, dstPort: vport } } : { tcp: { srcPort: cport, dstPort: vport, seq: 1 } };
      const { u8, dv, p } = load(buildFrame({ ip: { src: numberToIp(client), dst: numberToIp(vip) }, ...l4, payload }));
      if (rewriteForFullNat(u8, dv, p, Uint32Array.of(laddr, rs), lport, rsport) !== RewriteResult.OK || !valid(u8, p)) return false;
      if (p.srcIp !== laddr || p.srcPort !== lport || p.dstIp !== rs || p.dstPort !== rsport) return false;
      // The real server answers: swap the addresses as its stack would.
      const back = udp ? { udp: { srcPort: rsport, dstPort: lport } } : { tcp: { srcPort: rsport, dstPort: lport, ack: 2 } };
      const r = load(buildFrame({ ip: { src: numberToIp(rs), dst: numberToIp(laddr) }, ...back, payload }));
      if (rewriteFullNatReply(r.u8, r.dv, r.p, Uint32Array.of(vip, client), vport, cport) !== RewriteResult.OK || !valid(r.u8, r.p)) return false;
      return r.p.srcIp === vip && r.p.srcPort === vport && r.p.dstIp === client && r.p.dstPort === cport;
    }), { numRuns: 500 });
});
