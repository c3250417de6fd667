// twos (ip_vs_twos.c): two weighted random picks, the one with less overhead per weight wins.

import type { RealServerSet, Scheduler } from './types.js';

export class TwoChoicesScheduler implements Scheduler {
  readonly name = 'twos' as const;
  constructor(private readonly random: () => number = Math.random) {}

  schedule(set: RealServerSet): number {
    const { weight, available, overloaded, activeConns, inactiveConns } = set;
    const n = set.count;
    let total = 0;
    for (let i = 0; i < n; i++) if (weight[i] > 0 && available[i] !== 0 && overloaded[i] === 0) total += weight[i];
    if (total === 0) return -1;
    // IPVS draws in [0, total] inclusive, and "r <= 0" picks: the first server gets r = 0 too
    total += 1;
    let r1 = Math.floor(this.random() * total);
    let r2 = Math.floor(this.random() * total);
    let choice1 = -1;
    let choice2 = -1;
    for (let i = 0; i < n; i++) {
      const w = weight[i];
      if (w <= 0 || available[i] === 0 || overloaded[i] !== 0) continue;
      r1 -= w;
      r2 -= w;
      if (r1 <= 0 && choice1 < 0) choice1 = i;
      if (r2 <= 0 && choice2 < 0) choice2 = i;
      if (choice1 >= 0 && choice2 >= 0) break;
    }
    const overhead1 = activeConns[choice1] * 256 + inactiveConns[choice1];
    const overhead2 = activeConns[choice2] * 256 + inactiveConns[choice2];
    return weight[choice2] * overhead1 > weight[choice1] * overhead2 ? choice2 : choice1;
  }
  rebuild(): void {}
}
