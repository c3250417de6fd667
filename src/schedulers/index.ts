// IPVS's schedulers over a RealServerSet (docs/ARCHITECTURE.md, "src/schedulers/").

import { LocalityLeastConnectionScheduler, LocalityReplicatedScheduler } from './locality.js';
import { LeastConnectionScheduler, NeverQueueScheduler, ShortestExpectedDelayScheduler, WeightedLeastConnectionScheduler } from './least-connection.js';
import { MAGLEV_DEFAULT_TABLE_SIZE, MaglevScheduler } from './maglev.js';
import { OverflowScheduler, WeightedFailoverScheduler } from './priority.js';
import { RoundRobinScheduler, WeightedRoundRobinScheduler } from './round-robin.js';
import { DestinationHashScheduler, SourceHashScheduler } from './static-hash.js';
import { TwoChoicesScheduler } from './two-choices.js';
import type { RealServerSet, Scheduler, SchedulerFlags, SchedulerName, SchedulerOptions } from './types.js';

export * from './types.js';
export { describeScheduler, isSchedulerName } from './describe.js';
export { parseSchedulerFlags, formatSchedulerFlags, SCHEDULER_FLAG_NAMES, type ParsedSchedulerFlags } from './flags.js';
export { markOverloadOnBind, clearOverloadOnUnbind, applyThresholds, checkThresholds } from './overload.js';
export { MAGLEV_DEFAULT_TABLE_SIZE, MaglevScheduler, buildMaglevTable, isPrime } from './maglev.js';
export { buildDestinationHashTable, buildSourceHashTable, HASH_TABLE_SIZE } from './static-hash.js';
export { LOCALITY_DEFAULT_CACHE_SIZE, LOCALITY_DEFAULT_EXPIRATION, LBLCR_MAX_SET_SIZE } from './locality.js';

export function createScheduler(name: SchedulerName, flags: SchedulerFlags, set: RealServerSet, options: SchedulerOptions = {}): Scheduler {
  const locality = { clock: options.clock, cacheSize: options.localityCacheSize, expiration: options.localityExpiration };
  switch (name) {
    case 'rr': return new RoundRobinScheduler();
    case 'wrr': return new WeightedRoundRobinScheduler(set);
    case 'lc': return new LeastConnectionScheduler();
    case 'wlc': return new WeightedLeastConnectionScheduler();
    case 'sed': return new ShortestExpectedDelayScheduler();
    case 'nq': return new NeverQueueScheduler();
    case 'lblc': return new LocalityLeastConnectionScheduler(set, locality);
    case 'lblcr': return new LocalityReplicatedScheduler(set, locality);
    case 'dh': return new DestinationHashScheduler(set, options.publishedTable);
    case 'sh': return new SourceHashScheduler(set, flags, options.publishedTable);
    case 'mh': return new MaglevScheduler(set, flags, options.maglevTableSize ?? MAGLEV_DEFAULT_TABLE_SIZE, options.publishedTable ?? options.maglevTable);
    case 'fo': return new WeightedFailoverScheduler();
    case 'ovf': return new OverflowScheduler();
    case 'twos': return new TwoChoicesScheduler(options.random);
    default: {
      const unknown: never = name;
      throw new RangeError(`unknown scheduler ${String(unknown)}`);
    }
  }
}
