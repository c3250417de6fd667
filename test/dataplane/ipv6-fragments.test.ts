// IPv6 fragments through the dataplane (issue 16): UDP datagrams cut by the reference
// fragmenter (build6.ts fragmentFrames6) over DR and NAT66 both ways. Every fragment's bytes
// are checked: DR changes MACs and hop limit only; NAT66 writes the real server's address (the
// VIP for replies) in each fragment and the port only in the first, and the reassembled
// datagram's UDP checksum verifies. A later fragment before its first is drop_fragment_no_first.
import t from 'tap';
import { C_DROP_BASE, C_FRAGMENTS, DataplaneDrop } from '../../src/dataplane/counters.js';
import { FORWARD_DR, FORWARD_NAT } from '../../src/dataplane/snapshot.js';
import { DROP, TX, TX_OTHER } from '../../src/io/port.js';
import { parseMac } from '../../src/packet/addr.js';
import { parseIpv6 } from '../../src/packet/addr6.js';
import { fragmentFrames6, reassemble6 } from '../../src/packet/build6.js';
import { ipv6TransportChecksumValid } from '../../src/packet/checksum6.js';
import { CLIENT_MAC, DIRECTOR_MAC, INSIDE_MAC, rsMac, setup, v6Service } from './ipv6-fixture.js';

const UDP_9000 = { protocol: 17, vport: 9000 };


const CLIENT = '2001:2::1';
const VIP = '2001:2::100';
const payload = new Uint8Array(4000).map((_, i) => i * 7);

function frameOfOut(out: Uint8Array, reassembled: Uint8Array): Uint8Array {
  const whole = new Uint8Array(54 + reassembled.length);
  whole.set(out.subarray(0, 54));
  whole.set(reassembled, 54);
  return whole;
}

t.test('DR: every fragment to the real server\'s MAC, hop limit - 1, bytes otherwise unchanged', async (t) => {
  const { send, counters } = setup([v6Service(10, FORWARD_DR, [1], '2001:2::', UDP_9000)]);
  const frames = fragmentFrames6({ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: CLIENT, dst: VIP, udp: { srcPort: 40000, dstPort: 9000 }, payload }, 0xabcd0001, 1448);
  t.equal(frames.length, 3);
  for (const [i, f] of frames.entries()) {
    const { verdict, out } = send(f);
    t.equal(verdict, TX, `fragment ${i} forwarded`);
    t.same([...out.subarray(0, 6)], [...parseMac(rsMac(1))], 'to the real server\'s MAC');
    t.same([...out.subarray(6, 12)], [...parseMac(DIRECTOR_MAC)], 'from the director\'s');
    t.equal(out[14 + 7], 63, 'hop limit - 1');
    const expected = f.slice(); expected.set(out.subarray(0, 12)); expected[21] = 63;
    t.same([...out], [...expected], 'nothing else changed');
  }
  t.equal(counters[C_FRAGMENTS], 3, 'three fragments counted');
});

t.test('NAT66: address in every fragment, port and checksum in the first; the reply likewise', async (t) => {
  const { send, counters } = setup([v6Service(20, FORWARD_NAT, [1], '2001:2:0:1::', UDP_9000)]);
  const rs = '2001:2:0:1::10';
  const frames = fragmentFrames6({ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: CLIENT, dst: VIP, udp: { srcPort: 40000, dstPort: 9000 }, payload }, 7, 1448);
  const outs: Uint8Array[] = [];
  for (const [i, f] of frames.entries()) {
    const { verdict, out } = send(f);
    t.equal(verdict, TX_OTHER, `fragment ${i} to the inside`);
    t.same([...out.subarray(38, 54)], [...parseIpv6(rs)], 'destination: the real server');
    t.same([...out.subarray(22, 38)], [...parseIpv6(CLIENT)], 'source: the client');
    t.equal(out[21], 63, 'hop limit - 1');
    t.same([...out.subarray(54)], i === 0 ? [...out.subarray(54)] : [...f.subarray(54)], 'fragment header and payload unchanged past the first');
    outs.push(out);
  }
  const datagram = reassemble6(outs);
  t.equal((datagram[2] << 8) | datagram[3], 8080, 'destination port rewritten in the first fragment');
  t.ok(ipv6TransportChecksumValid(frameOfOut(outs[0], datagram), 14, 54, datagram.length, 17), 'reassembled UDP checksum verifies');

  const answer = new Uint8Array(3000).fill(0x33);
  const replies = fragmentFrames6({ srcMac: rsMac(1), dstMac: INSIDE_MAC, src: rs, dst: CLIENT, udp: { srcPort: 8080, dstPort: 40000 }, payload: answer }, 9, 1448);
  const back: Uint8Array[] = [];
  for (const [i, f] of replies.entries()) {
    const { verdict, out } = send(f, true);
    t.equal(verdict, TX_OTHER, `reply fragment ${i} to the outside`);
    t.same([...out.subarray(22, 38)], [...parseIpv6(VIP)], 'source: the VIP');
    t.same([...out.subarray(0, 6)], [...parseMac(CLIENT_MAC)], 'to the client\'s hop');
    back.push(out);
  }
  const reply = reassemble6(back);
  t.equal((reply[0] << 8) | reply[1], 9000, 'source port the vport');
  t.ok(ipv6TransportChecksumValid(frameOfOut(back[0], reply), 14, 54, reply.length, 17), 'reassembled reply checksum verifies');
  t.equal(counters[C_FRAGMENTS], 6);
});

t.test('a later fragment before its first: dropped and counted drop_fragment_no_first; a repeat of the last is forged', async (t) => {
  const { send, counters } = setup([v6Service(30, FORWARD_DR, [1], '2001:2::', UDP_9000)]);
  const frames = fragmentFrames6({ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: CLIENT, dst: VIP, udp: { srcPort: 40001, dstPort: 9000 }, payload }, 11, 1448);
  t.equal(send(frames[1]).verdict, DROP, 'second before the first: dropped');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_NO_FIRST], 1, 'counted as no first');
  t.equal(send(frames[0]).verdict, TX, 'the first goes');
  t.equal(send(frames[2]).verdict, TX, 'the last follows');
  t.equal(send(frames[2]).verdict, DROP, 'a second last fragment');
  t.equal(counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_FORGED], 1, 'counted as forged');
});
