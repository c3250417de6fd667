import fc from 'fast-check';
import t from 'tap';
import { createScheduler, realServerSetFrom } from '../../src/schedulers/index.js';
import { serverSets } from './arbitraries.js';
import { OracleRoundRobin, OracleWeightedRoundRobin } from './oracle.js';

const ip = (n: number) => 0xc6120000 + n;

t.test('wrr 1:3:3 over 70 new connections gives exactly 10/30/30, in IPVS order', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(10), port: 80, weight: 1 },
    { ip: ip(20), port: 80, weight: 3 },
    { ip: ip(30), port: 80, weight: 3 },
  ]);
  const wrr = createScheduler('wrr', {}, set);
  const picks = Array.from({ length: 70 }, () => wrr.schedule(set, ip(1), 40000, ip(100), 80));
  const counts = [0, 1, 2].map((i) => picks.filter((p) => p === i).length);
  t.same(counts, [10, 30, 30]);
  // cw = 3: B C; cw = 2: B C; cw = 1: A B C
  t.same(picks.slice(0, 7), [1, 2, 1, 2, 0, 1, 2]);
});

t.test('wrr with a gcd: 2:4:6 steps by 2 and keeps the 1:2:3 cycle', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 2 },
    { ip: ip(2), port: 80, weight: 4 },
    { ip: ip(3), port: 80, weight: 6 },
  ]);
  const wrr = createScheduler('wrr', {}, set);
  t.same(Array.from({ length: 12 }, () => wrr.schedule(set, 0, 0, 0, 0)), [2, 1, 2, 0, 1, 2, 2, 1, 2, 0, 1, 2]);
});

t.test('wrr: weight 0 and available 0 are never picked; all zero -> -1', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 0 },
    { ip: ip(2), port: 80, weight: 5, available: false },
    { ip: ip(3), port: 80, weight: 2 },
  ]);
  const wrr = createScheduler('wrr', {}, set);
  for (let k = 0; k < 20; k++) t.equal(wrr.schedule(set, 0, 0, 0, 0), 2);
  set.weight[2] = 0;
  wrr.rebuild(set);
  t.equal(wrr.schedule(set, 0, 0, 0, 0), -1);
});

t.test('wrr: rebuild after a weight change restarts from the first server (ip_vs_wrr_dest_changed)', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 1 },
    { ip: ip(2), port: 80, weight: 1 },
    { ip: ip(3), port: 80, weight: 1 },
  ]);
  const wrr = createScheduler('wrr', {}, set);
  t.equal(wrr.schedule(set, 0, 0, 0, 0), 0);
  t.equal(wrr.schedule(set, 0, 0, 0, 0), 1);
  set.weight[0] = 2;
  wrr.rebuild(set); // cw stays 1 (not above the new mw 2), cursor back to the head
  t.same(Array.from({ length: 4 }, () => wrr.schedule(set, 0, 0, 0, 0)), [0, 1, 2, 0]);
});

t.test('wrr: all overloaded -> -1, and scheduling resumes when the flag clears', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 1, overloaded: true },
    { ip: ip(2), port: 80, weight: 3, overloaded: true },
  ]);
  const wrr = createScheduler('wrr', {}, set);
  t.equal(wrr.schedule(set, 0, 0, 0, 0), -1);
  t.equal(wrr.schedule(set, 0, 0, 0, 0), -1);
  set.overloaded[0] = 0;
  t.equal(wrr.schedule(set, 0, 0, 0, 0), 0);
  t.equal(wrr.schedule(set, 0, 0, 0, 0), 0);
});

t.test('wrr equals the precomputed-cycle oracle for any fixed set', async () => {
  fc.assert(
    fc.property(serverSets({ maxServers: 8, maxWeight: 12, flags: true }), fc.integer({ min: 1, max: 200 }), (set, n) => {
      const wrr = createScheduler('wrr', {}, set);
      const oracle = new OracleWeightedRoundRobin(set);
      for (let k = 0; k < n; k++) if (wrr.schedule(set, 0, 0, 0, 0) !== oracle.pick()) return false;
      return true;
    }),
    { numRuns: 500 },
  );
});

t.test('wrr shares over whole cycles are exactly proportional to weight', async () => {
  fc.assert(
    fc.property(serverSets({ minServers: 1, maxServers: 6, maxWeight: 9 }), (set) => {
      const oracle = new OracleWeightedRoundRobin(set);
      const cycle = oracle.cycleLength;
      const total = Array.from(set.weight).reduce((a, b) => a + b, 0);
      if (total === 0) return createScheduler('wrr', {}, set).schedule(set, 0, 0, 0, 0) === -1;
      const g = Array.from(set.weight).filter((w) => w > 0).reduce((a, b) => { while (b) [a, b] = [b, a % b]; return a; });
      const wrr = createScheduler('wrr', {}, set);
      const counts = new Array(set.count).fill(0);
      for (let k = 0; k < cycle * 3; k++) counts[wrr.schedule(set, 0, 0, 0, 0)]++;
      return counts.every((c, i) => c === (3 * set.weight[i]) / g) && cycle === total / g;
    }),
    { numRuns: 300 },
  );
});

t.test('rr equals the oracle while weights, flags and availability change between picks', async () => {
  fc.assert(
    fc.property(
      serverSets({ maxServers: 8, flags: true }),
      fc.array(fc.record({ server: fc.nat(), weight: fc.integer({ min: 0, max: 3 }), available: fc.boolean(), overloaded: fc.boolean() }), { maxLength: 60 }),
      (set, changes) => {
        const rr = createScheduler('rr', {}, set);
        const oracle = new OracleRoundRobin();
        for (const c of changes) {
          if (rr.schedule(set, 0, 0, 0, 0) !== oracle.pick(set)) return false;
          const i = c.server % set.count;
          set.weight[i] = c.weight;
          set.available[i] = c.available ? 1 : 0;
          set.overloaded[i] = c.overloaded ? 1 : 0;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
});

t.test('rr: equal turns for equal servers, quiesced skipped', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 1 },
    { ip: ip(2), port: 80, weight: 0 },
    { ip: ip(3), port: 80, weight: 7 },
  ]);
  const rr = createScheduler('rr', {}, set);
  t.same(Array.from({ length: 6 }, () => rr.schedule(set, 0, 0, 0, 0)), [0, 2, 0, 2, 0, 2]);
});
