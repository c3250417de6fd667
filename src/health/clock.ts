// Time as the health manager sees it: injectable so its tests step time instead of sleeping.

/** Whatever the clock's setTimeout returns; only ever handed back to its clearTimeout. */
export type TimerHandle = unknown;

export interface HealthClock {
  /** Wall-clock ms, as Date.now(). */
  now(): number;
  setTimeout(fire: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: HealthClock = {
  now: () => Date.now(),
  setTimeout: (fire, delayMs) => setTimeout(fire, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
