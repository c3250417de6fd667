// ICMPv6 errors about tracked IPv6 connections (issue 16), as ip_vs_in_icmp_v6/ip_vs_out_icmp_v6:
// a packet too big to the VIP quoting a connection's reply goes to its real server (DR: as is
// but for MACs and hop limit; NAT66: outer destination, quoted source and port rewritten, ICMPv6
// checksum valid); a NAT66 real server's error about a client's packet goes to the client as
// from the VIP; an error of no connection is a counted drop.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { C_DROP_BASE, C_ICMP_FORWARDED, DataplaneDrop, allocateCounters, allocateIpvsCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, type Snapshot, type SnapshotService } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, DROP, TX, TX_OTHER, type PacketPort } from '../../src/io/port.js';
import { parseMac } from '../../src/packet/addr.js';
import { formatIpv6, ipv6Words, parseIpv6 } from '../../src/packet/addr6.js';
import { buildFrame6 } from '../../src/packet/build6.js';
import { ipv6TransportChecksumValid } from '../../src/packet/checksum6.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { foldIpv6 } from '../../src/schedulers/hash.js';

const DIRECTOR_MAC = '02:18:00:00:00:02';
const INSIDE_MAC = '02:18:00:01:00:02';
const CLIENT_MAC = '02:18:00:00:00:01';
const RS_MAC = '02:18:00:00:00:10';
const VIP = '2001:2::100';

function port(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'vd0', mac: parseMac(mac), frames: new Uint8Array(2048 * 4), frameSize: 2048,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1, close: () => undefined,
  };
}

function service(forward: typeof FORWARD_DR | typeof FORWARD_NAT, rs: string, rsPort: number): SnapshotService {
  return {
    id: 10, family: 6, addresses: [{ vip: 0, vport: 80, vip6: VIP }], protocol: 6, forward,
    scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
    realServers: [{ rsId: 11, ip: foldIpv6(...ipv6Words(parseIpv6(rs))), ip6: rs, port: rsPort, weight: 1, available: true,
      mac: RS_MAC, uthreshold: 0, lthreshold: 0 }],
  };
}

function setup(svc: SnapshotService) {
  const snapshot: Snapshot = { version: 1, tunnelSource: 0, mtu: 1500, services: [svc] };
  const outside = port(DIRECTOR_MAC);
  const inside = port(INSIDE_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot, new FlowTable({ capacity: 4096, templates }), templates, counters, outside, inside, allocateIpvsCounters());
  const descs = new Uint32Array(DESC_WORDS);
  const send = (frame: Uint8Array, fromInside = false): { verdict: number; out: Uint8Array } => {
    const p = fromInside ? inside : outside;
    p.frames.fill(0, 256, 2048);
    p.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    if (fromInside) dp.processInside(descs, 1, 10); else dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], out: p.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  // The client opens 2001:2::1:40000 -> VIP:80.
  const syn = buildFrame6({ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: '2001:2::1', dst: VIP, tcp: { srcPort: 40000, dstPort: 80, flags: TCP_SYN } });
  const opened = send(syn);
  return { send, counters, opened };
}

/** The IPv6 packet (no Ethernet) a router quotes. */
const quoted = (src: string, dst: string, srcPort: number, dstPort: number): Uint8Array =>
  buildFrame6({ src, dst, tcp: { srcPort, dstPort, flags: TCP_ACK }, payload: 'x'.repeat(100) }).subarray(14);

/** Packet too big from a router on the client's path to `to`, quoting `quote`. */
const tooBig = (to: string, quote: Uint8Array, from = '2001:2::99', macs = { srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC }) =>
  buildFrame6({ ...macs, src: from, dst: to, hopLimit: 64, icmp: { type: 2, code: 0, rest: 1400 }, payload: quote });

const icmpValid = (out: Uint8Array): boolean => ipv6TransportChecksumValid(out, 14, 54, out.length - 54, 58);

t.test('DR: packet too big to the VIP goes to the connection\'s real server', async (t) => {
  const { send, counters, opened } = setup(service(FORWARD_DR, '2001:2::10', 80));
  t.equal(opened.verdict, TX, 'the connection is open');
  const input = tooBig(VIP, quoted(VIP, '2001:2::1', 80, 40000));
  const { verdict, out } = send(input);
  t.equal(verdict, TX);
  t.same([...out.subarray(0, 12)], [...parseMac(RS_MAC), ...parseMac(DIRECTOR_MAC)], 'to the real server\'s MAC');
  t.equal(out[14 + 7], 63, 'hop limit decremented');
  t.same([...out.subarray(14 + 8)], [...input.subarray(14 + 8)], 'addresses, ICMPv6 and quote unchanged');
  t.equal(counters[C_ICMP_FORWARDED], 1);
  const stranger = send(tooBig(VIP, quoted(VIP, '2001:2::1', 80, 40999)));
  t.equal(stranger.verdict, DROP, 'quoting no connection');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.ICMP_NO_FLOW], 1, 'counted');
  const misaddressed = send(tooBig(VIP, quoted('2001:2::101', '2001:2::1', 80, 40000)));
  t.equal(misaddressed.verdict, DROP, 'an error to the VIP must quote the VIP as source');
});

t.test('NAT66: the error is translated toward the real server', async (t) => {
  const { send, counters, opened } = setup(service(FORWARD_NAT, '2001:2:0:1::10', 8080));
  t.equal(opened.verdict, TX_OTHER);
  const { verdict, out } = send(tooBig(VIP, quoted(VIP, '2001:2::1', 80, 40000)));
  t.equal(verdict, TX_OTHER, 'out of the inside port');
  t.same([...out.subarray(0, 12)], [...parseMac(RS_MAC), ...parseMac(INSIDE_MAC)]);
  t.equal(formatIpv6(out, 14 + 8), '2001:2::99', 'from the router still');
  t.equal(formatIpv6(out, 14 + 24), '2001:2:0:1::10', 'to the real server');
  t.equal(formatIpv6(out, 62 + 8), '2001:2:0:1::10', 'quoted source: the real server');
  t.equal(formatIpv6(out, 62 + 24), '2001:2::1', 'quoted destination: the client');
  t.equal((out[102] << 8) | out[103], 8080, 'quoted source port: the real server\'s');
  t.ok(icmpValid(out), 'ICMPv6 checksum valid');
  t.equal(new DataView(out.buffer, out.byteOffset).getUint32(58), 1400, 'the MTU kept');
  t.equal(counters[C_ICMP_FORWARDED], 1);
});

t.test('NAT66: a real server\'s error about a client\'s packet reaches the client from the VIP', async (t) => {
  const { send, counters } = setup(service(FORWARD_NAT, '2001:2:0:1::10', 8080));
  const error = buildFrame6({ srcMac: RS_MAC, dstMac: INSIDE_MAC, src: '2001:2:0:1::10', dst: '2001:2::1', hopLimit: 64,
    icmp: { type: 1, code: 4 }, payload: quoted('2001:2::1', '2001:2:0:1::10', 40000, 8080) });
  const { verdict, out } = send(error, true);
  t.equal(verdict, TX_OTHER, 'out of the outside port');
  t.same([...out.subarray(0, 12)], [...parseMac(CLIENT_MAC), ...parseMac(DIRECTOR_MAC)], 'to the hop the connection came from');
  t.equal(formatIpv6(out, 14 + 8), VIP, 'from the VIP');
  t.equal(formatIpv6(out, 14 + 24), '2001:2::1');
  t.equal(formatIpv6(out, 62 + 24), VIP, 'quoted destination: the VIP');
  t.equal((out[104] << 8) | out[105], 80, 'quoted destination port: the VIP\'s');
  t.ok(icmpValid(out), 'ICMPv6 checksum valid');
  t.equal(out[14 + 7], 63);
  t.equal(counters[C_ICMP_FORWARDED], 1);
});
