/**
 * The control plane's side of the per-service and per-real-server counters: sums each id's row
 * over the workers' SharedArrayBuffers, keeps the zero baselines (`ipvsadm -Z`: IPVS's kstats0;
 * the workers stay the only writers of their rows) and runs the rate estimator every 2 seconds
 * over the ids in the running table. The director calls follow() with each table it publishes:
 * an id that leaves it is forgotten, so a server added back starts from zero as a new IPVS
 * destination does.
 */
import { STAT_FIELDS, S_CONNS, S_IN_BYTES, S_IN_PKTS, S_OUT_BYTES, S_OUT_PKTS, sumIpvsRow } from '../dataplane/counters.js';
import type { IpvsRates, IpvsStats } from '../control/ipvs-stats.js';
import { ESTIMATOR_INTERVAL_MS, RateEstimator } from './estimator.js';

interface Tracked { baseline: Float64Array; estimator: RateEstimator }
const IDLE = new RateEstimator();

export class IpvsCounters {
  private readonly tracked = new Map<number, Tracked>();
  private readonly scratch = new Float64Array(STAT_FIELDS);
  private timer: NodeJS.Timeout | null = null;

  /** `sources`: every worker's counter rows, read when needed (workers may be added). */
  constructor(private readonly sources: () => readonly Float64Array[]) {}

  /** Counters of one id since it entered the table or was last zeroed. */
  stats(id: number): IpvsStats {
    const baseline = this.tracked.get(id)?.baseline;
    const raw = sumIpvsRow(this.sources(), id, this.scratch);
    const d = (f: number): number => raw[f] - (baseline ? baseline[f] : 0);
    return { conns: d(S_CONNS), inPkts: d(S_IN_PKTS), outPkts: d(S_OUT_PKTS), inBytes: d(S_IN_BYTES), outBytes: d(S_OUT_BYTES) };
  }

  rates(id: number): IpvsRates {
    return (this.tracked.get(id)?.estimator ?? IDLE).rates();
  }

  /** The running table's ids: new ones start counting from here, gone ones are forgotten. */
  follow(ids: ReadonlySet<number>): void {
    for (const id of this.tracked.keys()) if (!ids.has(id)) this.tracked.delete(id);
    for (const id of ids) this.track(id);
  }

  /** One estimator tick (estimation_timer) over the followed ids. */
  sample(): void {
    const sources = this.sources();
    for (const [id, t] of this.tracked) t.estimator.sample(sumIpvsRow(sources, id, this.scratch));
  }

  /** `ipvsadm -Z`: these ids count from now and their rates restart (ip_vs_zero_stats). */
  zero(ids: Iterable<number>): void {
    const sources = this.sources();
    for (const id of ids) {
      const t = this.track(id);
      const raw = sumIpvsRow(sources, id, this.scratch);
      t.baseline.set(raw);
      t.estimator.reset(raw);
    }
  }

  /** Samples every 2 seconds, as IPVS's estimation timer. */
  start(): void {
    this.stop();
    this.timer = setInterval(() => this.sample(), ESTIMATOR_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private track(id: number): Tracked {
    let t = this.tracked.get(id);
    if (!t) {
      // First seen: what its row holds already belongs to an earlier life of the id.
      const raw = sumIpvsRow(this.sources(), id, this.scratch);
      t = { baseline: Float64Array.from(raw), estimator: new RateEstimator() };
      t.estimator.reset(raw);
      this.tracked.set(id, t);
    }
    return t;
  }
}
