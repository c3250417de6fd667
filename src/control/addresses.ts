import { run, runSync } from '../os/run.js';

/** An address ulvs holds on an interface (keepalived's static_ipaddress / virtual_ipaddress). */
export interface HeldAddress { address: string; dev: string; label?: string }

/**
 * Adds the addresses and remembers which ones ulvs added, so that release() removes exactly
 * those (an address the admin configured by hand stays when ulvs stops).
 */
export class AddressHolder {
  private readonly added: HeldAddress[] = [];

  async hold(addr: HeldAddress): Promise<void> {
    const args = ['addr', 'add', withPrefix(addr.address), 'dev', addr.dev];
    if (addr.label) args.push('label', addr.label);
    if (this.added.some((a) => a.address === addr.address && a.dev === addr.dev)) return;
    try {
      await run('ip', args);
      this.added.push(addr);
    } catch (err) {
      if (!/File exists/.test((err as Error).message)) throw err;
    }
  }

  /** Removes one address ulvs added (reload); leaves addresses it did not add alone. */
  release(addr: HeldAddress): void {
    const i = this.added.findIndex((a) => a.address === addr.address && a.dev === addr.dev);
    if (i < 0) return;
    const [gone] = this.added.splice(i, 1);
    try { runSync('ip', ['addr', 'del', withPrefix(gone.address), 'dev', gone.dev]); } catch { /* already gone */ }
  }

  /** Synchronous so it also runs from exit handlers. Never throws. */
  releaseAll(): void {
    for (const addr of this.added.splice(0)) {
      try { runSync('ip', ['addr', 'del', withPrefix(addr.address), 'dev', addr.dev]); } catch { /* already gone */ }
    }
  }
}

function withPrefix(address: string): string {
  return address.includes('/') ? address : `${address}/32`;
}
