/**
 * What a worker does while its rings are empty (`dataplane.busy_poll`): how long it spins and
 * then how long it sleeps in poll(), decided once per loop from whether the last wake-up
 * brought packets. Pure: the worker passes the two numbers to waitReadable().
 *
 * - false: sleep in poll() (an idle director costs no CPU; a wake-up costs tens of microseconds).
 * - true: spin without end (one core per worker, always), in slices so control messages and
 *   expiry still run between them.
 * - adaptive: after a wake-up that brought packets, spin `spinUs` before sleeping: a busy worker
 *   never sleeps, an idle one sleeps as with false.
 */
export type BusyPollMode = boolean | 'adaptive';

/** How long an idle worker sleeps before it looks at control messages again (worker.ts). */
export const IDLE_POLL_MS = 10;
/** busy_poll true: the length of one spin, between two looks at control messages and expiry. */
export const SPIN_SLICE_US = 1000;
/** busy_poll adaptive without busy_poll_spin_us. */
export const DEFAULT_ADAPTIVE_SPIN_US = 200;
/** SO_BUSY_POLL: microseconds the kernel may busy-poll the queue inside one syscall. */
export const SOCKET_BUSY_POLL_US = 50;

export class IdleStrategy {
  /** What the next waitReadable() is told. */
  spinUs = 0;
  timeoutMs = IDLE_POLL_MS;
  readonly spins: boolean;

  constructor(readonly mode: BusyPollMode, readonly adaptiveSpinUs = DEFAULT_ADAPTIVE_SPIN_US) {
    this.spins = mode !== false;
    this.next(false);
  }

  /** Sets spinUs/timeoutMs for the next wait, given whether the last one found packets. */
  next(hadPackets: boolean): void {
    if (this.mode === true) {
      this.spinUs = SPIN_SLICE_US;
      this.timeoutMs = 0;
    } else if (this.mode === 'adaptive') {
      this.spinUs = hadPackets ? this.adaptiveSpinUs : 0;
      this.timeoutMs = IDLE_POLL_MS;
    } else {
      this.spinUs = 0;
      this.timeoutMs = IDLE_POLL_MS;
    }
  }
}
