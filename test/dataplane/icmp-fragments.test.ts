// Issue 17 over synthetic frames: ICMP errors matched to their connection (DR, TUN, NAT both
// ways), the ICMP errors ulvs sends (time exceeded, frag needed), rate limits, and fragments
// following their first fragment (DR, NAT), forged ones refused and counted.
import t from 'tap';
import type { Test } from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { C_DROP_BASE, C_FRAGMENTS, C_ICMP_FORWARDED, C_ICMP_SENT, DataplaneDrop, allocateCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN, type ForwardMethod, type Snapshot } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, DROP, TX, TX_OTHER, type PacketPort } from '../../src/io/port.js';
import { formatMac, ipToNumber, numberToIp } from '../../src/packet/addr.js';
import { buildFrame, ipPacketOf } from '../../src/packet/build.js';
import { icmpChecksum, ipv4HeaderChecksumValid, transportChecksumValid } from '../../src/packet/checksum.js';
import { ParseResult, ParsedFrame, TCP_ACK, TCP_SYN, parseFrame } from '../../src/packet/parse.js';
import { TunnelKind } from '../../src/packet/tunnels.js';
import { fragment } from '../support/fragments.js';

const FRAME = 4096;
const CLIENT_MAC = '02:18:00:00:00:01';
const DIRECTOR_MAC = '02:18:00:00:00:02';
const INSIDE_MAC = '02:18:00:01:00:01';
const RS_MAC = '02:18:00:00:00:0a';
const VIP = '198.18.0.100';
const CLIENT = '198.18.0.1';
const ROUTER = '198.18.0.254';

function fakePort(mac: string): PacketPort {
  const frames = new Uint8Array(FRAME * 8);
  return {
    backend: 'afxdp', ifname: 'test0', mac: Uint8Array.from(mac.split(':').map((x) => parseInt(x, 16))), frames, frameSize: FRAME,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1,
    stats: () => ({ rxPackets: 0, txPackets: 0, txDropped: 0, badDescriptors: 0, otherMissing: 0 }), close: () => undefined,
  };
}

function snapshot(forward: ForwardMethod, protocol: 6 | 17, mtu = 1500, tunnel?: { kind: number; port: number }): Snapshot {
  const nat = forward === FORWARD_NAT;
  return {
    version: 1, tunnelSource: ipToNumber('198.18.0.2'), mtu,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber(VIP), vport: 80 }], protocol, forward,
      scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: [{ rsId: 2, ip: ipToNumber(nat ? '198.18.1.10' : '198.18.0.10'), port: nat ? 8080 : 80,
        weight: 1, available: true, mac: RS_MAC, uthreshold: 0, lthreshold: 0,
        ...(tunnel ? { tunnel: tunnel.kind, tunnelPort: tunnel.port } : {}) }],
    }],
  };
}

function rig(forward: ForwardMethod, protocol: 6 | 17 = 6, mtu = 1500, tunnel?: { kind: number; port: number }) {
  const outside = fakePort(DIRECTOR_MAC);
  const inside = fakePort(INSIDE_MAC);
  const templates = new PersistenceTable({ capacity: 64 });
  const flows = new FlowTable({ capacity: 256, templates });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot(forward, protocol, mtu, tunnel), flows, templates, counters, outside, forward === FORWARD_NAT ? inside : null);
  const descs = new Uint32Array(DESC_WORDS);
  const send = (frame: Uint8Array, fromInside = false): { verdict: number; out: Uint8Array } => {
    const port = fromInside ? inside : outside;
    port.frames.set(frame, FRAME + 256);
    descs[0] = FRAME + 256; descs[1] = frame.length; descs[2] = 0;
    if (fromInside) dp.processInside(descs, 1, 10); else dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], out: port.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  const drops = (reason: number): number => counters[C_DROP_BASE + reason];
  return { dp, counters, send, drops };
}

const syn = (sport = 40000): Uint8Array => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP }, tcp: { srcPort: sport, dstPort: 80, flags: TCP_SYN },
});

/** An ICMP error from `from` to `to` quoting the first 28 bytes of `quoted`'s IP packet. */
function icmpError(from: string, to: string, quoted: Uint8Array, type = 3, code = 4, rest = 1400, quoteBytes = 28, srcMac = CLIENT_MAC): Uint8Array {
  return buildFrame({
    dstMac: DIRECTOR_MAC, srcMac, ip: { src: from, dst: to, df: false }, icmp: { type, code, rest },
    payload: ipPacketOf(quoted).slice(0, quoteBytes),
  });
}

/** The VIP's reply to the client (what a DR/TUN real server sends, or the director for NAT). */
const replyFromVip = (dport = 40000, protocol: 6 | 17 = 6): Uint8Array => buildFrame({
  ip: { src: VIP, dst: CLIENT },
  ...(protocol === 6 ? { tcp: { srcPort: 80, dstPort: dport, flags: TCP_SYN | TCP_ACK, ack: 1 } } : { udp: { srcPort: 80, dstPort: dport } }),
  payload: 'x'.repeat(1400),
});

function parse(frame: Uint8Array): { p: ParsedFrame; r: number } {
  const p = new ParsedFrame();
  const r = parseFrame(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.length, p);
  return { p, r };
}

t.test('DR: an ICMP error about a connection goes to its real server, only MAC and TTL changed', async (t) => {
  const { send, counters } = rig(FORWARD_DR);
  t.equal(send(syn()).verdict, TX);
  const err = icmpError(ROUTER, VIP, replyFromVip());
  const { verdict, out } = send(err);
  t.equal(verdict, TX, 'forwarded');
  t.equal(formatMac(out.subarray(0, 6)), RS_MAC, 'to the real server');
  t.same(out.subarray(14 + 12), err.subarray(14 + 12), 'IP packet after the TTL and checksum unchanged');
  t.equal(out[14 + 8], err[14 + 8] - 1, 'TTL decremented');
  t.ok(ipv4HeaderChecksumValid(out, 14, 20), 'header checksum');
  t.equal(counters[C_ICMP_FORWARDED], 1);
});

t.test('DR: ICMP errors that match nothing, truncated quotes and echo requests are dropped and counted', async (t) => {
  const { send, drops } = rig(FORWARD_DR);
  t.equal(send(syn()).verdict, TX);
  t.equal(send(icmpError(ROUTER, VIP, replyFromVip(40001))).verdict, DROP, 'another client port: no connection');
  t.equal(send(icmpError(ROUTER, VIP, replyFromVip(), 3, 4, 1400, 24)).verdict, DROP, 'quote shorter than header + 8');
  t.equal(send(icmpError(ROUTER, '198.18.0.2', replyFromVip())).verdict, DROP, 'not addressed to the quoted source');
  t.equal(drops(DataplaneDrop.ICMP_NO_FLOW), 3, 'ICMP_NO_FLOW counted 3 times');
  const echo = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP }, icmp: { type: 8, rest: 0x10001 } });
  t.equal(send(echo).verdict, DROP, 'echo (never steered by XDP) is not forwarded');
  t.equal(drops(DataplaneDrop.ICMP_NO_FLOW), 4);
});

t.test('TUN: an ICMP error is encapsulated to the real server', async (t) => {
  const { send } = rig(FORWARD_TUN);
  t.equal(send(syn()).verdict, TX);
  const err = icmpError(ROUTER, VIP, replyFromVip());
  const { verdict, out } = send(err);
  t.equal(verdict, TX);
  const { p } = parse(out);
  t.equal(p.protocol, 4, 'IPIP');
  t.equal(numberToIp(p.dstIp), '198.18.0.10', 'outer destination is the real server');
  t.equal(out[14 + 20 + 9], 1, 'inner packet is the ICMP error');
});

t.test('NAT: outer and quoted headers rewritten both ways, every checksum right', async (t) => {
  const { send, counters } = rig(FORWARD_NAT);
  t.equal(send(syn()).verdict, TX_OTHER);
  const { verdict, out } = send(icmpError(ROUTER, VIP, replyFromVip()));
  t.equal(verdict, TX_OTHER, 'to the inside');
  const { p, r } = parse(out);
  t.equal(r, ParseResult.OK);
  t.equal(numberToIp(p.dstIp), '198.18.1.10', 'outer destination is the real server');
  t.equal(numberToIp(p.icmpInnerSrcIp), '198.18.1.10', 'quoted source is the real server');
  t.equal(p.icmpInnerSrcPort, 8080, 'quoted source port is the real server port');
  t.ok(ipv4HeaderChecksumValid(out, 14, 20), 'outer header checksum');
  t.ok(ipv4HeaderChecksumValid(out, p.icmpInnerL3Offset, 20), 'quoted header checksum');
  t.equal(icmpChecksum(out, p.l4Offset, p.l4Length), (out[p.l4Offset + 2] << 8) | out[p.l4Offset + 3], 'ICMP checksum');

  // The real server refuses a client's segment (as rs:8080): the client sees it from the VIP.
  const toRs = buildFrame({ ip: { src: CLIENT, dst: '198.18.1.10' }, tcp: { srcPort: 40000, dstPort: 8080, flags: TCP_ACK, ack: 1 } });
  const fromRs = icmpError('198.18.1.10', CLIENT, toRs, 3, 3, 0, 28, RS_MAC);
  const back = send(fromRs, true);
  t.equal(back.verdict, TX_OTHER, 'out to the client');
  const q = parse(back.out).p;
  t.equal(numberToIp(q.srcIp), VIP, 'outer source is the VIP');
  t.equal(numberToIp(q.icmpInnerDstIp), VIP, 'quoted destination is the VIP');
  t.equal(q.icmpInnerDstPort, 80, 'quoted destination port is the virtual port');
  t.equal(formatMac(back.out.subarray(0, 6)), CLIENT_MAC, 'to the hop the client came from');
  t.ok(ipv4HeaderChecksumValid(back.out, 14, 20) && ipv4HeaderChecksumValid(back.out, q.icmpInnerL3Offset, 20), 'both IP checksums');
  t.equal(icmpChecksum(back.out, q.l4Offset, q.l4Length), (back.out[q.l4Offset + 2] << 8) | back.out[q.l4Offset + 3], 'ICMP checksum');
  t.equal(counters[C_ICMP_FORWARDED], 2);
});

t.test('forwarded ICMP errors are rate-limited (burst, then counted drops)', async (t) => {
  const { dp, send, drops } = rig(FORWARD_DR);
  t.equal(send(syn()).verdict, TX);
  const burst = dp.icmp.forwardLimit.burst;
  let ms = 1000;
  dp.icmp.clock = () => ms;
  const err = icmpError(ROUTER, VIP, replyFromVip());
  let forwarded = 0;
  for (let i = 0; i < burst + 500; i++) if (send(err).verdict === TX) forwarded++;
  t.equal(forwarded, burst, `a frozen clock lets the burst (${burst}) through`);
  t.equal(drops(DataplaneDrop.ICMP_RATE_LIMITED), 500, 'the rest counted');
  ms += 10;
  forwarded = 0;
  for (let i = 0; i < 500; i++) if (send(err).verdict === TX) forwarded++;
  t.equal(forwarded, dp.icmp.forwardLimit.perSecond / 100, '10 ms later: 10 ms worth of tokens');
});

t.test('TUN: too big for the tunnel with DF -> frag needed with MTU - 20; without DF -> counted drop', async (t) => {
  const { send, counters, drops } = rig(FORWARD_TUN, 6, 1500);
  t.equal(send(syn()).verdict, TX);
  const big = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, df: true },
    tcp: { srcPort: 40000, dstPort: 80, flags: TCP_ACK, ack: 1 }, payload: 'y'.repeat(1460) });
  const { verdict, out } = send(big);
  t.equal(verdict, TX, 'answered back out');
  const { p, r } = parse(out);
  t.equal(r, ParseResult.OK);
  t.same([p.icmpType, p.icmpCode], [3, 4], 'fragmentation needed');
  t.equal(new DataView(out.buffer, out.byteOffset).getUint16(p.l4Offset + 6), 1480, 'next-hop MTU 1480');
  t.equal(numberToIp(p.srcIp), VIP, 'from the VIP');
  t.equal(numberToIp(p.dstIp), CLIENT, 'to the client');
  t.equal(formatMac(out.subarray(0, 6)), CLIENT_MAC, 'back to the hop it came from');
  t.equal(p.icmpInnerSrcPort, 40000, 'quotes the client packet');
  t.ok(ipv4HeaderChecksumValid(out, 14, 20), 'header checksum');
  t.equal(icmpChecksum(out, p.l4Offset, p.l4Length), (out[p.l4Offset + 2] << 8) | out[p.l4Offset + 3], 'ICMP checksum');
  t.equal(counters[C_ICMP_SENT], 1);
  t.equal(drops(DataplaneDrop.MTU_EXCEEDED), 1, 'the packet itself still counts as MTU_EXCEEDED');
  const noDf = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, df: false },
    tcp: { srcPort: 40000, dstPort: 80, flags: TCP_ACK, ack: 1 }, payload: 'y'.repeat(1460) });
  t.equal(send(noDf).verdict, DROP, 'no DF: dropped');
  t.equal(drops(DataplaneDrop.MTU_EXCEEDED), 2);
  t.equal(counters[C_ICMP_SENT], 1, 'no error sent');
});

t.test('TUN GRE/GUE: frag needed carries each tunnel\'s MTU; what fits goes out in the real server\'s tunnel', async (t) => {
  for (const [kind, name, mtu, proto] of [[TunnelKind.GRE, 'GRE', 1476, 47], [TunnelKind.GRE_CSUM, 'GRE csum', 1472, 47],
    [TunnelKind.GUE, 'GUE', 1468, 17], [TunnelKind.GUE_CSUM, 'GUE csum', 1468, 17]] as const) {
    const { send, drops } = rig(FORWARD_TUN, 6, 1500, { kind, port: 6080 });
    const first = send(syn());
    t.equal(first.verdict, TX, `${name}: SYN forwarded`);
    t.equal(first.out[23], proto, `${name}: outer protocol ${proto}`);
    if (proto === 17) t.equal(new DataView(first.out.buffer, first.out.byteOffset).getUint16(36), 6080, `${name}: to tun_port`);
    const segment = (payload: number) => buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, df: true },
      tcp: { srcPort: 40000, dstPort: 80, flags: TCP_ACK, ack: 1 }, payload: 'y'.repeat(payload) });
    t.equal(send(segment(mtu - 40)).verdict, TX, `${name}: a ${mtu}-byte packet fits`);
    const { verdict, out } = send(segment(mtu - 39));
    t.equal(verdict, TX, `${name}: one byte more is answered`);
    const { p } = parse(out);
    t.same([p.icmpType, p.icmpCode, numberToIp(p.dstIp)], [3, 4, CLIENT], `${name}: frag needed to the client`);
    t.equal(new DataView(out.buffer, out.byteOffset).getUint16(p.l4Offset + 6), mtu, `${name}: next-hop MTU ${mtu}`);
    t.equal(drops(DataplaneDrop.MTU_EXCEEDED), 1, `${name}: counted`);
  }
});

t.test('TTL 1: ICMP time exceeded from the VIP', async (t) => {
  const { send, drops } = rig(FORWARD_DR);
  const frame = buildFrame({ dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, ttl: 1 }, tcp: { srcPort: 40000, dstPort: 80 } });
  const { verdict, out } = send(frame);
  t.equal(verdict, TX);
  const { p } = parse(out);
  t.same([p.icmpType, p.icmpCode, numberToIp(p.srcIp), numberToIp(p.dstIp)], [11, 0, VIP, CLIENT]);
  t.equal(drops(DataplaneDrop.TTL_EXPIRED), 1);
});

/** Reassembles forwarded fragments (IP packets in Ethernet frames) into the datagram's L4 bytes. */
function reassemble(t: Test, frames: Uint8Array[]): { l4: Uint8Array; src: number; dst: number } {
  const l4 = new Uint8Array(65536);
  let end = 0;
  let src = 0;
  let dst = 0;
  for (const f of frames) {
    const dv = new DataView(f.buffer, f.byteOffset);
    const ihl = (f[14] & 0x0f) * 4;
    const len = dv.getUint16(16) - ihl;
    const off = (dv.getUint16(20) & 0x1fff) * 8;
    l4.set(f.subarray(14 + ihl, 14 + ihl + len), off);
    end = Math.max(end, off + len);
    src = dv.getUint32(26); dst = dv.getUint32(30);
    t.ok(ipv4HeaderChecksumValid(f, 14, ihl), `fragment at ${off}: header checksum`);
  }
  return { l4: l4.slice(0, end), src, dst };
}

const bigUdp = (id: number): Uint8Array => buildFrame({
  dstMac: DIRECTOR_MAC, srcMac: CLIENT_MAC, ip: { src: CLIENT, dst: VIP, df: false, id },
  udp: { srcPort: 5000, dstPort: 80 }, payload: Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 0xff),
});

t.test('DR fragments: all follow the first to its real server; strays and forgeries counted', async (t) => {
  const { send, counters, drops } = rig(FORWARD_DR, 17);
  const frags = fragment(bigUdp(0x1111), 1480);
  t.equal(frags.length, 3, '4,008 bytes of UDP in 3 fragments');
  for (const f of frags) {
    const { verdict, out } = send(f);
    t.equal(verdict, TX);
    t.equal(formatMac(out.subarray(0, 6)), RS_MAC);
  }
  t.equal(counters[C_FRAGMENTS], 3);
  // Reordered: the last fragment of another datagram before its first.
  const other = fragment(bigUdp(0x2222), 1480);
  t.equal(send(other[2]).verdict, DROP, 'a later fragment before its first is dropped');
  t.equal(drops(DataplaneDrop.FRAGMENT_NO_FIRST), 1, 'and counted');
  t.equal(send(other[0]).verdict, TX, 'its first fragment still goes');
  t.equal(send(other[1]).verdict, TX, 'the middle one follows');
  const fourth = fragment(bigUdp(0x4444), 1480);
  t.equal(send(fourth[0]).verdict, TX);
  t.equal(send(fourth[2]).verdict, TX, 'the last fragment may come before the middle one');
  t.equal(send(fourth[2]).verdict, DROP, 'a second last fragment is refused');
  t.equal(drops(DataplaneDrop.FRAGMENT_FORGED), 1, 'counted as forged');
  t.equal(send(fourth[1]).verdict, TX, 'the real middle one still follows');
  t.equal(send(fourth[1]).verdict, DROP, 'the datagram was whole: its entry is gone');
  t.equal(drops(DataplaneDrop.FRAGMENT_NO_FIRST), 2);
  const third = fragment(bigUdp(0x3333), 1480);
  send(third[0]);
  const tooLarge = third[1].slice();
  const dv = new DataView(tooLarge.buffer);
  dv.setUint16(20, 0x2000 | (65528 >> 3));
  dv.setUint16(24, 0);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += dv.getUint16(14 + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(24, ~sum & 0xffff);
  t.equal(send(tooLarge).verdict, DROP, 'a fragment past 65,535 bytes is dropped');
  t.equal(drops(DataplaneDrop.FRAGMENT_FORGED), 2);
});

t.test('NAT fragments: address in each, port and checksum in the first; the datagram reassembles right', async (t) => {
  const { send } = rig(FORWARD_NAT, 17);
  const outs: Uint8Array[] = [];
  for (const f of fragment(bigUdp(0x4444), 1480)) {
    const { verdict, out } = send(f);
    t.equal(verdict, TX_OTHER);
    outs.push(out);
  }
  const { l4, src, dst } = reassemble(t, outs);
  t.equal(numberToIp(dst), '198.18.1.10', 'every fragment to the real server');
  t.equal(new DataView(l4.buffer).getUint16(2), 8080, 'destination port of the real server');
  t.ok(transportChecksumValid(l4, 0, l4.length, src, dst, 17), 'UDP checksum of the reassembled datagram verifies');

  // The real server answers with a fragmented datagram: the client sees it from the VIP.
  const reply = buildFrame({ dstMac: INSIDE_MAC, srcMac: RS_MAC, ip: { src: '198.18.1.10', dst: CLIENT, df: false, id: 0x5555 },
    udp: { srcPort: 8080, dstPort: 5000 }, payload: Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff) });
  const backs: Uint8Array[] = [];
  for (const f of fragment(reply, 1480)) {
    const { verdict, out } = send(f, true);
    t.equal(verdict, TX_OTHER);
    backs.push(out);
  }
  const back = reassemble(t, backs);
  t.equal(numberToIp(back.src), VIP, 'every reply fragment from the VIP');
  t.equal(new DataView(back.l4.buffer).getUint16(0), 80, 'source port is the virtual port');
  t.ok(transportChecksumValid(back.l4, 0, back.l4.length, back.src, back.dst, 17), 'reply checksum verifies');
});
