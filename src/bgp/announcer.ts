/**
 * The shell around the decision (decision.ts) and bird2 (bird.ts): looks at each VIP's health
 * once per interval, writes the include file when the announcements change and asks bird to
 * re-read its config (`birdc configure`). A daemon that is missing, not running or refusing
 * is one log line per new trouble and a `ulvs status` field: forwarding never depends on it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type pino from 'pino';
import type { RawBgpAnnounce } from '../config/raw-schema-bgp.js';
import { CommandError, runCommand } from '../os/run.js';
import type { Liveness } from './liveness.js';
import { configureOutcome, isOurInclude, parseProtocols, renderInclude, type BgpSession } from './bird.js';
import {
  announcementFor, announcementReason, INITIAL_DAMPING, observe, type Announcement, type DecisionSettings, type VipDamping,
} from './decision.js';

const SESSIONS_EVERY_MS = 5000;

export type DaemonState = 'unknown' | 'ok' | 'not installed' | 'not running' | 'refused' | 'include file not ours';

export interface BgpVipStatus {
  vip: string;
  usable: number;
  health: VipDamping['state'];
  announced: boolean;
  med: number | null;
  reason: string;
}

export interface BgpStatus {
  daemon: { name: 'bird2'; state: DaemonState; error?: string; includeFile: string; lastApplied: string | null; liveness: string | null };
  sessions: BgpSession[];
  disabled: boolean;
  stopping: boolean;
  vips: BgpVipStatus[];
}

export interface AnnouncerDeps {
  log: pino.Logger;
  /** usable real servers per VIP now */
  usable(): ReadonlyMap<string, number>;
  /** Open the liveness interface the routes go through (liveness.ts); absent: `unreachable` routes. */
  openLiveness?(): Liveness;
}

export class BgpAnnouncer {
  private damping = new Map<string, VipDamping>();
  private lastUsable = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The include text bird has accepted, null before the first success. */
  private applied: string | null = null;
  private appliedAt: string | null = null;
  private daemonState: DaemonState = 'unknown';
  private daemonError: string | undefined;
  private sessions: BgpSession[] = [];
  private disabled = false;
  private stopping = false;
  private busy: Promise<void> | null = null;
  private liveness: Liveness | null = null;
  private sessionsReadAt = 0;
  /** Per BGP protocol, whether the last read saw it Established (logSessionChanges). */
  private readonly sessionUp = new Map<string, boolean>();

  constructor(private cfg: RawBgpAnnounce, private readonly deps: AnnouncerDeps) {
    for (const vip of cfg.vips) this.damping.set(vip, INITIAL_DAMPING);
  }

  private get settings(): DecisionSettings {
    return { rise: this.cfg.rise, fall: this.cfg.fall, whenDown: this.cfg.when_down, med: this.cfg.med, downMed: this.cfg.down_med };
  }

  /** Writes the include with nothing announced (a killed run may have left routes), then looks every interval. */
  async start(): Promise<void> {
    this.disabled = existsSync(this.cfg.disable_file);
    if (this.deps.openLiveness) {
      try {
        this.liveness = this.deps.openLiveness();
      } catch (err) {
        this.deps.log.warn({ error: (err as Error).message }, 'bgp: no liveness interface: routes are unreachable ones and outlive a killed ulvs');
      }
    }
    if (this.disabled) this.deps.log.warn({ file: this.cfg.disable_file }, 'bgp: director disabled (disable file present): VIPs not announced as healthy');
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => { void this.tick(); }, this.cfg.interval * 1000);
    this.timer.unref();
  }

  /** A reload: VIPs that stay keep their damped state, new ones start in INIT. */
  async reconfigure(cfg: RawBgpAnnounce): Promise<void> {
    const intervalChanged = cfg.interval !== this.cfg.interval;
    this.cfg = cfg;
    const next = new Map<string, VipDamping>();
    for (const vip of cfg.vips) next.set(vip, this.damping.get(vip) ?? INITIAL_DAMPING);
    this.damping = next;
    this.applied = null;
    if (intervalChanged && this.timer) this.schedule();
    await this.tick(false);
  }

  /** `ulvs bgp disable|enable`: the disable file is the state (it outlives this process). */
  async setDisabled(on: boolean, reason = 'ulvs bgp disable'): Promise<BgpStatus> {
    if (on) {
      mkdirSync(dirname(this.cfg.disable_file), { recursive: true });
      writeFileSync(this.cfg.disable_file, `${reason} at ${new Date().toISOString()}\n`);
    } else {
      rmSync(this.cfg.disable_file, { force: true });
    }
    await this.tick(false);
    return this.status();
  }

  /** Clean stop: every route withdrawn (bird confirms) before the caller stops the dataplane. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping = true;
    await this.busy;
    await this.apply();
    this.liveness?.close();
    this.liveness = null;
    this.deps.log.info({ state: this.daemonState }, 'bgp: routes withdrawn for the stop');
  }

  /** One look: `observeHealth` false re-evaluates the mode (disable) without counting a look. */
  tick(observeHealth = true): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.stopping) return;
      const disabled = existsSync(this.cfg.disable_file);
      if (disabled !== this.disabled) this.deps.log.info({ file: this.cfg.disable_file }, disabled ? 'bgp: director disabled' : 'bgp: director enabled');
      this.disabled = disabled;
      if (observeHealth) {
        this.lastUsable = new Map(this.deps.usable());
        for (const [vip, prev] of this.damping) {
          const next = observe(prev, (this.lastUsable.get(vip) ?? 0) > 0, this.settings);
          if (next.state !== prev.state) this.deps.log.info({ vip, from: prev.state, to: next.state, usable: this.lastUsable.get(vip) ?? 0 }, `bgp: ${vip} ${next.state}`);
          this.damping.set(vip, next);
        }
      }
      await this.apply();
      await this.readSessions();
    };
    const next = (this.busy ?? Promise.resolve()).then(run, run);
    this.busy = next.finally(() => { if (this.busy === next) this.busy = null; });
    return next;
  }

  private announcements(): Map<string, Announcement> {
    const mode = { disabled: this.disabled, stopping: this.stopping };
    return new Map([...this.damping].map(([vip, d]) => [vip, announcementFor(d.state, mode, this.settings)]));
  }

  /** Writes and configures only when the text changed since bird last accepted it (or it failed). */
  private async apply(): Promise<void> {
    const text = renderInclude(this.cfg.protocol, this.announcements(), this.liveness?.name);
    if (text === this.applied) return;
    const file = this.cfg.include_file;
    try {
      if (existsSync(file) && !isOurInclude(readFileSync(file, 'utf8'))) {
        this.trouble('include file not ours', `${file} exists and was not written by ulvs: not overwritten (remove it or pick another bgp_announce.include_file)`);
        return;
      }
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.ulvs-tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    } catch (err) {
      this.trouble('refused', `cannot write ${file}: ${(err as Error).message}`);
      return;
    }
    try {
      const out = await this.birdc(['configure']);
      const outcome = configureOutcome(out);
      if (!outcome.ok) { this.trouble('refused', `birdc configure: ${outcome.error}`); return; }
      this.applied = text;
      this.appliedAt = new Date().toISOString();
      this.fine();
    } catch (err) {
      this.birdcFailed(err);
    }
  }

  /** Session states are for `ulvs status`: read every SESSIONS_EVERY_MS, not on each look (birdc is a process). */
  private async readSessions(): Promise<void> {
    if (this.daemonState !== 'ok' || Date.now() - this.sessionsReadAt < SESSIONS_EVERY_MS) return;
    this.sessionsReadAt = Date.now();
    try {
      const next = parseProtocols(await this.birdc(['show', 'protocols']));
      this.logSessionChanges(next);
      this.sessions = next;
    } catch (err) {
      this.birdcFailed(err);
    }
  }

  /**
   * One line when a BGP session comes up, and one when it is (or goes) down, with bird's reason
   * (a peer refusing the session: "Active Socket: Connection refused", "Idle Received: Bad peer AS"):
   * not one per read while it stays so.
   */
  private logSessionChanges(next: readonly BgpSession[]): void {
    for (const s of next) {
      const up = s.info.startsWith('Established');
      const before = this.sessionUp.get(s.name);
      if (before === up) continue;
      this.sessionUp.set(s.name, up);
      if (up) this.deps.log.info({ session: s.name }, `bgp: session ${s.name} Established`);
      else this.deps.log.warn({ session: s.name, state: s.state, info: s.info }, `bgp: session ${s.name} not established: ${s.info || s.state} (forwarding continues; nothing reaches the router through it)`);
    }
  }

  private async birdc(args: string[]): Promise<string> {
    const sock = this.cfg.bird_socket ? ['-s', this.cfg.bird_socket] : [];
    const { stdout, stderr } = await runCommand(this.cfg.birdc, [...sock, ...args], { timeoutMs: this.cfg.command_timeout * 1000 });
    return stdout + stderr;
  }

  private birdcFailed(err: unknown): void {
    const msg = err instanceof CommandError ? err.stderr.trim() || err.message : (err as Error).message;
    if (/ENOENT|not found/.test(msg) && !/control socket/.test(msg)) this.trouble('not installed', `${this.cfg.birdc} is not installed (apt-get install bird2)`);
    else if (/control socket|Connection refused|No such file/.test(msg)) this.trouble('not running', `bird is not running: ${msg.split('\n').pop()}`);
    else this.trouble('refused', msg);
    this.sessions = [];
  }

  /** One log line per new trouble; the next look tries again. */
  private trouble(state: DaemonState, error: string): void {
    if (state !== this.daemonState || error !== this.daemonError) this.deps.log.error({ daemon: 'bird2', state, error }, `bgp: ${error} (forwarding continues)`);
    this.daemonState = state;
    this.daemonError = error;
    this.applied = null;
  }

  private fine(): void {
    if (this.daemonState !== 'ok') this.deps.log.info({ daemon: 'bird2', file: this.cfg.include_file }, 'bgp: bird accepted the announcements');
    this.daemonState = 'ok';
    this.daemonError = undefined;
  }

  status(): BgpStatus {
    const mode = { disabled: this.disabled, stopping: this.stopping };
    const accepted = this.applied !== null;
    return {
      daemon: {
        name: 'bird2', state: this.daemonState, includeFile: this.cfg.include_file, lastApplied: this.appliedAt, liveness: this.liveness?.name ?? null,
        ...(this.daemonError ? { error: this.daemonError } : {}),
      },
      sessions: this.sessions,
      disabled: this.disabled,
      stopping: this.stopping,
      vips: [...this.damping].map(([vip, d]) => {
        const a = announcementFor(d.state, mode, this.settings);
        return {
          vip, usable: this.lastUsable.get(vip) ?? 0, health: d.state,
          // What bird holds: the decision only once bird accepted it.
          announced: accepted && a.announce, med: accepted && a.announce ? a.med : null,
          reason: announcementReason(d.state, mode),
        };
      }),
    };
  }
}
