// FlowTable.importTuple: flows learned from another director through connection sync.
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { TCP_ESTABLISHED, TCP_FIN_WAIT, TCP_ACK, TCP_FIN } from '../../src/conntrack/tcp-states.js';
import { lookupFlow, lookupReplyFlow } from './flow-calls.js';

const CLIENT = 0xc6120002, VIP = 0xc6120064, RS = 0xc612000a;

function importFlow(table: FlowTable, proto: number, port: number, state: number, timeout: number, now: number, nat = false): number {
  const tuple = table.tuple;
  tuple[0] = proto; tuple[1] = CLIENT; tuple[2] = port; tuple[3] = VIP; tuple[4] = 80; tuple[5] = RS; tuple[6] = 8080;
  return table.importTuple(3, 7, state, timeout, now, nat);
}

t.test('an imported ESTABLISHED connection counts as active, keeps the master\'s timeout and then lives on by its packets', async (t) => {
  const table = new FlowTable({ capacity: 64, seed: 1 });
  const flow = importFlow(table, 6, 40000, TCP_ESTABLISHED, 500, 100);
  t.equal(lookupFlow(table, 6, CLIENT, 40000, VIP, 80, 100), flow);
  t.equal(table.state(flow), TCP_ESTABLISHED);
  t.equal(table.expiresAt(flow), 600);
  t.equal(table.activeConns[7], 1);
  t.equal(table.inactiveConns[7], 0);
  t.equal(table.rsIp(flow), RS);
  t.equal(table.rsPort(flow), 8080);
  t.equal(table.service(flow), 3);
  table.onTcpPacket(flow, true, TCP_FIN | TCP_ACK, 200);
  t.equal(table.state(flow), TCP_FIN_WAIT, 'the next packet moves it on as a local connection');
  t.equal(table.activeConns[7], 0);
  t.equal(table.inactiveConns[7], 1);
  t.equal(table.expiresAt(flow), 200 + table.timeouts.tcpfin, 'FIN_WAIT timeout from the packet, not the import');
});

t.test('importing the same connection again replaces it (no double count)', async (t) => {
  const table = new FlowTable({ capacity: 64, seed: 2 });
  importFlow(table, 6, 40001, TCP_ESTABLISHED, 900, 10);
  importFlow(table, 6, 40001, TCP_ESTABLISHED, 900, 20);
  t.equal(table.stats.size, 1);
  t.equal(table.activeConns[7], 1);
  const other = importFlow(table, 6, 40001, TCP_FIN_WAIT, 0, 30);
  t.equal(table.stats.size, 1);
  t.equal(table.activeConns[7], 0);
  t.equal(table.inactiveConns[7], 1);
  t.equal(table.expiresAt(other), 30 + table.timeouts.tcpfin, 'timeout 0: this table\'s own for the state');
});

t.test('an imported NAT flow answers reply lookups; an imported UDP flow is protected from eviction', async (t) => {
  const table = new FlowTable({ capacity: 2, seed: 3 });
  const nat = importFlow(table, 6, 40002, TCP_ESTABLISHED, 900, 1, true);
  t.equal(lookupReplyFlow(table, 6, RS, 8080, CLIENT, 40002, 1), nat);
  const udp = importFlow(table, 17, 5353, 0, 60, 1);
  t.equal(table.expiresAt(udp), 61);
  // A full table evicts embryonic entries first: both imports are protected, so the oldest goes.
  importFlow(table, 6, 40003, 3, 0, 2);
  t.equal(table.stats.evictions, 1);
});
