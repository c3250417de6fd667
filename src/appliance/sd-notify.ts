/**
 * The service manager protocol (sd_notify(3)) for `Type=notify` units: READY=1 once the
 * director forwards, RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 on the way out,
 * and WATCHDOG=1 from the main event loop at half of WatchdogSec, so a director whose loop
 * hangs is restarted. Without $NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
export interface NotifyEnvironment {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

/** How often to ping, in ms, or undefined when no watchdog is asked of this process. */
export function watchdogIntervalMs(env: NotifyEnvironment, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  // systemd sets WATCHDOG_PID to the main process; a child that inherited it must stay quiet.
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2 / 1000));
}

export type SendDatagram = (socketPath: string, message: string) => void;

export class ServiceNotifier {
  private readonly socket: string | undefined;
  private readonly watchdogMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;

  /** Takes $NOTIFY_SOCKET out of the environment: scripts ulvs starts must not talk to systemd. */
  constructor(private readonly send: SendDatagram, private readonly onError: (message: string) => void,
    env: NodeJS.ProcessEnv = process.env, pid = process.pid) {
    this.socket = env.NOTIFY_SOCKET || undefined;
    this.watchdogMs = this.socket ? watchdogIntervalMs(env, pid) : undefined;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
  }

  get active(): boolean { return this.socket !== undefined; }
  get watchdogIntervalMs(): number | undefined { return this.watchdogMs; }

  ready(status: string): void {
    this.notify(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`);
    if (this.watchdogMs !== undefined && this.timer === undefined) {
      this.timer = setInterval(() => this.notify('WATCHDOG=1'), this.watchdogMs);
      this.timer.unref();
    }
  }

  reloading(): void { this.notify('RELOADING=1\nSTATUS=reloading'); }

  stopping(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.notify('STOPPING=1\nSTATUS=stopping');
  }

  private notify(message: string): void {
    if (this.socket === undefined) return;
    try {
      this.send(this.socket, message);
    } catch (err) {
      // Said once: a watchdog ping every few seconds must not flood the log.
      if (!this.failed) this.onError(`cannot notify the service manager on ${this.socket}: ${(err as Error).message}`);
      this.failed = true;
    }
  }
}
