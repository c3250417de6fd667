/**
 * Milliseconds per named step of a control operation (a reload), on the monotonic clock: the
 * "configuration reloaded" line carries them, so a slow reload says where its time went.
 */
export class StepTimer {
  private readonly began = performance.now();
  private last = this.began;
  readonly steps: Record<string, number> = {};

  /** Ends the step running since the previous mark (or the start) and names it. */
  mark(step: string): void {
    const now = performance.now();
    this.steps[step] = Math.round((this.steps[step] ?? 0) + now - this.last);
    this.last = now;
  }

  /** From the start until now. */
  get totalMs(): number {
    return Math.round(performance.now() - this.began);
  }
}
