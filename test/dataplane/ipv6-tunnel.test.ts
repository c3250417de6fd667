// TUN over IPv6 in the dataplane: IPv6-in-IPv6 from the interface's address to the real
// server, and a packet that would not fit the MTU once encapsulated answered with ICMPv6
// packet too big naming the MTU left inside the tunnel (ip_vs_tunnel_xmit_v6), as IPv4's TUN
// answers frag-needed.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { C_DROP_BASE, C_ICMP_SENT, DataplaneDrop, allocateCounters, allocateIpvsCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_TUN, type Snapshot, type SnapshotService } from '../../src/dataplane/snapshot.js';
import { DESC_WORDS, TX, type PacketPort } from '../../src/io/port.js';
import { parseMac } from '../../src/packet/addr.js';
import { formatIpv6, ipv6Words, parseIpv6 } from '../../src/packet/addr6.js';
import { buildFrame6 } from '../../src/packet/build6.js';
import { ipv6TransportChecksumValid } from '../../src/packet/checksum6.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { foldIpv6 } from '../../src/schedulers/hash.js';

const DIRECTOR_MAC = '02:18:00:00:00:02';
const CLIENT_MAC = '02:18:00:00:00:01';
const RS_MAC = '02:18:00:00:00:10';

function port(mac: string): PacketPort {
  return {
    backend: 'afxdp', ifname: 'vd0', mac: parseMac(mac), frames: new Uint8Array(2048 * 4), frameSize: 2048,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1, close: () => undefined,
  };
}

const service: SnapshotService = {
  id: 10, family: 6, addresses: [{ vip: 0, vport: 80, vip6: '2001:2::100' }], protocol: 6, forward: FORWARD_TUN,
  scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
  realServers: [{ rsId: 11, ip: foldIpv6(...ipv6Words(parseIpv6('2001:2::10'))), ip6: '2001:2::10', port: 80, weight: 1, available: true,
    mac: RS_MAC, uthreshold: 0, lthreshold: 0 }],
};

function setup(mtu: number) {
  const snapshot: Snapshot = { version: 1, tunnelSource: 0, tunnelSource6: '2001:2::2', mtu, services: [service] };
  const outside = port(DIRECTOR_MAC);
  const templates = new PersistenceTable({ capacity: 1024 });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot, new FlowTable({ capacity: 4096, templates }), templates, counters, outside, null, allocateIpvsCounters());
  const descs = new Uint32Array(DESC_WORDS);
  const send = (frame: Uint8Array): { verdict: number; out: Uint8Array } => {
    outside.frames.fill(0, 256, 2048);
    outside.frames.set(frame, 256);
    descs[0] = 256; descs[1] = frame.length; descs[2] = 0;
    dp.processOutside(descs, 1, 10);
    return { verdict: descs[2], out: outside.frames.slice(descs[0], descs[0] + descs[1]) };
  };
  return { send, counters };
}

const segment = (payloadLength: number, flags = TCP_ACK) => buildFrame6({
  srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: '2001:2::1', dst: '2001:2::100', hopLimit: 64,
  tcp: { srcPort: 40000, dstPort: 80, flags }, payload: 'x'.repeat(payloadLength),
});

t.test('IPv6-in-IPv6 to the real server', async (t) => {
  const { send } = setup(1500);
  const input = segment(100, TCP_SYN);
  const { verdict, out } = send(input);
  t.equal(verdict, TX);
  t.equal(out.length, input.length + 40, 'one outer IPv6 header');
  t.equal(out[14 + 6], 41, 'next header: IPv6');
  t.equal(formatIpv6(out, 14 + 8), '2001:2::2', 'from the interface\'s address');
  t.equal(formatIpv6(out, 14 + 24), '2001:2::10', 'to the real server');
  t.same([...out.subarray(0, 6)], [...parseMac(RS_MAC)]);
});

t.test('too big once encapsulated: ICMPv6 packet too big to the client with the tunnel\'s MTU', async (t) => {
  const { send, counters } = setup(1500);
  t.equal(send(segment(100, TCP_SYN)).verdict, TX, 'the connection is open');
  const big = segment(1450);   // 1510 bytes of IPv6: 1550 once encapsulated
  const { verdict, out } = send(big);
  t.equal(verdict, TX, 'sent back out of the port it came in by');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.MTU_EXCEEDED], 1, 'the packet itself counted as dropped');
  t.equal(counters[C_ICMP_SENT], 1);
  t.same([...out.subarray(0, 12)], [...parseMac(CLIENT_MAC), ...parseMac(DIRECTOR_MAC)], 'MACs swapped');
  t.equal(out[14 + 6], 58, 'ICMPv6');
  t.equal(formatIpv6(out, 14 + 8), '2001:2::100', 'from the VIP');
  t.equal(formatIpv6(out, 14 + 24), '2001:2::1', 'to the client');
  t.same([out[54], out[55]], [2, 0], 'packet too big');
  t.equal(new DataView(out.buffer, out.byteOffset).getUint32(58), 1460, 'MTU: 1500 less the outer header');
  t.equal(out.length, 14 + 1280, 'cut at the minimum MTU (RFC 4443 2.4)');
  t.ok(ipv6TransportChecksumValid(out, 14, 54, out.length - 54, 58), 'ICMPv6 checksum valid');
  t.same([...out.subarray(62, 62 + 8)], [...big.subarray(14, 22)].map((b, i) => (i === 7 ? b - 1 : b)), 'quotes the packet (its hop limit spent)');
});

t.test('a small link MTU never names less than 1280', async (t) => {
  const { send } = setup(1300);
  const { out } = send(segment(1250, TCP_SYN));
  t.same([out[54], out[55]], [2, 0]);
  t.equal(new DataView(out.buffer, out.byteOffset).getUint32(58), 1280);
});
