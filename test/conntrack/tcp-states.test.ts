// IPVS's TCP state machine as ip_vs_proto_tcp.c has it, through the FlowTable: fixture tables
// of packets -> state, timeout and Active/InAct, for DR/TUN (input-only) and NAT (both ways).
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { lookupFlow, lookupReplyFlow, insertFlow } from './flow-calls.js';
import {
  DEFAULT_TIMEOUTS, TCP_STATE_NAMES, UDP_STATE_NAME, formatTimeouts, NEXT_STATE, TCP_STATE_ACTIVE,
} from '../../src/conntrack/tcp-states.js';

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;
const C = 'client', S = 'server';
type Step = [from: typeof C | typeof S, flags: number, state: string, timeout: number, active: 0 | 1];

interface Fixture { description: string; nat: boolean; steps: Step[] }

// Expected values read off the kernel's tables by hand (not computed), one row per packet.
const FIXTURES: Fixture[] = [
  { description: 'DR: client opens, sends data, closes (director sees client side only)', nat: false, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [C, PSH | ACK, 'ESTABLISHED', 900, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [C, FIN | ACK, 'FIN_WAIT', 120, 0],
    [C, ACK, 'FIN_WAIT', 120, 0],
  ] },
  { description: 'DR: SYN retransmitted, then RST', nat: false, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, RST, 'SYN_RECV', 60, 1],
  ] },
  { description: 'DR: established then reset', nat: false, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [C, RST | ACK, 'CLOSE', 10, 0],
    [C, SYN, 'SYN_RECV', 60, 1],
  ] },
  { description: 'DR: FIN right after the SYN goes to TIME_WAIT; a new SYN on the tuple reopens it', nat: false, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, FIN, 'TIME_WAIT', 120, 0],
    [C, ACK, 'TIME_WAIT', 120, 0],
    [C, SYN, 'SYN_RECV', 60, 1],
  ] },
  { description: 'DR: a segment with no SYN/FIN/ACK/RST closes the connection', nat: false, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, PSH, 'CLOSE', 10, 0],
  ] },
  { description: 'DR: first packet is a bare ACK (mid-stream pickup, e.g. after failover)', nat: false, steps: [
    [C, ACK, 'ESTABLISHED', 900, 1],
    [C, FIN | ACK, 'FIN_WAIT', 120, 0],
  ] },
  { description: 'NAT: client opens, client closes first', nat: true, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [S, SYN | ACK, 'SYN_RECV', 60, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [C, PSH | ACK, 'ESTABLISHED', 900, 1],
    [S, PSH | ACK, 'ESTABLISHED', 900, 1],
    [C, FIN | ACK, 'CLOSE_WAIT', 60, 0],
    [S, ACK, 'CLOSE_WAIT', 60, 0],
    [S, FIN | ACK, 'TIME_WAIT', 120, 0],
    [C, ACK, 'TIME_WAIT', 120, 0],
  ] },
  { description: 'NAT: server closes first', nat: true, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [S, SYN | ACK, 'SYN_RECV', 60, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [S, FIN | ACK, 'FIN_WAIT', 120, 0],
    [C, ACK, 'FIN_WAIT', 120, 0],
    [C, FIN | ACK, 'TIME_WAIT', 120, 0],
    [S, ACK, 'TIME_WAIT', 120, 0],
  ] },
  { description: 'NAT: server refuses (RST)', nat: true, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [S, RST | ACK, 'CLOSE', 10, 0],
  ] },
  { description: 'NAT: server resets an established connection', nat: true, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [S, SYN | ACK, 'SYN_RECV', 60, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [S, RST, 'CLOSE', 10, 0],
  ] },
  { description: 'NAT: a SYN seen first from the server side is SYN_SENT', nat: true, steps: [
    [S, SYN, 'SYN_SENT', 120, 1],
    [C, SYN | ACK, 'ESTABLISHED', 900, 1],   // INPUT syn on SYN_SENT
    [S, ACK, 'ESTABLISHED', 900, 1],
  ] },
  { description: 'NAT: repeated server FIN stays in FIN_WAIT, client RST closes', nat: true, steps: [
    [C, ACK, 'ESTABLISHED', 900, 1],
    [S, FIN, 'FIN_WAIT', 120, 0],
    [S, FIN, 'FIN_WAIT', 120, 0],
    [C, RST, 'CLOSE', 10, 0],
  ] },
  { description: 'DR flow that starts seeing replies switches to the two-direction table', nat: false, steps: [
    [C, SYN, 'SYN_RECV', 60, 1],
    [C, ACK, 'ESTABLISHED', 900, 1],
    [S, ACK, 'ESTABLISHED', 900, 1],
    [C, FIN | ACK, 'CLOSE_WAIT', 60, 0],   // input-only would give FIN_WAIT
  ] },
];

for (const fixture of FIXTURES) {
  t.test(fixture.description, async (t) => {
    const table = new FlowTable({ capacity: 4, seed: 7 });
    let now = 5000;
    const flow = insertFlow(table, 6, 0xc6120101, 40000, 0xc6120064, 80, 1, 9, 0xc612000a, 8080, now, fixture.nat);
    t.equal(TCP_STATE_NAMES[table.state(flow)], 'NONE', 'a new connection starts in NONE');
    t.same([table.activeConns[9], table.inactiveConns[9]], [0, 1], 'and counts as inactive (IP_VS_CONN_F_INACTIVE)');
    for (const [i, [from, flags, state, timeout, active]] of fixture.steps.entries()) {
      now += 1;
      table.onTcpPacket(flow, from === C, flags, now);
      t.equal(TCP_STATE_NAMES[table.state(flow)], state, `step ${i + 1}: ${from} ${flags.toString(16)} -> ${state}`);
      t.equal(table.expiresAt(flow), now + timeout, `step ${i + 1}: timeout ${timeout}`);
      t.same([table.activeConns[9], table.inactiveConns[9]], [active, 1 - active], `step ${i + 1}: ActiveConn/InActConn`);
    }
  });
}

t.test('the flat table is the kernel one: spot checks by (direction, event, state)', async (t) => {
  const at = (dir: number, ev: number, s: number) => TCP_STATE_NAMES[NEXT_STATE[(dir * 4 + ev) * 11 + s]];
  t.equal(at(0, 3, 10), 'SYN_RECV', 'INPUT rst on SYNACK -> SYN_RECV');
  t.equal(at(2, 3, 10), 'CLOSE', 'INPUT-ONLY rst on SYNACK -> CLOSE');
  t.equal(at(1, 2, 9), 'ESTABLISHED', 'OUTPUT ack on LISTEN -> ESTABLISHED');
  t.equal(at(1, 3, 5), 'TIME_WAIT', 'OUTPUT rst on TIME_WAIT stays');
  t.equal(at(0, 2, 8), 'CLOSE', 'INPUT ack on LAST_ACK -> CLOSE');
  t.equal(at(1, 2, 8), 'LAST_ACK', 'OUTPUT ack on LAST_ACK stays');
  t.same([...TCP_STATE_ACTIVE].map((a, s) => a ? TCP_STATE_NAMES[s] : '').filter(Boolean),
    ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'SYNACK'], 'active states as tcp_state_active_table');
});

t.test('default timeouts are IPVS\'s and print like ipvsadm -L --timeout', async (t) => {
  t.same({ ...DEFAULT_TIMEOUTS }, {
    tcp: 900, tcpfin: 120, udp: 300, none: 2, synSent: 120, synRecv: 60, timeWait: 120, close: 10,
    closeWait: 60, lastAck: 30, listen: 120, synack: 120,
  });
  t.equal(formatTimeouts(DEFAULT_TIMEOUTS), 'Timeout (tcp tcpfin udp): 900 120 300');
  t.equal(TCP_STATE_NAMES.join(' '), 'NONE ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK');
});

t.test('setTimeouts changes the expiry of later packets, not of existing flows', async (t) => {
  const table = new FlowTable({ capacity: 8, seed: 1 });
  const now = 100;
  const tcp = insertFlow(table, 6, 1, 1000, 2, 80, 0, 0, 3, 80, now, false);
  table.onTcpPacket(tcp, true, SYN, now);
  table.onTcpPacket(tcp, true, ACK, now);
  const udp = insertFlow(table, 17, 1, 1000, 2, 53, 0, 0, 3, 53, now, false);
  table.onUdpPacket(udp, now);
  t.equal(table.expiresAt(tcp), now + 900);
  t.equal(table.expiresAt(udp), now + 300);

  table.setTimeouts({ tcp: 60, tcpfin: 0, udp: 20 });   // like ipvsadm --set 60 0 20
  t.equal(table.expiresAt(tcp), now + 900, 'existing expiry untouched until the next packet');
  t.equal(formatTimeouts(table.timeouts), 'Timeout (tcp tcpfin udp): 60 120 20', '0 keeps tcpfin');
  table.onTcpPacket(tcp, true, ACK, now + 1);
  table.onUdpPacket(udp, now + 1);
  t.equal(table.expiresAt(tcp), now + 1 + 60, 'ESTABLISHED uses the new tcp timeout');
  t.equal(table.expiresAt(udp), now + 1 + 20, 'UDP uses the new udp timeout');
  table.setTimeouts({ tcpfin: 7 });
  table.onTcpPacket(tcp, true, FIN | ACK, now + 2);
  t.equal(table.expiresAt(tcp), now + 2 + 7, 'FIN_WAIT uses tcpfin');
  t.equal(lookupFlow(table, 6, 1, 1000, 2, 80, now + 2 + 6), tcp, 'alive one second before');
  t.equal(lookupFlow(table, 6, 1, 1000, 2, 80, now + 2 + 7), -1, 'gone at its expiry');
  t.throws(() => table.setTimeouts({ tcp: -1 }), RangeError);
  t.throws(() => table.setTimeouts({ udp: 1.5 }), RangeError);
});

t.test('UDP flows are inactive, listed as UDP, and expire after the udp timeout', async (t) => {
  const table = new FlowTable({ capacity: 8, seed: 2, timeouts: { udp: 30 } });
  const flow = insertFlow(table, 17, 0xc6120101, 5353, 0xc6120064, 53, 0, 4, 0xc612000a, 53, 10, true);
  table.onUdpPacket(flow, 10);
  t.same([table.activeConns[4], table.inactiveConns[4]], [0, 1]);
  const [entry] = table.snapshot(20);
  t.equal(entry.state, UDP_STATE_NAME);
  t.equal(entry.expiresIn, 20);
  t.equal(lookupReplyFlow(table, 17, 0xc612000a, 53, 0xc6120101, 5353, 39), flow, 'reply tuple finds the flow');
  t.equal(lookupFlow(table, 17, 0xc6120101, 5353, 0xc6120064, 53, 40), -1, 'expired at 10 + 30');
  t.equal(lookupReplyFlow(table, 17, 0xc612000a, 53, 0xc6120101, 5353, 40), -1);
  t.equal(table.expireSome(40, table.slotCount), 1);
  t.same([table.activeConns[4], table.inactiveConns[4], table.stats.size], [0, 0, 0]);
});
