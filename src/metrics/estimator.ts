/**
 * IPVS's rate estimator (net/netfilter/ipvs/ip_vs_est.c), the same fixed-point arithmetic:
 * every 2 seconds the change of each counter is scaled (packets and connections by 2^10,
 * bytes by 2^5, halved for the 2-second interval) and folded into an exponentially weighted
 * average with weight 1/4; reading rounds the scaled average back to units per second.
 * Pure: the caller owns the timer and hands in the counters' current values.
 */
import { S_CONNS, S_IN_BYTES, S_IN_PKTS, S_OUT_BYTES, S_OUT_PKTS, STAT_FIELDS } from '../dataplane/counters.js';
import type { IpvsRates } from '../control/ipvs-stats.js';

/** The estimator's period (IPVS: 2*HZ). */
export const ESTIMATOR_INTERVAL_MS = 2000;

/** The kernel's `(s64)x >> 2`: an arithmetic shift rounds toward minus infinity. */
function shiftRight2(x: number): number {
  return Math.floor(x / 4);
}

/** Scale of each field: << 9 (2^10 per second over 2 s) for counts, << 4 (2^5 / 2) for bytes. */
const SCALE = new Float64Array(STAT_FIELDS);
SCALE[S_CONNS] = 512;
SCALE[S_IN_PKTS] = 512;
SCALE[S_OUT_PKTS] = 512;
SCALE[S_IN_BYTES] = 16;
SCALE[S_OUT_BYTES] = 16;

export class RateEstimator {
  /** Counter values at the last sample (e->last_*). */
  readonly last = new Float64Array(STAT_FIELDS);
  /** Scaled averages (e->cps, e->inpps, ...). */
  readonly scaled = new Float64Array(STAT_FIELDS);

  /** ip_vs_zero_estimator: the next sample measures from `current`, the rates restart at 0. */
  reset(current: ArrayLike<number>): void {
    for (let f = 0; f < STAT_FIELDS; f++) this.last[f] = current[f];
    this.scaled.fill(0);
  }

  /** One tick of estimation_timer with the counters' values now. */
  sample(current: ArrayLike<number>): void {
    for (let f = 0; f < STAT_FIELDS; f++) {
      const rate = (current[f] - this.last[f]) * SCALE[f];
      this.last[f] = current[f];
      this.scaled[f] += shiftRight2(rate - this.scaled[f]);
    }
  }

  /** ip_vs_read_estimator: (x + 0x1FF) >> 10 for counts, (x + 0xF) >> 5 for bytes. */
  rates(): IpvsRates {
    const s = this.scaled;
    const count = (x: number): number => Math.floor((x + 0x1ff) / 1024);
    const bytes = (x: number): number => Math.floor((x + 0xf) / 32);
    return {
      cps: count(s[S_CONNS]), inPps: count(s[S_IN_PKTS]), outPps: count(s[S_OUT_PKTS]),
      inBps: bytes(s[S_IN_BYTES]), outBps: bytes(s[S_OUT_BYTES]),
    };
  }
}
