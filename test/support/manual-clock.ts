// A clock that moves only when the test says so, for units that take an injectable clock
// (src/health/clock.ts): timers fire in time order as the test advances time, with no waiting.
import type { HealthClock, TimerHandle } from '../../src/health/clock.js';
import { runCheck, type CheckRunner } from '../../src/health/checkers.js';
import type { CheckResult } from '../../src/health/types.js';

interface Timer { at: number; fire: () => void }

export class ManualClock implements HealthClock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fire: () => void, delayMs: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, delayMs), fire });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in time order;
   * after each one `settle` lets what it started (a probe's I/O) finish first.
   */
  async advance(ms: number, settle: () => Promise<void> = async () => {}): Promise<void> {
    await this.advanceUntil(() => false, ms, settle);
  }

  /** Like advance, but stops as soon as `cond` holds; resolves whether it does. */
  async advanceUntil(cond: () => boolean, ms: number, settle: () => Promise<void> = async () => {}): Promise<boolean> {
    const end = this.#now + ms;
    for (;;) {
      if (cond()) return true;
      const due = this.#earliest(end);
      if (due === undefined) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#now = timer.at;
      timer.fire();
      await settle();
    }
    this.#now = end;
    return cond();
  }

  #earliest(limit: number): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].at <= limit && (best === undefined || entry[1].at < best[1].at)) best = entry;
    }
    return best;
  }
}

/**
 * The real checkers, tracked so that the manual clock can let each probe's I/O finish before
 * it fires the next timer. Probes to `hung` ports are left running (they end at their own
 * connect_timeout, in real time).
 */
export function trackedChecks(hung: number[] = []): { runner: CheckRunner; settle: () => Promise<void> } {
  const pending = new Set<Promise<CheckResult>>();
  const runner: CheckRunner = (type, target, params, opts) => {
    const run = runCheck(type, target, params, opts);
    if (hung.includes(target.port)) return run;
    pending.add(run);
    const done = (): void => { pending.delete(run); };
    run.then(done, done);
    return run;
  };
  const settle = async (): Promise<void> => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
    await new Promise((r) => setImmediate(r));
  };
  return { runner, settle };
}
