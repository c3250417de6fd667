// Bounded concurrency for work that runs a child process: hundreds of requests at once (check
// scripts, `ip` look-ups for hundreds of services) must not become hundreds of processes
// fighting the director's main thread for the CPU (each spawn forks the whole process, on
// the main thread). A caller waits for a slot; slots are granted in request order.

export class Slots {
  private running = 0;
  private grantedTotal = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get active(): number { return this.running; }
  get queued(): number { return this.waiting.length; }
  /** Slots granted since start (how many child processes the callers ran). */
  get granted(): number { return this.grantedTotal; }

  /** Resolves with the slot's release function once one is free (release is idempotent). */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.running++;
        this.grantedTotal++;
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

  /** Runs `work` in a slot, releasing it however `work` ends. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try { return await work(); } finally { release(); }
  }
}
