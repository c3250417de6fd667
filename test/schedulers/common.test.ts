// Properties every scheduler must keep, whatever its algorithm: a valid index or -1, weight 0
// (quiesced) and available 0 never chosen for a new connection, overloaded servers never chosen
// (except lblc's cache hit, which IPVS does not check against the threshold flag), all-zero
// weights -> -1, the same answers from two instances fed the same inputs, and no holes.

import fc from 'fast-check';
import t from 'tap';
import { createScheduler, SCHEDULER_NAMES, type RealServerSet, type SchedulerFlags, type SchedulerName } from '../../src/schedulers/index.js';
import { clients, cloneSet, seededRandom, serverSets } from './arbitraries.js';

const variants: Array<[SchedulerName, SchedulerFlags]> = [
  ...SCHEDULER_NAMES.map((n) => [n, {}] as [SchedulerName, SchedulerFlags]),
  ['sh', { shPort: true, shFallback: true }],
  ['mh', { mhPort: true, mhFallback: true }],
];

function make(name: SchedulerName, flags: SchedulerFlags, set: RealServerSet, seed: number) {
  let now = 0;
  const scheduler = createScheduler(name, flags, set, { random: seededRandom(seed), clock: () => (now += 1), maglevTableSize: 4093 });
  return scheduler;
}

const usable = (set: RealServerSet, i: number) => set.weight[i] > 0 && set.available[i] === 1 && set.overloaded[i] === 0;

function alwaysAnswers(name: SchedulerName, flags: SchedulerFlags): boolean {
  if (name === 'dh' || name === 'ovf') return false;
  if (name === 'sh') return flags.shFallback === true;
  if (name === 'mh') return flags.mhFallback === true;
  return true;
}

for (const [name, flags] of variants) {
  const label = `${name}${Object.keys(flags).length ? ' ' + Object.keys(flags).join(',') : ''}`;
  t.test(`${label}: valid index, quiescence, availability, overload, determinism, no holes`, async () => {
    fc.assert(
      fc.property(
        serverSets({ maxServers: 8, maxWeight: 6, flags: true }),
        fc.array(fc.record({ client: clients, busy: fc.nat() }), { minLength: 1, maxLength: 30 }),
        fc.integer(),
        (set, steps, seed) => {
          const twin = cloneSet(set);
          const a = make(name, flags, set, seed);
          const b = make(name, flags, twin, seed);
          for (const { client: c, busy } of steps) {
            const i = a.schedule(set, c.srcIp, c.srcPort, c.dstIp, c.dstPort);
            const j = b.schedule(twin, c.srcIp, c.srcPort, c.dstIp, c.dstPort);
            if (i !== j) return false; // determinism
            if (!Number.isInteger(i) || i < -1 || i >= set.count) return false;
            if (i >= 0) {
              if (set.weight[i] === 0 || set.available[i] === 0) return false;
              if (set.overloaded[i] === 1 && name !== 'lblc') return false;
            } else if (alwaysAnswers(name, flags)) {
              const any = Array.from({ length: set.count }, (_, k) => k).some((k) => usable(set, k));
              if (any) return false;
            }
            // load moves between picks, the same on both twins
            const k = busy % set.count;
            set.activeConns[k] += 1;
            twin.activeConns[k] += 1;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  t.test(`${label}: all weights zero -> -1`, async () => {
    fc.assert(
      fc.property(serverSets({ maxServers: 6, flags: true }), clients, (set, c) => {
        set.weight.fill(0);
        return make(name, flags, set, 1).schedule(set, c.srcIp, c.srcPort, c.dstIp, c.dstPort) === -1;
      }),
      { numRuns: 100 },
    );
  });
}
