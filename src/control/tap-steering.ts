/**
 * TAP steering applied by the director's main thread (issue 18 part 4). A dataplane worker
 * never runs a child process: it opens its tap with `tc: 'caller'`, says the tap's name in its
 * ready message, and this object installs the tc plumbing (interface ingress -> tap, tap ->
 * interface) and the steering filters. Filters are replaced only when a snapshot's rules differ
 * from those in place (a health change that moves no VIP runs no tc at all); tc runs
 * asynchronously, one change after another, and a failure is logged and leaves the previous
 * filters in place rather than failing the snapshot.
 */
import type pino from 'pino';
import type { SteeringRule } from '../io/port.js';
import { installTapPlumbing, removeTapPlumbing, replaceSteeringAsync, TC_PREFS } from '../io/tc.js';
import type { Snapshot } from '../dataplane/snapshot.js';
import { allSteeringFor } from '../dataplane/steering.js';

/** Which side of the dataplane an interface is: its rules come from steeringFor's outside or inside. */
export type SteeringSide = 'outside' | 'inside';

interface Attached { ifname: string; tapName: string; side: SteeringSide; ownsQdisc: boolean; pref: number; applied: string | null }

/** The rules' identity: equal keys, equal filters. */
export function rulesKey(rules: readonly SteeringRule[]): string {
  return rules.map((r) => `${r.kind} ${r.protocol} ${r.ip6 ?? r.ip} ${r.port}`).sort().join(',');
}

export class TapSteering {
  private readonly attached = new Map<string, Attached>();
  private latest: Snapshot | null = null;
  private queue: Promise<void> = Promise.resolve();
  private exitHook = false;
  /** tc changes made and failures (for tests and status). */
  readonly stats = { applied: 0, unchanged: 0, failures: 0 };

  constructor(private readonly log: pino.Logger) {}

  /**
   * A worker opened `tapName` for `ifname`: (re)install the plumbing and steer to it. A worker
   * restarted after a crash made a new tap of the same name, so everything is installed again.
   * Steers as the latest snapshot applied (or `snapshot`, the worker's first). Throws when the
   * plumbing or the first steering cannot be installed (the director cannot forward over TAP).
   */
  async attach(ifname: string, tapName: string, side: SteeringSide, snapshot: Snapshot): Promise<void> {
    await this.enqueue(async () => {
      const prior = this.attached.get(ifname);
      const ownsQdisc = installTapPlumbing(ifname, tapName) || (prior?.ownsQdisc ?? false);
      this.attached.set(ifname, { ifname, tapName, side, ownsQdisc, pref: TC_PREFS[1], applied: null });
      if (!this.exitHook) {
        this.exitHook = true;
        // process.exit skips stop(): service traffic must not stay redirected to a gone tap.
        process.once('exit', () => this.removeAllSync());
      }
    });
    await this.apply(this.latest ?? snapshot, true);
  }

  /** Steers every attached interface as `snapshot` says; resolves once tc is done (never rejects). */
  apply(snapshot: Snapshot, rethrow = false): Promise<void> {
    this.latest = snapshot;
    const rules = allSteeringFor(snapshot);
    return this.enqueue(async () => {
      for (const a of this.attached.values()) {
        const wanted = rules[a.side];
        const key = rulesKey(wanted);
        if (key === a.applied) { this.stats.unchanged++; continue; }
        const pref = a.pref === TC_PREFS[0] ? TC_PREFS[1] : TC_PREFS[0];
        try {
          await replaceSteeringAsync(a.ifname, a.tapName, pref, wanted);
          a.pref = pref;
          a.applied = key;
          this.stats.applied++;
        } catch (err) {
          this.stats.failures++;
          this.log.error({ ifname: a.ifname, err: (err as Error).message, version: snapshot.version },
            `TAP steering on ${a.ifname} not changed: ${(err as Error).message}`);
          if (rethrow) throw err;
        }
      }
    });
  }

  /** Removes the filters (and the ingress qdisc ulvs added). */
  async removeAll(): Promise<void> {
    await this.enqueue(async () => this.removeAllSync());
  }

  private removeAllSync(): void {
    for (const a of this.attached.values()) {
      try {
        removeTapPlumbing(a.ifname, a.ownsQdisc);
      } catch (err) {
        this.log.warn({ ifname: a.ifname, err: (err as Error).message }, 'could not remove TAP steering');
      }
    }
    this.attached.clear();
  }

  get interfaces(): string[] { return [...this.attached.keys()]; }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
