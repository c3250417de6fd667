// One sentence per scheduler, for the README and `ulvs help`.

import { SCHEDULER_NAMES, type SchedulerName } from './types.js';

const DESCRIPTIONS: Record<SchedulerName, string> = {
  rr: 'Round robin: each new connection goes to the next real server in turn, skipping quiesced (weight 0) and overloaded ones.',
  wrr: 'Weighted round robin: servers take turns in proportion to their weights, interleaved as IPVS does (weights 1:3:3 give exactly 1/7, 3/7, 3/7).',
  lc: 'Least connection: the server with the fewest connections, an active connection counting as 256 inactive ones.',
  wlc: 'Weighted least connection (the default): the server with the lowest (256 x active + inactive connections) / weight.',
  sed: 'Shortest expected delay: the server with the lowest (active connections + 1) / weight.',
  nq: 'Never queue: an idle server (no active connections) when there is one, otherwise as sed.',
  lblc: 'Locality-based least connection: each destination IP keeps going to one server (for cache clusters), reassigned by wlc when that server is busier than its weight while another is under half of its own.',
  lblcr: 'Locality-based least connection with replication: each destination IP maps to a set of servers, the least loaded of which is used; the set grows by wlc under load and sheds its busiest server when unchanged for the expiration time.',
  dh: 'Destination hashing: a static 256-bucket table indexed by a hash of the destination IP picks the server.',
  sh: 'Source hashing: a static 256-bucket table, weighted, indexed by a hash of the client IP (and port with sh-port) keeps a client on one server; sh-fallback tries other buckets when that server is unavailable.',
  mh: 'Maglev hashing: a consistent-hash table of prime size (65537), the same on every director, indexed by the client IP (and port with mh-port); when one of N servers leaves only about 1/N of clients move; mh-fallback picks another server when the chosen one is unavailable.',
  fo: 'Weighted failover: every new connection goes to the available server with the highest weight.',
  ovf: 'Overflow: the highest-weight server takes new connections until its active connections exceed its weight, then the next highest.',
  twos: 'Power of two choices: two servers drawn at random in proportion to weight, and the less loaded per unit of weight wins.',
};

export function describeScheduler(name: SchedulerName): string {
  return DESCRIPTIONS[name];
}

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}
