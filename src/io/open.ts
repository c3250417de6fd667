// openPort: pick and open a backend (a TAP port runs its own tc); waitReadable: sleep until
// ports have packets. The dataplane worker uses open-core.ts instead (its tc is the main thread's).
import { detachXdp, openPortWith, type OpenPortOptions } from './open-core.js';
import type { PacketPort } from './port.js';
import * as tc from './tc.js';

export { detachXdp, waitReadable, type OpenPortOptions } from './open-core.js';

/** Opens a port. 'auto' = AF_XDP if it attaches, else TAP with `fallbackReason` set. */
export function openPort(options: OpenPortOptions): PacketPort {
  return openPortWith(options, options.tc === 'caller' ? null : tc);
}

/**
 * Removes whatever a killed ulvs left on `ifname`: its XDP program, and its
 * tc steering filters (which, after a TAP-backend crash, redirect service
 * traffic to a tap that no longer exists). Safe when nothing is left.
 */
export function cleanupInterface(ifname: string): void {
  detachXdp(ifname);
  tc.removeTapPlumbing(ifname, true); // the qdisc goes only if no other filters use it
}
