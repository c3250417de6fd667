// Properties of the flow table that the model test does not reach: the SYN-flood guarantee,
// the capacity bound at scale, counters after partial sweeps, expire_nodest_conn.
import t from 'tap';
import fc from 'fast-check';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { lookupFlow, lookupReplyFlow, insertFlow } from './flow-calls.js';
import { TCP_STATE_NAMES, TCP_STATE_ACTIVE } from '../../src/conntrack/tcp-states.js';

const TCP = 6, UDP = 17, SYN = 0x02, ACK = 0x10, FIN = 0x01;
const VIP = 0xc6120064;

function establish(table: FlowTable, clientIp: number, clientPort: number, rsId: number, now: number): number {
  const flow = insertFlow(table, TCP, clientIp, clientPort, VIP, 80, 0, rsId, 0xc612000a + rsId, 80, now, false);
  table.onTcpPacket(flow, true, SYN, now);
  table.onTcpPacket(flow, true, ACK, now);
  return flow;
}

t.test('SYN flood from random sources: the table fills to its bound, established flows all survive', async (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 2, max: 64 }), fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 3, max: 20 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1024, max: 65535 })), { minLength: 1, maxLength: 20 }),
    (capacity, seed, share, floodFactor, floodSeeds) => {
      const table = new FlowTable({ capacity, seed });
      const established = Math.max(1, Math.min(capacity - 1, Math.floor(share * capacity)));
      const now = 1000;
      for (let i = 0; i < established; i++) establish(table, 0x0a000000 + i, 40000, i % 4, now);
      const flood = capacity * floodFactor;
      for (let i = 0; i < flood; i++) {
        const [src, port] = floodSeeds[i % floodSeeds.length];
        const flow = insertFlow(table, TCP, (src + i * 2654435761) >>> 0, port, VIP, 80, 0, 5, 0xc6120010, 80, now, false);
        table.onTcpPacket(flow, true, SYN, now);
        if (table.stats.size > capacity) throw new Error('bound exceeded');
        if (lookupFlow(table, TCP, (src + i * 2654435761) >>> 0, port, VIP, 80, now) !== flow) throw new Error('a new connection did not get in');
      }
      if (table.stats.size !== capacity) throw new Error(`size ${table.stats.size} != ${capacity}`);
      for (let i = 0; i < established; i++) {
        const flow = lookupFlow(table, TCP, 0x0a000000 + i, 40000, VIP, 80, now);
        if (flow < 0 || TCP_STATE_NAMES[table.state(flow)] !== 'ESTABLISHED') throw new Error(`established flow ${i} lost`);
      }
      if (table.activeConns[5] + table.inactiveConns[5] !== capacity - established) throw new Error('flood counters');
    },
  ), { numRuns: 200 });
  t.pass();
});

t.test('when every entry is established, the oldest is evicted and the new one gets in', async (t) => {
  const table = new FlowTable({ capacity: 3, seed: 3 });
  for (let i = 0; i < 3; i++) establish(table, 100 + i, 1, 0, 10);
  const fresh = insertFlow(table, TCP, 999, 1, VIP, 80, 0, 0, 1, 80, 11, false);
  t.ok(fresh >= 0);
  t.equal(lookupFlow(table, TCP, 100, 1, VIP, 80, 11), -1, 'oldest established evicted');
  t.ok(lookupFlow(table, TCP, 101, 1, VIP, 80, 11) >= 0);
  t.equal(table.stats.evictions, 1);
});

t.test('capacity bound at 100,000 flows: never exceeded, arrays never grow', async (t) => {
  const capacity = 100_000;
  const table = new FlowTable({ capacity, seed: 11 });
  const before = table.memory().totalBytes;
  let now = 1;
  for (let i = 0; i < 3 * capacity; i++) {
    if (i % 1000 === 0) now++;
    const flow = insertFlow(table, i % 3 === 0 ? UDP : TCP, (i * 2654435761) >>> 0, i & 0xffff, VIP, 80, 0, i & 7, 1, 80, now, (i & 1) === 0);
    if (i % 3 !== 0) table.onTcpPacket(flow, true, SYN, now);
    if (table.stats.size > capacity) { t.fail(`size ${table.stats.size} at insert ${i}`); return; }
  }
  t.equal(table.stats.size, capacity);
  t.equal(table.stats.inserts, 3 * capacity);
  t.equal(table.stats.evictions + table.stats.expired, 2 * capacity, 'every insert beyond the bound pushed one out');
  t.equal(table.memory().totalBytes, before);
});

t.test('at most 64 bytes per tracked connection at a million flows (all typed arrays / capacity)', async (t) => {
  for (const capacity of [1_000_000, 1 << 20]) {
    const { bytesPerFlow } = new FlowTable({ capacity, seed: 1 }).memory();
    t.ok(bytesPerFlow <= 64, `${capacity}: ${bytesPerFlow.toFixed(2)} bytes per flow`);
  }
});

t.test('Active/InAct always equal the states in the table, with partial sweeps and flushes', async (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), c: fc.integer({ min: 0, max: 40 }), proto: fc.constantFrom(TCP, UDP), rs: fc.integer({ min: 0, max: 2 }), nat: fc.boolean() }),
    fc.record({ kind: fc.constant('packet' as const), c: fc.integer({ min: 0, max: 40 }), fromClient: fc.boolean(), flags: fc.constantFrom(SYN, ACK, FIN | ACK, 0x04, SYN | ACK, 0) }),
    fc.record({ kind: fc.constant('advance' as const), s: fc.integer({ min: 0, max: 200 }) }),
    fc.record({ kind: fc.constant('sweep' as const), visits: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('drop' as const), rs: fc.integer({ min: 0, max: 2 }), expireNow: fc.boolean() }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.integer(), fc.array(op, { minLength: 10, maxLength: 200, size: 'max' }), (capacity, seed, ops) => {
    const table = new FlowTable({ capacity, seed });
    let now = 50;
    for (const o of ops) {
      if (o.kind === 'insert') insertFlow(table, o.proto, o.c, 7, VIP, 80, 0, o.rs, 0xc6120010 + o.rs, 80, now, o.nat);
      else if (o.kind === 'packet') {
        for (const proto of [TCP, UDP]) {
          const flow = lookupFlow(table, proto, o.c, 7, VIP, 80, now);
          if (flow < 0) continue;
          if (proto === TCP) table.onTcpPacket(flow, o.fromClient, o.flags, now); else table.onUdpPacket(flow, now);
        }
      } else if (o.kind === 'advance') now += o.s;
      else if (o.kind === 'sweep') {
        const before = table.snapshot(now).length;
        table.expireSome(now, o.visits);
        if (table.snapshot(now).length !== before) throw new Error('a sweep freed a live flow');
      } else {
        table.dropRealServer(o.rs, now, o.expireNow);
        if (o.expireNow && table.activeConns[o.rs] + table.inactiveConns[o.rs] !== 0) throw new Error('flush left connections');
      }
      // Count what is held (live or not yet swept) by reading every slot through the accessors.
      const counts = [[0, 0], [0, 0], [0, 0]];
      let held = 0;
      for (let flow = 0; flow < table.slotCount; flow++) {
        if (table.proto(flow) === 0) continue;
        held++;
        const active = table.proto(flow) === TCP && TCP_STATE_ACTIVE[table.state(flow)] === 1;
        if (active !== table.isActive(flow)) throw new Error('flag disagrees with state');
        counts[table.rsId(flow)][active ? 0 : 1]++;
      }
      if (held !== table.stats.size) throw new Error('size');
      for (let rs = 0; rs < 3; rs++) {
        if (table.activeConns[rs] !== counts[rs][0] || table.inactiveConns[rs] !== counts[rs][1]) {
          throw new Error(`rs ${rs}: ${table.activeConns[rs]}/${table.inactiveConns[rs]} vs ${counts[rs]}`);
        }
      }
    }
    // Enough sweeping frees everything expired and nothing else.
    now += 1000;
    table.expireSome(now, table.slotCount);
    if (table.stats.size !== table.snapshot(now).length) throw new Error('a full sweep left expired flows');
  }), { numRuns: 500 });
  t.pass();
});

t.test('expire_nodest_conn = 0: connections of a removed server stay until their timeout', async (t) => {
  const table = new FlowTable({ capacity: 16, seed: 5 });
  t.equal(table.expireNodestConn, false, 'IPVS default');
  const a = establish(table, 1, 1, 2, 100);
  const b = establish(table, 2, 1, 3, 100);
  t.equal(table.dropRealServer(2, 100), 0, 'nothing freed');
  t.equal(lookupFlow(table, TCP, 1, 1, VIP, 80, 101), a, 'still in the table');
  t.equal(lookupFlow(table, TCP, 2, 1, VIP, 80, 101), b, 'another server\'s connection too');
  t.same([table.activeConns[2], table.inactiveConns[2]], [1, 0], 'still counted, as ipvsadm shows');
  t.equal(lookupFlow(table, TCP, 1, 1, VIP, 80, 100 + 900), -1, 'gone once its timeout passes');
});

t.test('expire_nodest_conn = 1: connections of a removed server are expired at once', async (t) => {
  const table = new FlowTable({ capacity: 16, seed: 6, expireNodestConn: true });
  establish(table, 1, 1, 2, 100);
  establish(table, 2, 1, 2, 100);
  const other = establish(table, 3, 1, 3, 100);
  t.equal(table.dropRealServer(2, 100), 2);
  t.equal(lookupFlow(table, TCP, 1, 1, VIP, 80, 100), -1);
  t.equal(lookupFlow(table, TCP, 3, 1, VIP, 80, 100), other);
  t.same([table.activeConns[2], table.inactiveConns[2], table.stats.flushed, table.stats.size], [0, 0, 2, 1]);
});

t.test('an expired flow counts as absent and a new one with its key replaces it', async (t) => {
  const table = new FlowTable({ capacity: 4, seed: 8 });
  const old = insertFlow(table, TCP, 1, 1, VIP, 80, 0, 0, 10, 80, 0, true);
  table.onTcpPacket(old, true, SYN, 0);                  // SYN_RECV, 60 s
  t.equal(lookupFlow(table, TCP, 1, 1, VIP, 80, 60), -1);
  const fresh = insertFlow(table, TCP, 1, 1, VIP, 80, 0, 1, 11, 80, 60, true);
  t.equal(table.stats.size, 1);
  t.equal(table.stats.expired, 1);
  t.equal(table.rsId(lookupFlow(table, TCP, 1, 1, VIP, 80, 60)), 1);
  t.equal(lookupReplyFlow(table, TCP, 10, 80, 1, 1, 60), -1, 'old reply key gone');
  t.equal(lookupReplyFlow(table, TCP, 11, 80, 1, 1, 60), fresh);
  t.same([table.inactiveConns[0], table.inactiveConns[1]], [0, 1]);
});

t.test('bad capacity is refused', async (t) => {
  t.throws(() => new FlowTable({ capacity: 0 }), RangeError);
  t.throws(() => new FlowTable({ capacity: 2 ** 24 + 1 }), RangeError);
  t.throws(() => new FlowTable({ capacity: 1.5 }), RangeError);
});
