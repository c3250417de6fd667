// lc, wlc, sed, nq (ip_vs_lc.c, ip_vs_wlc.c, ip_vs_sed.c, ip_vs_nq.c). Loads are compared as
// h1 * w2 > h2 * w1 like IPVS (no division); doubles are exact while h * w < 2^53, i.e. for any
// realistic count (2^28 connections times weight 65535). The typed arrays are read into locals
// first: V8 then keeps them in registers across the loop.

import type { RealServerSet, Scheduler } from './types.js';

/** IPVS lc: fewest (256 * active + inactive); weight only matters as 0 = skip. First wins ties. */
export class LeastConnectionScheduler implements Scheduler {
  readonly name = 'lc' as const;
  schedule(set: RealServerSet): number {
    const { weight, available, overloaded, activeConns, inactiveConns } = set;
    let least = -1;
    let leastOverhead = 0;
    for (let i = 0; i < set.count; i++) {
      if (weight[i] === 0 || available[i] === 0 || overloaded[i] !== 0) continue;
      const overhead = activeConns[i] * 256 + inactiveConns[i];
      if (least < 0 || overhead < leastOverhead) {
        least = i;
        leastOverhead = overhead;
      }
    }
    return least;
  }
  rebuild(): void {}
}

/** The wlc choice (ip_vs_dest_conn_overhead / weight), also used by lblc/lblcr on a cache miss. */
export function pickWeightedLeastConnection(set: RealServerSet): number {
  const { weight, available, overloaded, activeConns, inactiveConns } = set;
  const n = set.count;
  let least = 0;
  for (; least < n; least++) if (weight[least] > 0 && available[least] !== 0 && overloaded[least] === 0) break;
  if (least === n) return -1;
  let leastOverhead = activeConns[least] * 256 + inactiveConns[least];
  let leastWeight = weight[least];
  for (let i = least + 1; i < n; i++) {
    if (available[i] === 0 || overloaded[i] !== 0) continue;
    const overhead = activeConns[i] * 256 + inactiveConns[i];
    if (leastOverhead * weight[i] > overhead * leastWeight) {
      least = i;
      leastOverhead = overhead;
      leastWeight = weight[i];
    }
  }
  return least;
}

export class WeightedLeastConnectionScheduler implements Scheduler {
  readonly name = 'wlc' as const;
  schedule(set: RealServerSet): number {
    return pickWeightedLeastConnection(set);
  }
  rebuild(): void {}
}

/** IPVS sed: lowest (active + 1) / weight; inactive connections do not count. */
export class ShortestExpectedDelayScheduler implements Scheduler {
  readonly name = 'sed' as const;
  schedule(set: RealServerSet): number {
    const { weight, available, overloaded, activeConns } = set;
    const n = set.count;
    let least = 0;
    for (; least < n; least++) if (weight[least] > 0 && available[least] !== 0 && overloaded[least] === 0) break;
    if (least === n) return -1;
    let leastOverhead = activeConns[least] + 1;
    let leastWeight = weight[least];
    for (let i = least + 1; i < n; i++) {
      if (available[i] === 0 || overloaded[i] !== 0) continue;
      const overhead = activeConns[i] + 1;
      if (leastOverhead * weight[i] > overhead * leastWeight) {
        least = i;
        leastOverhead = overhead;
        leastWeight = weight[i];
      }
    }
    return least;
  }
  rebuild(): void {}
}

/** IPVS nq: the first idle server (no active connections), else as sed. */
export class NeverQueueScheduler implements Scheduler {
  readonly name = 'nq' as const;
  schedule(set: RealServerSet): number {
    const { weight, available, overloaded, activeConns } = set;
    let least = -1;
    let leastOverhead = 0;
    let leastWeight = 0;
    for (let i = 0; i < set.count; i++) {
      if (weight[i] === 0 || available[i] === 0 || overloaded[i] !== 0) continue;
      if (activeConns[i] === 0) return i;
      const overhead = activeConns[i] + 1;
      if (least < 0 || leastOverhead * weight[i] > overhead * leastWeight) {
        least = i;
        leastOverhead = overhead;
        leastWeight = weight[i];
      }
    }
    return least;
  }
  rebuild(): void {}
}
