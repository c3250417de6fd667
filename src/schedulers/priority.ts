// fo and ovf (ip_vs_fo.c, ip_vs_ovf.c): the highest weight wins; first in order on ties.

import type { RealServerSet, Scheduler } from './types.js';

export class WeightedFailoverScheduler implements Scheduler {
  readonly name = 'fo' as const;
  schedule(set: RealServerSet): number {
    const { weight, available, overloaded } = set;
    let best = -1;
    let bestWeight = 0;
    for (let i = 0; i < set.count; i++) {
      if (weight[i] > bestWeight && available[i] !== 0 && overloaded[i] === 0) {
        best = i;
        bestWeight = weight[i];
      }
    }
    return best;
  }
  rebuild(): void {}
}

/** ovf: a server takes new connections while its active connections do not exceed its weight. */
export class OverflowScheduler implements Scheduler {
  readonly name = 'ovf' as const;
  schedule(set: RealServerSet): number {
    const { weight, available, overloaded, activeConns } = set;
    let best = -1;
    let bestWeight = 0;
    for (let i = 0; i < set.count; i++) {
      const w = weight[i];
      if (w === 0 || available[i] === 0 || overloaded[i] !== 0 || activeConns[i] > w) continue;
      if (best < 0 || w > bestWeight) {
        best = i;
        bestWeight = w;
      }
    }
    return best;
  }
  rebuild(): void {}
}
