// The control plane's sums over the workers' rows, the zero baselines and the ids it follows.
import t from 'tap';
import { STAT_FIELDS, S_CONNS, S_IN_BYTES, S_IN_PKTS, S_OUT_PKTS, allocateIpvsCounters } from '../../src/dataplane/counters.js';
import { IpvsCounters } from '../../src/metrics/ipvs-counters.js';
import { idsToZero } from '../../src/control/commands.js';
import type { Snapshot } from '../../src/dataplane/snapshot.js';
import { ipToNumber } from '../../src/packet/addr.js';

function workers(n: number) {
  const rows = Array.from({ length: n }, () => allocateIpvsCounters());
  const add = (w: number, id: number, field: number, by: number): void => { rows[w][id * STAT_FIELDS + field] += by; };
  return { rows, add, counters: new IpvsCounters(() => rows) };
}

t.test('sums one id over every worker', async (t) => {
  const { add, counters } = workers(3);
  counters.follow(new Set([7, 8]));
  add(0, 7, S_CONNS, 2); add(1, 7, S_CONNS, 3); add(2, 7, S_IN_PKTS, 40); add(1, 7, S_IN_BYTES, 1e12);
  add(0, 8, S_OUT_PKTS, 1);
  t.same(counters.stats(7), { conns: 5, inPkts: 40, outPkts: 0, inBytes: 1e12, outBytes: 0 });
  t.same(counters.stats(8), { conns: 0, inPkts: 0, outPkts: 1, inBytes: 0, outBytes: 0 });
});

t.test('zero keeps a baseline (the workers stay the only writers) and restarts the rates', async (t) => {
  const { rows, add, counters } = workers(2);
  counters.follow(new Set([1, 2]));
  add(0, 1, S_CONNS, 10); add(1, 2, S_CONNS, 4);
  counters.sample();
  t.equal(counters.rates(1).cps, 1, '(10 << 9) >> 2 = 1280 reads 1');
  counters.zero([1]);
  t.equal(rows[0][1 * STAT_FIELDS + S_CONNS], 10, 'the shared row is untouched');
  t.equal(counters.stats(1).conns, 0);
  t.equal(counters.stats(2).conns, 4, 'the other id keeps its count');
  t.same(counters.rates(1), { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
  add(1, 1, S_CONNS, 3);
  t.equal(counters.stats(1).conns, 3);
});

t.test('an id that leaves the table is forgotten: back in it, it starts from zero', async (t) => {
  const { add, counters } = workers(1);
  counters.follow(new Set([5]));
  add(0, 5, S_CONNS, 9);
  counters.follow(new Set());
  counters.follow(new Set([5]));
  t.equal(counters.stats(5).conns, 0);
  add(0, 5, S_CONNS, 1);
  t.equal(counters.stats(5).conns, 1);
});

t.test('idsToZero: one service and its servers, all of them, or "No such service"', async (t) => {
  const rs = (rsId: number) => ({ rsId, ip: rsId, port: 80, weight: 1, available: true, mac: null, uthreshold: 0, lthreshold: 0 });
  const svc = (id: number, vip: string, protocol: 6 | 17, rsIds: number[]) => ({
    id, addresses: [{ vip: ipToNumber(vip), vport: 80 }], protocol, forward: 0 as const, scheduler: 'rr' as const,
    schedulerFlags: {}, persistenceTimeout: 0, persistenceMask: 0, onePacket: false, realServers: rsIds.map(rs),
  });
  const snap: Snapshot = { version: 1, tunnelSource: 0, mtu: 1500, services: [svc(1, '198.18.0.100', 6, [2, 3]), svc(4, '198.18.0.100', 17, [5])] };
  t.same(idsToZero(snap), [1, 2, 3, 4, 5]);
  t.same(idsToZero(snap, { protocol: 'udp', vip: '198.18.0.100', port: 80 }), [4, 5]);
  t.throws(() => idsToZero(snap, { protocol: 'TCP', vip: '198.18.0.101', port: 80 }), /No such service/);
  t.throws(() => idsToZero(snap, { protocol: 'TCP', vip: 'x', port: 80 }), /zero: service must be/);
});
