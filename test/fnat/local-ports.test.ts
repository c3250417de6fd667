// LocalPorts (Full NAT's port pools) against a plain oracle: a Set of (address, port) pairs in
// use and a Map flow -> pair. Random allocate/release sequences over small pools so exhaustion
// happens often; the flow table's release hook is exercised through a real FlowTable too.
import t from 'tap';
import fc from 'fast-check';
import { LocalPorts } from '../../src/conntrack/local-ports.js';
import { FlowTable } from '../../src/conntrack/flow-table.js';

const ADDRS = [0xc6120164, 0xc6120165, 0xc6120166];
const specs = (min: number, max: number) => ADDRS.map((ip) => ({ ip, portMin: min, portMax: max }));

t.test('property: allocate/release against a Set oracle', async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('alloc' as const), group: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 400 }), (poolSize, ops) => {
    const groups = [[0, 1], [2]];
    const ports = new LocalPorts({ addresses: specs(2000, 2000 + poolSize - 1), groups, slotCount: 64 });
    const used = new Set<string>();
    const byFlow = new Map<number, string>();
    const freeFlows = Array.from({ length: 64 }, (_, i) => 63 - i);
    let exhausted = 0;
    for (const o of ops) {
      if (o.kind === 'alloc') {
        if (freeFlows.length === 0) continue;
        const flow = freeFlows.pop()!;
        const capacity = groups[o.group].length * poolSize;
        const inGroup = [...used].filter((k) => groups[o.group].includes(Number(k.split(':')[0]))).length;
        if (ports.hasFree(o.group) !== (inGroup < capacity)) return false;
        const a = ports.allocate(flow, o.group);
        if (inGroup === capacity) {
          exhausted++;
          if (a !== -1) return false;           // must refuse when the group is full
          freeFlows.push(flow);
          continue;
        }
        if (a < 0 || !groups[o.group].includes(a)) return false;
        const port = ports.portOf(flow);
        if (port < 2000 || port >= 2000 + poolSize) return false;
        const key = `${a}:${port}`;
        if (used.has(key)) return false;             // never handed out twice
        used.add(key);
        byFlow.set(flow, key);
        if (ports.flowAt(a, port) !== flow || ports.addressOf(flow) !== a || ports.ipOf(flow) !== ADDRS[a]) return false;
      } else {
        const live = [...byFlow.keys()];
        if (live.length === 0) continue;
        const flow = live[o.pick % live.length];
        const [a, port] = byFlow.get(flow)!.split(':').map(Number);
        ports.release(flow);
        ports.release(flow);                          // twice is harmless
        used.delete(`${a}:${port}`);
        byFlow.delete(flow);
        freeFlows.push(flow);
        if (ports.flowAt(a, port) !== -1) return false;
      }
      if (ports.totalInUse() !== used.size) return false;
    }
    return ports.exhausted === exhausted;
  }), { numRuns: 300 });
});

t.test('spread across the group round robin; a freed port is reused last (FIFO)', async (t) => {
  const ports = new LocalPorts({ addresses: specs(1024, 1027), groups: [[0, 1, 2]], slotCount: 16 });
  const got = [0, 1, 2, 3, 4, 5].map((f) => ports.allocate(f, 0));
  t.same(got, [0, 1, 2, 0, 1, 2], 'addresses in turn');
  t.same([0, 3].map((f) => ports.portOf(f)), [1024, 1025], 'ports in order on one address');
  ports.release(0);
  t.equal(ports.allocate(6, 0), 0);
  t.equal(ports.portOf(6), 1026, 'the port freed (1024) waits behind 1026 and 1027');
  t.equal(ports.inUse(0), 2);
});

t.test('the flow table gives a Full NAT flow\'s port back on expiry, eviction and replacement', async (t) => {
  const flows = new FlowTable({ capacity: 4, seed: 1 });
  const ports = new LocalPorts({ addresses: specs(3000, 3009), groups: [[0]], slotCount: flows.slotCount });
  flows.localPorts = ports;
  const open = (clientPort: number, now: number): number => {
    const tu = flows.tuple;
    tu[0] = 6; tu[1] = 0x0a000001; tu[2] = clientPort; tu[3] = 0xc6120064; tu[4] = 80; tu[5] = 0x0a000102; tu[6] = 80;
    const flow = flows.insertTuple(0, 1, now, false);
    flows.markFullNat(flow);
    t.not(ports.allocate(flow, 0), -1);
    flows.onTcpPacket(flow, true, 0x02, now);
    return flow;
  };
  for (let i = 0; i < 4; i++) open(40000 + i, 10);
  t.equal(ports.totalInUse(), 4);
  open(40010, 10);                     // table full: the oldest embryonic flow is evicted
  t.equal(ports.totalInUse(), 4, 'eviction returned a port');
  open(40010, 11);                     // same forward key: replaced
  t.equal(ports.totalInUse(), 4, 'replacement returned a port');
  flows.expireSome(10_000, flows.slotCount);
  t.equal(ports.totalInUse(), 0, 'the sweep returned every port');
  t.equal(flows.stats.size, 0);
});

t.test('bad ranges are refused', async (t) => {
  t.throws(() => new LocalPorts({ addresses: specs(0, 10), groups: [[0]], slotCount: 1 }));
  t.throws(() => new LocalPorts({ addresses: specs(10, 9), groups: [[0]], slotCount: 1 }));
  t.throws(() => new LocalPorts({ addresses: specs(1024, 65535), groups: [[5]], slotCount: 1 }));
});
