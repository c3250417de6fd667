// Bounded concurrency for check scripts (misc_check): hundreds of scripts that hang must not
// become hundreds of processes fighting the director's main thread (VRRP adverts, the control
// socket) for the CPU. A script waits for a slot; the wait counts against its misc_timeout, so
// a queue behind hanging scripts ends as a timed-out check, never as an unbounded backlog.
import { Slots } from '../os/slots.js';

export { Slots as ScriptSlots };

/** How many check scripts run at once (keepalived has no bound; ulvs keeps one). */
export const MAX_CONCURRENT_SCRIPTS = 32;

export const scriptSlots = new Slots(MAX_CONCURRENT_SCRIPTS);
