// The dataplane's IPv6 path: DR (MACs only, hop limit - 1), NAT66 (destination and checksum,
// replies get the VIP back), wrr proportions over IPv6 clients, malformed IPv6 counted by
// reason, and an IPv4 service beside it untouched (a dual-stack pair in one Dataplane).
import t from 'tap';
import { C_DROP_BASE, C_ICMP_SENT, C_IPV6_FORWARDED, C_PARSE6_BASE, DataplaneDrop, allocateCounters, allocateIpvsCounters, summarizeCounters } from '../../src/dataplane/counters.js';
import { Dataplane } from '../../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_NAT, type SnapshotService } from '../../src/dataplane/snapshot.js';
import { DROP, TX, TX_OTHER } from '../../src/io/port.js';
import { ipToNumber, parseMac } from '../../src/packet/addr.js';
import { formatIpv6 } from '../../src/packet/addr6.js';
import { buildFrame } from '../../src/packet/build.js';
import { buildFrame6 } from '../../src/packet/build6.js';
import { ipv6TransportChecksumValid } from '../../src/packet/checksum6.js';
import { Parse6Result } from '../../src/packet/ipv6.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/parse.js';
import { CLIENT_MAC, DIRECTOR_MAC, INSIDE_MAC, rsMac, setup, v6Service } from './ipv6-fixture.js';

const TCP_80 = { protocol: 6, vport: 80 };

const syn = (client: string, srcPort: number, hopLimit = 64) => buildFrame6({
  srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: client, dst: '2001:2::100', hopLimit,
  tcp: { srcPort, dstPort: 80, flags: TCP_SYN }, payload: 'hello',
});

t.test('DR over IPv6: next hop MAC, hop limit - 1, nothing else changes', async (t) => {
  const { send, counters, dp } = setup([v6Service(10, FORWARD_DR, [1], '2001:2::', TCP_80)]);
  const input = syn('2001:2::1', 40000);
  const { verdict, out } = send(input);
  t.equal(verdict, TX);
  t.same([...out.subarray(0, 6)], [...parseMac(rsMac(1))], 'destination MAC: the real server');
  t.same([...out.subarray(6, 12)], [...parseMac(DIRECTOR_MAC)], 'source MAC: the director');
  t.equal(out[14 + 7], 63, 'hop limit decremented');
  const expected = input.slice();
  expected.set(out.subarray(0, 12), 0);
  expected[14 + 7] = 63;
  t.same([...out], [...expected], 'every other byte as received');
  t.equal(counters[C_IPV6_FORWARDED], 1);
  t.equal(dp.v6!.flows.stats.size, 1, 'tracked in the IPv6 table');
  t.equal(dp.flows.stats.size, 0, 'not in the IPv4 one');
  t.equal(dp.flows.activeConns[11] + dp.flows.inactiveConns[11], 1, 'counted for the real server');
});

t.test('hop limit 1 is answered with ICMPv6 time exceeded, as IPv4\'s TTL', async (t) => {
  const { send, counters } = setup([v6Service(10, FORWARD_DR, [1], '2001:2::', TCP_80)]);
  const input = syn('2001:2::1', 40000, 1);
  const { verdict, out } = send(input);
  t.equal(verdict, TX, 'sent back on the port it came in by');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.TTL_EXPIRED], 1, 'the packet itself counted as dropped');
  t.equal(counters[C_ICMP_SENT], 1);
  t.same([...out.subarray(0, 12)], [...parseMac(CLIENT_MAC), ...parseMac(DIRECTOR_MAC)], 'MACs swapped');
  t.equal(out[14 + 6], 58, 'ICMPv6');
  t.equal(formatIpv6(out, 14 + 8), '2001:2::100', 'from the VIP');
  t.equal(formatIpv6(out, 14 + 24), '2001:2::1', 'to the client');
  t.same([out[54], out[55]], [3, 0], 'time exceeded, hop limit exceeded in transit');
  t.ok(ipv6TransportChecksumValid(out, 14, 54, out.length - 54, 58), 'ICMPv6 checksum valid');
  t.same([...out.subarray(62)], [...input.subarray(14)], 'quotes the whole packet');
});

t.test('wrr 1:3:3 over 70 new IPv6 connections: 10/30/30', async (t) => {
  const { send } = setup([v6Service(10, FORWARD_DR, [1, 3, 3], '2001:2::', TCP_80)]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 70; i++) {
    const { verdict, out } = send(syn(`2001:2::1:${i.toString(16)}`, 30000 + i));
    t.equal(verdict, TX);
    const mac = [...out.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    counts.set(mac, (counts.get(mac) ?? 0) + 1);
  }
  t.same([1, 2, 3].map((n) => counts.get(rsMac(n))), [10, 30, 30]);
});

t.test('NAT66: destination rewritten with a valid checksum; the reply gets the VIP back', async (t) => {
  const { send, counters } = setup([v6Service(20, FORWARD_NAT, [1], '2001:2:0:1::', TCP_80)]);
  const { verdict, out } = send(syn('2001:2::1', 40001));
  t.equal(verdict, TX_OTHER);
  t.equal(formatIpv6(out, 14 + 24), '2001:2:0:1::10', 'destination: the real server');
  t.equal((out[54 + 2] << 8) | out[54 + 3], 8080, 'destination port: the real server\'s');
  t.ok(ipv6TransportChecksumValid(out, 14, 54, out.length - 54, 6), 'TCP checksum valid over the new pseudo header');
  t.same([...out.subarray(0, 12)], [...parseMac(rsMac(1)), ...parseMac(INSIDE_MAC)]);
  const reply = buildFrame6({
    srcMac: rsMac(1), dstMac: INSIDE_MAC, src: '2001:2:0:1::10', dst: '2001:2::1',
    tcp: { srcPort: 8080, dstPort: 40001, flags: TCP_SYN | TCP_ACK, ack: 2 },
  });
  const back = send(reply, true);
  t.equal(back.verdict, TX_OTHER);
  t.equal(formatIpv6(back.out, 14 + 8), '2001:2::100', 'source: the VIP');
  t.equal((back.out[54] << 8) | back.out[55], 80, 'source port: the VIP\'s');
  t.ok(ipv6TransportChecksumValid(back.out, 14, 54, back.out.length - 54, 6), 'reply checksum valid');
  t.same([...back.out.subarray(0, 6)], [...parseMac(CLIENT_MAC)], 'back to the hop the request came from');
  t.equal(back.out[14 + 7], 63, 'reply hop limit decremented');
  const stranger = buildFrame6({ srcMac: rsMac(1), dstMac: INSIDE_MAC, src: '2001:2:0:1::10', dst: '2001:2::9',
    tcp: { srcPort: 8080, dstPort: 40001, flags: TCP_ACK, ack: 2 } });
  t.equal(send(stranger, true).verdict, DROP, 'a reply of no connection');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.REPLY_NO_FLOW], 1);
});

t.test('malformed IPv6 is dropped by reason; unknown VIPs are no service', async (t) => {
  const { send, counters } = setup([v6Service(10, FORWARD_DR, [1], '2001:2::', TCP_80)]);
  const bad = syn('2001:2::1', 40000);
  bad[14 + 4] = 0xff; // payload length longer than the frame
  t.equal(send(bad).verdict, DROP);
  t.equal(counters[C_PARSE6_BASE + Parse6Result.BAD_PAYLOAD_LENGTH], 1);
  const loop = buildFrame6({ src: '2001:2::1', dst: '2001:2::100', tcp: { srcPort: 1, dstPort: 80 },
    extensions: Array.from({ length: 9 }, () => ({ type: 60 })) });
  t.equal(send(loop).verdict, DROP);
  t.equal(counters[C_PARSE6_BASE + Parse6Result.TOO_MANY_EXTENSION_HEADERS], 1);
  const other = buildFrame6({ src: '2001:2::1', dst: '2001:2::101', tcp: { srcPort: 1, dstPort: 80 } });
  t.equal(send(other).verdict, DROP);
  t.equal(counters[C_DROP_BASE + DataplaneDrop.NO_SERVICE], 1);
  t.equal(summarizeCounters([counters]).drop_ipv6_bad_payload_length, 1, 'named in ulvs stats');
});

t.test('dual-stack pair: the same servers over IPv4 and IPv6 in one dataplane', async (t) => {
  const v4: SnapshotService = {
    id: 30, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }], protocol: 6, forward: FORWARD_DR,
    scheduler: 'rr', schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
    realServers: [{ rsId: 31, ip: ipToNumber('198.18.0.10'), port: 80, weight: 1, available: true, mac: rsMac(1), uthreshold: 0, lthreshold: 0 }],
  };
  const { send, dp } = setup([v4, v6Service(10, FORWARD_DR, [1], '2001:2::', TCP_80)]);
  const four = send(buildFrame({ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, ip: { src: '198.18.0.1', dst: '198.18.0.100' }, tcp: { srcPort: 5000, dstPort: 80, flags: TCP_SYN } }));
  t.equal(four.verdict, TX);
  const six = send(syn('2001:2::1', 5000));
  t.equal(six.verdict, TX);
  t.same([...four.out.subarray(0, 6)], [...six.out.subarray(0, 6)], 'both to the same server');
  t.equal(dp.flows.stats.size, 1, 'one IPv4 flow');
  t.equal(dp.v6!.flows.stats.size, 1, 'one IPv6 flow');
  const v4only = setup([v4]);
  t.equal(v4only.dp.v6, null, 'an IPv4-only director never builds the IPv6 table');
  t.equal(v4only.send(syn('2001:2::1', 5000)).verdict, DROP, 'and drops IPv6 as before');
});
