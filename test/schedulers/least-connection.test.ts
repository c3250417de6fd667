import fc from 'fast-check';
import t from 'tap';
import { createScheduler, realServerSetFrom, type RealServerSet, type SchedulerName } from '../../src/schedulers/index.js';
import { seededRandom, serverSets } from './arbitraries.js';
import {
  oracleFailover, oracleLeastConnection, oracleNeverQueue, oracleOverflow, oracleShortestExpectedDelay,
  oracleTwoChoices, oracleWeightedLeastConnection,
} from './oracle.js';

const ip = (n: number) => 0xc6120000 + n;

const stateless: Array<[SchedulerName, (set: RealServerSet) => number]> = [
  ['lc', oracleLeastConnection],
  ['wlc', oracleWeightedLeastConnection],
  ['sed', oracleShortestExpectedDelay],
  ['nq', oracleNeverQueue],
  ['fo', oracleFailover],
  ['ovf', oracleOverflow],
];

for (const [name, oracle] of stateless) {
  t.test(`${name} equals the oracle on any set (weights, connections, flags)`, async () => {
    fc.assert(
      fc.property(serverSets({ maxServers: 10, maxWeight: 20, flags: true }), (set) => {
        return createScheduler(name, {}, set).schedule(set, 0, 0, 0, 0) === oracle(set);
      }),
      { numRuns: 1000 },
    );
  });
}

t.test('twos equals the oracle given the same random draws', async () => {
  fc.assert(
    fc.property(serverSets({ maxServers: 10, maxWeight: 20, flags: true }), fc.integer(), (set, seed) => {
      const twos = createScheduler('twos', {}, set, { random: seededRandom(seed) });
      const oracleRandom = seededRandom(seed);
      for (let k = 0; k < 20; k++) if (twos.schedule(set, 0, 0, 0, 0) !== oracleTwoChoices(set, oracleRandom)) return false;
      return true;
    }),
    { numRuns: 500 },
  );
});

t.test('lc/wlc/sed/nq fixtures: the overhead rules of IPVS', async (t) => {
  // A: 1 active, B: 0 active + 200 inactive, C: weight 3, 2 active
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 1, activeConns: 1 },
    { ip: ip(2), port: 80, weight: 1, inactiveConns: 200 },
    { ip: ip(3), port: 80, weight: 3, activeConns: 2 },
  ]);
  // lc: 256, 200, 512 -> B
  t.equal(createScheduler('lc', {}, set).schedule(set, 0, 0, 0, 0), 1);
  // wlc: 256/1, 200/1, 512/3=170.7 -> C
  t.equal(createScheduler('wlc', {}, set).schedule(set, 0, 0, 0, 0), 2);
  // sed: (1+1)/1, (0+1)/1, (2+1)/3 = 1 -> B first (tie with C, first wins)
  t.equal(createScheduler('sed', {}, set).schedule(set, 0, 0, 0, 0), 1);
  // nq: B is idle (no active connections) -> B
  t.equal(createScheduler('nq', {}, set).schedule(set, 0, 0, 0, 0), 1);
  set.weight[1] = 0; // quiesce B
  t.equal(createScheduler('lc', {}, set).schedule(set, 0, 0, 0, 0), 0);
  t.equal(createScheduler('nq', {}, set).schedule(set, 0, 0, 0, 0), 2); // sed: 2/1 vs 3/3
});

t.test('fo sends everything to the highest weight; ovf overflows past active > weight', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 5 },
    { ip: ip(2), port: 80, weight: 10, activeConns: 10 },
    { ip: ip(3), port: 80, weight: 10 },
  ]);
  t.equal(createScheduler('fo', {}, set).schedule(set, 0, 0, 0, 0), 1);
  t.equal(createScheduler('ovf', {}, set).schedule(set, 0, 0, 0, 0), 1); // 10 active is not above 10
  set.activeConns[1] = 11;
  t.equal(createScheduler('ovf', {}, set).schedule(set, 0, 0, 0, 0), 2);
  set.activeConns[2] = 11;
  t.equal(createScheduler('ovf', {}, set).schedule(set, 0, 0, 0, 0), 0);
  set.activeConns[0] = 6;
  t.equal(createScheduler('ovf', {}, set).schedule(set, 0, 0, 0, 0), -1);
  t.equal(createScheduler('fo', {}, set).schedule(set, 0, 0, 0, 0), 1); // fo ignores load
});

t.test('twos shares follow weight when servers are equally loaded', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 1 },
    { ip: ip(2), port: 80, weight: 2 },
    { ip: ip(3), port: 80, weight: 5 },
  ]);
  const twos = createScheduler('twos', {}, set, { random: seededRandom(42) });
  const n = 80000;
  const counts = [0, 0, 0];
  for (let k = 0; k < n; k++) counts[twos.schedule(set, 0, 0, 0, 0)]++;
  // equal load: the first draw wins; P(server) = (w + [first]) / (W + 1) = 2/9, 2/9, 5/9
  const expected = [2 / 9, 2 / 9, 5 / 9];
  counts.forEach((c, i) => t.ok(Math.abs(c / n - expected[i]) < 0.01, `server ${i}: ${c / n} ~ ${expected[i]}`));
});

t.test('twos prefers the less loaded of its two picks', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 1, activeConns: 100 },
    { ip: ip(2), port: 80, weight: 1 },
  ]);
  // draws 0.0 -> r = 0 -> server 0; 0.99 -> r = 2 -> server 1
  const draws = [0, 0.99];
  let k = 0;
  const twos = createScheduler('twos', {}, set, { random: () => draws[k++ % 2] });
  t.equal(twos.schedule(set, 0, 0, 0, 0), 1);
});
