// rr and wrr (ip_vs_rr.c, ip_vs_wrr.c). The cursor is per scheduler instance (IPVS: per service
// under sched_lock; ulvs: per worker thread, so each worker keeps its own rotation).

import { gcd } from './hash.js';
import type { RealServerSet, Scheduler } from './types.js';

const HEAD = -1; // IPVS's list head: the next scan starts at index 0

export class RoundRobinScheduler implements Scheduler {
  readonly name = 'rr' as const;
  private last = HEAD;

  schedule(set: RealServerSet): number {
    const { weight, available, overloaded } = set;
    const n = set.count;
    let i = this.last;
    // n steps: from the one after the last pick, round to the last pick itself
    for (let step = 0; step < n; step++) {
      i = i + 1 < n ? i + 1 : 0;
      if (weight[i] > 0 && available[i] !== 0 && overloaded[i] === 0) {
        this.last = i;
        return i;
      }
    }
    return -1;
  }

  rebuild(set: RealServerSet): void {
    if (this.last >= set.count) this.last = HEAD;
  }
}

export class WeightedRoundRobinScheduler implements Scheduler {
  readonly name = 'wrr' as const;
  private cursor = HEAD; // mark->cl
  private currentWeight = 0; // mark->cw
  private maxWeight = 0; // mark->mw = max weight - (gcd - 1)
  private step = 1; // mark->di = gcd of the positive weights

  constructor(set: RealServerSet) {
    this.measure(set);
    this.currentWeight = this.maxWeight;
  }

  private measure(set: RealServerSet): void {
    let g = 0;
    let max = 0;
    for (let i = 0; i < set.count; i++) {
      if (set.available[i] === 0) continue; // not in IPVS's list
      const w = set.weight[i];
      if (w > 0) g = g > 0 ? gcd(w, g) : w;
      if (w > max) max = w;
    }
    this.step = g > 0 ? g : 1;
    this.maxWeight = max - (this.step - 1);
    this.cursor = HEAD;
  }

  /** ip_vs_wrr_dest_changed: restart from the head, keep cw where it still makes sense. */
  rebuild(set: RealServerSet): void {
    this.measure(set);
    if (this.currentWeight > this.maxWeight || this.currentWeight === 0) this.currentWeight = this.maxWeight;
    else if (this.step > 1) this.currentWeight = Math.trunc(this.currentWeight / this.step) * this.step + 1;
  }

  schedule(set: RealServerSet): number {
    if (this.maxWeight <= 0) return -1;
    const { weight, available, overloaded } = set;
    const n = set.count;
    const last = this.cursor;
    let stop = -2; // no stop point yet (HEAD is -1)
    let lastPass = false;
    let restarted = false;
    let i = last;
    for (;;) {
      for (i = i + 1; i < n; i++) {
        if (weight[i] >= this.currentWeight && available[i] !== 0 && overloaded[i] === 0) {
          this.cursor = i;
          return i;
        }
        if (i === stop) {
          this.cursor = i;
          return -1; // all overloaded
        }
      }
      this.currentWeight -= this.step;
      if (this.currentWeight <= 0) {
        this.currentWeight = this.maxWeight;
        // stop once every server was checked against weight >= 1
        if (lastPass || last === HEAD) {
          this.cursor = HEAD;
          return -1;
        }
        restarted = true;
      }
      lastPass = this.currentWeight <= this.step;
      // the first w >= 1 pass only covered servers after `last`: now cover those up to it
      if (lastPass && restarted && last !== HEAD) stop = last;
      i = HEAD;
    }
  }
}
