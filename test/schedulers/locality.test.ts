import fc from 'fast-check';
import t from 'tap';
import { createScheduler, LBLCR_MAX_SET_SIZE, realServerSetFrom } from '../../src/schedulers/index.js';
import type { LocalityLeastConnectionScheduler, LocalityReplicatedScheduler } from '../../src/schedulers/locality.js';
import { serverSets } from './arbitraries.js';
import { OracleLocality, OracleLocalityReplicated } from './oracle.js';

const ip = (n: number) => 0xc6120000 + n;
const EXPIRATION = 100;

// Steps: schedule a destination from a small pool, change a server's load or weight, or let time pass.
const step = fc.oneof(
  fc.record({ kind: fc.constant('schedule' as const), dst: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('load' as const), server: fc.nat(), active: fc.integer({ min: 0, max: 12 }), inactive: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('weight' as const), server: fc.nat(), weight: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('overload' as const), server: fc.nat(), on: fc.boolean() }),
  fc.record({ kind: fc.constant('time' as const), seconds: fc.integer({ min: 1, max: 80 }) }),
);

for (const name of ['lblc', 'lblcr'] as const) {
  t.test(`${name} equals the Map oracle over any sequence of schedules, load changes and time`, async () => {
    fc.assert(
      fc.property(serverSets({ minServers: 1, maxServers: 6, maxWeight: 6 }), fc.array(step, { maxLength: 80 }), (set, steps) => {
        let now = 1000;
        const sched = createScheduler(name, {}, set, { clock: () => now, localityExpiration: EXPIRATION });
        const oracle = name === 'lblc' ? new OracleLocality(EXPIRATION) : new OracleLocalityReplicated(EXPIRATION);
        for (const s of steps) {
          if (s.kind === 'schedule') {
            const dst = ip(200 + s.dst);
            if (sched.schedule(set, ip(1), 1000, dst, 80) !== oracle.pick(set, dst, now)) return false;
          } else if (s.kind === 'load') {
            set.activeConns[s.server % set.count] = s.active;
            set.inactiveConns[s.server % set.count] = s.inactive;
          } else if (s.kind === 'weight') {
            set.weight[s.server % set.count] = s.weight;
          } else if (s.kind === 'overload') {
            set.overloaded[s.server % set.count] = s.on ? 1 : 0;
          } else {
            now += s.seconds;
          }
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });
}

t.test('lblc keeps a destination on its server and moves it when that server is overloaded', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 4 },
    { ip: ip(2), port: 80, weight: 4 },
  ]);
  const now = 0;
  const lblc = createScheduler('lblc', {}, set, { clock: () => now });
  const first = lblc.schedule(set, ip(50), 1, ip(200), 80);
  t.equal(first, 0);
  set.activeConns[0] = 3; // busier but within its weight: stays
  t.equal(lblc.schedule(set, ip(51), 1, ip(200), 80), 0);
  set.activeConns[0] = 5; // above weight 4 while server 1 is under half of its weight: moves
  t.equal(lblc.schedule(set, ip(52), 1, ip(200), 80), 1);
  set.activeConns[0] = 0;
  t.equal(lblc.schedule(set, ip(53), 1, ip(200), 80), 1, 'and stays on the new server');
});

t.test('lblcr grows the set under load, uses its least loaded member, and sheds after the expiration', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 4 },
    { ip: ip(2), port: 80, weight: 4 },
    { ip: ip(3), port: 80, weight: 4 },
  ]);
  let now = 0;
  const lblcr = createScheduler('lblcr', {}, set, { clock: () => now, localityExpiration: 60 }) as LocalityReplicatedScheduler;
  const dst = ip(200);
  t.equal(lblcr.schedule(set, 0, 0, dst, 80), 0);
  set.activeConns[0] = 5; // overloaded (lblc rule): wlc picks 1, added to the set
  t.equal(lblcr.schedule(set, 0, 0, dst, 80), 1);
  t.same(lblcr.serversFor(dst), [1, 0], 'newest first');
  set.activeConns[1] = 1;
  t.equal(lblcr.schedule(set, 0, 0, dst, 80), 1, 'least loaded member');
  now = 50;
  t.equal(lblcr.schedule(set, 0, 0, dst, 80), 1, 'the entry stays alive while used');
  now = 61; // the set unchanged for longer than the expiration: its busiest member (0) leaves
  t.equal(lblcr.schedule(set, 0, 0, dst, 80), 1);
  t.same(lblcr.serversFor(dst), [1]);
});

t.test('the destination cache is bounded: a flood of destinations evicts, never grows', async (t) => {
  const set = realServerSetFrom([{ ip: ip(1), port: 80, weight: 1 }, { ip: ip(2), port: 80, weight: 1 }]);
  let now = 0;
  const lblc = createScheduler('lblc', {}, set, { clock: () => now, localityCacheSize: 1024 }) as LocalityLeastConnectionScheduler;
  let unscheduled = 0;
  for (let k = 0; k < 100000; k++) {
    now = k / 1000;
    if (lblc.schedule(set, 0, 0, (0xc6130000 + k) >>> 0, 80) < 0) unscheduled++;
  }
  t.equal(unscheduled, 0);
  t.ok(lblc.evictions > 90000, `${lblc.evictions} evictions`);
  // recent destinations are still cached: moving load does not move them
  const recent = (0xc6130000 + 99999) >>> 0;
  const where = lblc.schedule(set, 0, 0, recent, 80);
  set.activeConns[where === 0 ? 1 : 0] = 0;
  set.inactiveConns[where] = 50;
  t.equal(lblc.schedule(set, 0, 0, recent, 80), where);
});

t.test('lblcr sets are capped; rebuild keeps entries across a membership change', async (t) => {
  const specs = Array.from({ length: LBLCR_MAX_SET_SIZE + 4 }, (_, i) => ({ ip: ip(10 + i), port: 80, weight: 2 }));
  const set = realServerSetFrom(specs);
  const now = 0;
  const lblcr = createScheduler('lblcr', {}, set, { clock: () => now }) as LocalityReplicatedScheduler;
  const dst = ip(300);
  for (let k = 0; k < specs.length; k++) {
    lblcr.schedule(set, 0, 0, dst, 80);
    // make every member overloaded (active > weight) while some server is idle: the set grows
    for (const m of lblcr.serversFor(dst)) set.activeConns[m] = 3;
  }
  t.equal(lblcr.serversFor(dst).length, LBLCR_MAX_SET_SIZE);
  // remove server 10's slot from the set list by moving everything down one index
  const members = lblcr.serversFor(dst).map((i) => `${set.ip[i]}`);
  const shifted = realServerSetFrom(specs.slice(1));
  lblcr.rebuild(shifted);
  const after = lblcr.serversFor(dst).map((i) => `${shifted.ip[i]}`);
  t.same(after, members.filter((m) => m !== `${ip(10)}`), 'same servers, new indices');
});
