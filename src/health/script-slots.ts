// Bounded concurrency for check scripts (misc_check): hundreds of scripts that hang must not
// become hundreds of processes fighting the director's main thread (VRRP adverts, the control
// socket) for the CPU. A script waits for a slot; the wait counts against its misc_timeout, so
// a queue behind hanging scripts ends as a timed-out check, never as an unbounded backlog.

/** How many check scripts run at once (keepalived has no bound; ulvs keeps one). */
export const MAX_CONCURRENT_SCRIPTS = 32;

export class ScriptSlots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get active(): number { return this.running; }
  get queued(): number { return this.waiting.length; }

  /** Resolves with the slot's release function once one is free (release is idempotent). */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.running++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.running--;
          this.waiting.shift()?.();
        });
      };
      if (this.running < this.limit) grant(); else this.waiting.push(grant);
    });
  }
}

export const scriptSlots = new ScriptSlots(MAX_CONCURRENT_SCRIPTS);
