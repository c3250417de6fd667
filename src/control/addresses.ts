import { run, runSync } from './shell.js';

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
    try {
      await run('ip', args);
      this.added.push(addr);
    } catch (err) {
      if (!/File exists/.test((err as Error).message)) throw err;
    }
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
