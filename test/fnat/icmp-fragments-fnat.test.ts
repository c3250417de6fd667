// Full NAT's ICMP errors and fragments over synthetic frames (PipelineRig), each output compared
// byte for byte with the frame built whole (so every checksum is the one a fresh build gives),
// with the local address on the inside interface as in `ulvs lab up --fnat`:
//  - an error from the client's path about VIP:80 -> client goes to the real server as one from
//    the local address about rs:8080 -> laddr:lport;
//  - the real server's error about laddr:lport -> rs:8080 reaches the client as one from the
//    VIP about client -> VIP:80; one about a port no connection holds goes to the kernel;
//  - later fragments follow the first both ways, and the datagrams reassemble with valid checksums.
import t from 'tap';
import type { Test } from 'tap';
import { PipelineRig, caseSnapshot, CLIENT_MAC, DIRECTOR_MAC, INSIDE_MAC, RS_MAC } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { C_DROP_BASE, C_FRAGMENTS, C_ICMP_FORWARDED, DataplaneDrop } from '../../src/dataplane/counters.js';
import { FORWARD_FNAT, type Snapshot } from '../../src/dataplane/snapshot.js';
import { fragmentSteeringFor } from '../../src/dataplane/steering.js';
import { DROP, LOCAL, TX, TX_OTHER } from '../../src/io/port.js';
import { ipToNumber, numberToIp } from '../../src/packet/addr.js';
import { buildFrame, ipPacketOf } from '../../src/packet/build.js';
import { ipv4HeaderChecksumValid, transportChecksumValid } from '../../src/packet/checksum.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { fragment } from '../support/fragments.js';

const CLIENT = '198.18.0.1', VIP = '198.18.0.100', ROUTER = '198.18.0.254';
const LADDR = '198.18.1.200', RS = '198.18.1.10', RS_PORT = 8080, LPORT = 20000;
const hex = (u8: Uint8Array): string => Buffer.from(u8).toString('hex');

function fnatSnapshot(protocol: 6 | 17): Snapshot {
  const s = caseSnapshot({ forward: FORWARD_FNAT, weights: [1] });
  s.services[0].protocol = protocol;
  s.services[0].localGroup = 0;
  s.services[0].realServers[0].ip = ipToNumber(RS);
  s.services[0].realServers[0].port = RS_PORT;
  s.localAddresses = [{ ip: ipToNumber(LADDR), portMin: LPORT, portMax: LPORT + 99, outside: false }];
  s.localGroups = [[0]];
  return s;
}

const payload = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13) & 0xff);

/** A packet of the connection, TCP or UDP, as an IP packet in a frame (MACs don't matter in a quote). */
function packet(protocol: 6 | 17, src: string, sport: number, dst: string, dport: number, bytes = 1200, ttl = 64): Uint8Array {
  return buildFrame({
    dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src, dst, ttl },
    ...(protocol === 6 ? { tcp: { srcPort: sport, dstPort: dport, flags: TCP_ACK, ack: 1 } } : { udp: { srcPort: sport, dstPort: dport } }),
    payload: payload(bytes),
  });
}

/** An ICMP frag-needed from `from` to `to` quoting header + 8 bytes of `quoted`'s IP packet. */
function icmpError(o: { from: string; to: string; quoted: Uint8Array; srcMac: string; dstMac: string; ttl?: number; quoteBytes?: number }): Uint8Array {
  return buildFrame({
    dstMac: o.dstMac, srcMac: o.srcMac, ip: { src: o.from, dst: o.to, df: false, ttl: o.ttl ?? 64 }, icmp: { type: 3, code: 4, rest: 1400 },
    payload: ipPacketOf(o.quoted).slice(0, o.quoteBytes ?? 28),
  });
}

function open(protocol: 6 | 17): PipelineRig {
  const rig = new PipelineRig(fnatSnapshot(protocol));
  const first = buildFrame({
    dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP },
    ...(protocol === 6 ? { tcp: { srcPort: 40000, dstPort: 80, flags: TCP_SYN } } : { udp: { srcPort: 40000, dstPort: 80 } }),
  });
  rig.send({ side: 'outside', frame: first });
  return rig;
}

for (const protocol of [6, 17] as const) {
  const name = protocol === 6 ? 'TCP' : 'UDP';
  t.test(`${name}: an error from the client's path reaches the real server about its own packet`, async (t) => {
    const rig = open(protocol);
    // The director sent VIP:80 -> client:40000; a router refused it.
    const err = icmpError({ from: ROUTER, to: VIP, quoted: packet(protocol, VIP, 80, CLIENT, 40000, 1200, 63), srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC });
    const { verdict, out } = rig.send({ side: 'outside', frame: err });
    t.equal(verdict, TX_OTHER, 'out the inside, where the local address lives');
    const want = icmpError({ from: LADDR, to: RS, quoted: packet(protocol, RS, RS_PORT, LADDR, LPORT, 1200, 63),
      srcMac: INSIDE_MAC, dstMac: RS_MAC(1), ttl: 63 });
    t.equal(hex(out), hex(want), 'from laddr to rs, quoting rs:8080 -> laddr:20000; every checksum as built whole');
    t.equal(rig.counters[C_ICMP_FORWARDED], 1, 'counted as forwarded');
  });

  t.test(`${name}: the real server's error reaches the client about the client's packet`, async (t) => {
    const rig = open(protocol);
    // The real server (or a router between) refused laddr:20000 -> rs:8080.
    const err = icmpError({ from: RS, to: LADDR, quoted: packet(protocol, LADDR, LPORT, RS, RS_PORT, 1200, 63), srcMac: RS_MAC(1), dstMac: INSIDE_MAC });
    const { verdict, out } = rig.send({ side: 'inside', frame: err });
    t.equal(verdict, TX_OTHER, 'out the outside interface, to the client\'s hop');
    const want = icmpError({ from: VIP, to: CLIENT, quoted: packet(protocol, CLIENT, 40000, VIP, 80, 1200, 63),
      srcMac: DIRECTOR_MAC, dstMac: CLIENT_MAC, ttl: 63 });
    t.equal(hex(out), hex(want), 'from the VIP to the client, quoting client:40000 -> VIP:80; every checksum as built whole');

    const other = icmpError({ from: RS, to: LADDR, quoted: packet(protocol, LADDR, LPORT + 1, RS, RS_PORT), srcMac: RS_MAC(1), dstMac: INSIDE_MAC });
    t.equal(rig.send({ side: 'inside', frame: other }).verdict, LOCAL, 'about a port no connection holds: the director\'s own, to its kernel');
    const wrongServer = icmpError({ from: RS, to: LADDR, quoted: packet(protocol, LADDR, LPORT, '198.18.1.99', RS_PORT), srcMac: RS_MAC(1), dstMac: INSIDE_MAC });
    t.equal(rig.send({ side: 'inside', frame: wrongServer }).verdict, DROP, 'quoting the port but another server: dropped');
    const truncated = icmpError({ from: RS, to: LADDR, quoted: packet(protocol, LADDR, LPORT, RS, RS_PORT), srcMac: RS_MAC(1), dstMac: INSIDE_MAC, quoteBytes: 24 });
    t.equal(rig.send({ side: 'inside', frame: truncated }).verdict, DROP, 'a quote shorter than header + 8: dropped');
    t.equal(rig.counters[C_DROP_BASE + DataplaneDrop.ICMP_NO_FLOW], 2, 'both counted as ICMP_NO_FLOW');
    t.equal(rig.counters[C_ICMP_FORWARDED], 1);
  });
}

/** The forwarded fragments put back together: addresses (all alike) and the L4 bytes. */
function reassemble(t: Test, frames: Uint8Array[]): { l4: Uint8Array; src: string; dst: string } {
  const l4 = new Uint8Array(65536);
  let end = 0;
  const pairs = new Set<string>();
  for (const f of frames) {
    const dv = new DataView(f.buffer, f.byteOffset);
    const ihl = (f[14] & 0x0f) * 4;
    const len = dv.getUint16(16) - ihl;
    const off = (dv.getUint16(20) & 0x1fff) * 8;
    l4.set(f.subarray(14 + ihl, 14 + ihl + len), off);
    end = Math.max(end, off + len);
    pairs.add(`${numberToIp(dv.getUint32(26))} ${numberToIp(dv.getUint32(30))}`);
    t.ok(ipv4HeaderChecksumValid(f, 14, ihl), `fragment at ${off}: header checksum`);
  }
  t.equal(pairs.size, 1, 'every fragment carries the same addresses');
  const [src, dst] = [...pairs][0].split(' ');
  return { l4: l4.slice(0, end), src, dst };
}

t.test('UDP fragments both ways: addresses in each, ports and checksum in the first', async (t) => {
  const rig = open(17);
  const big = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, df: false, id: 0x4444 },
    udp: { srcPort: 40000, dstPort: 80 }, payload: payload(4000) });
  const outs = fragment(big, 1480).map((f) => {
    const r = rig.send({ side: 'outside', frame: f });
    t.equal(r.verdict, TX_OTHER, 'to the inside');
    return r.out;
  });
  t.equal(outs.length, 3, '4,008 bytes of UDP in 3 fragments');
  const req = reassemble(t, outs);
  t.same([req.src, req.dst], [LADDR, RS], 'each fragment laddr -> rs');
  const reqDv = new DataView(req.l4.buffer);
  t.same([reqDv.getUint16(0), reqDv.getUint16(2)], [LPORT, RS_PORT], 'ports in the first: laddr:20000 -> rs:8080');
  t.ok(transportChecksumValid(req.l4, 0, req.l4.length, ipToNumber(req.src), ipToNumber(req.dst), 17), 'the datagram\'s UDP checksum verifies');

  const reply = buildFrame({ dstMac: INSIDE_MAC, srcMac: RS_MAC(1), ip: { src: RS, dst: LADDR, df: false, id: 0x5555 },
    udp: { srcPort: RS_PORT, dstPort: LPORT }, payload: payload(3000) });
  const backs = fragment(reply, 1480).map((f) => {
    const r = rig.send({ side: 'inside', frame: f });
    t.equal(r.verdict, TX_OTHER, 'out to the client');
    return r.out;
  });
  const back = reassemble(t, backs);
  t.same([back.src, back.dst], [VIP, CLIENT], 'each reply fragment VIP -> client');
  const backDv = new DataView(back.l4.buffer);
  t.same([backDv.getUint16(0), backDv.getUint16(2)], [80, 40000], 'ports in the first: VIP:80 -> client:40000');
  t.ok(transportChecksumValid(back.l4, 0, back.l4.length, ipToNumber(back.src), ipToNumber(back.dst), 17), 'the reply\'s UDP checksum verifies');
  t.equal(rig.counters[C_FRAGMENTS], 6, 'six fragments forwarded');

  const stray = fragment(buildFrame({ dstMac: INSIDE_MAC, srcMac: RS_MAC(1), ip: { src: RS, dst: LADDR, df: false, id: 0x6666 },
    udp: { srcPort: RS_PORT, dstPort: LPORT }, payload: payload(3000) }), 1480)[1];
  t.equal(rig.send({ side: 'inside', frame: stray }).verdict, DROP, 'a reply fragment before its first: dropped');
  t.equal(rig.counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_NO_FIRST], 1, 'and counted');
});

t.test('fragment steering: whole-address keys for Full NAT real servers where the local address lives', async (t) => {
  const s = fnatSnapshot(17);
  t.same(fragmentSteeringFor(s).inside.map((r) => `${r.kind} ${numberToIp(r.ip)} ${r.port}`), [`reply ${RS} 0`]);
  s.localAddresses![0].outside = true;
  t.same(fragmentSteeringFor(s).outside.map((r) => `${r.kind} ${numberToIp(r.ip)} ${r.port}`).sort(), [`reply ${RS} 0`, `service ${VIP} 0`]);
});
