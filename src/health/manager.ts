/**
 * HealthManager: the thin shell around the pure cores. It runs every probe on its own timer
 * on the main thread (never on a dataplane worker), so a hanging server or script only
 * delays itself and is cut at its own timeout. Services that check the same endpoint with an
 * identical check share one probe (see probeKey). Per (service, real server) it combines the
 * real server's checks (up iff all are up, as keepalived), emits a 'change' event when that
 * changes, runs notify_up/notify_down, and keeps each service's quorum and sorry-server state
 * ('quorum' events, quorum_up/quorum_down scripts).
 *
 *   const hm = new HealthManager(defs, { services });
 *   hm.on('change', (e: HealthEvent) => ...);   // { rsKey, serviceIds, up, weight?, reason, at }
 *   hm.on('quorum', (e: QuorumEvent) => ...);
 *   hm.start(); ... await hm.stop();
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import type { CheckResult, CheckTarget, CheckerType } from './types.js';
import {
  applyProbeResult, dampingConfig, firstProbeAt, initialDampingState, logsFailure,
  type DampingConfig, type DampingState,
} from './damping.js';
import { probeKey, runCheck, type CheckParams, type CheckRunner } from './checkers.js';
import { initialQuorumUp, liveWeight, nextQuorumState, sorryServerActive } from './quorum.js';
import { systemClock, type HealthClock, type TimerHandle } from './clock.js';
import { checkerNotifyCommand, runNotify, type NotifyScript } from '../os/notify.js';
import type { RunAs } from '../os/script-user.js';
import { probePaused, shutdownScripts, suspendedServices } from './lvs-flags.js';

/** One checker block of one real server of one virtual service. */
export interface CheckDefinition {
  serviceId: string;
  /** How the rest of ulvs names the real server, e.g. "198.18.0.10:80". */
  rsKey: string;
  target: CheckTarget;
  type: CheckerType;
  /** The checker block, keepalived names (connect_timeout, retry, url, misc_path, rise, ...). */
  params: CheckParams;
  /** Inherited from the real server / virtual server when the block has none (seconds). */
  delay_loop?: number;
  /** Configured real-server weight (default 1): quorum sums and dynamic weights start from it. */
  weight?: number;
  notify_up?: NotifyScript;
  notify_down?: NotifyScript;
}

export interface ServiceDefinition {
  id: string;
  quorum?: number;
  hysteresis?: number;
  quorum_up?: NotifyScript;
  quorum_down?: NotifyScript;
  sorry_server?: { ip: string; port: number };
  /** Real servers without any check (always alive, as keepalived) still count for quorum. */
  uncheckedRealServers?: Array<{ rsKey: string; weight?: number }>;
  /** keepalived ha_suspend: checks pause while none of `vips` is on this director. */
  ha_suspend?: boolean;
  vips?: string[];
  /** keepalived omega: notify_down and quorum_down run at shutdown. */
  omega?: boolean;
}

export interface HealthEvent {
  rsKey: string;
  serviceIds: string[];
  up: boolean;
  /** Only when a dynamic checker sets it (misc_dynamic, dynamic file_check). */
  weight?: number;
  reason: string;
  /** The checker that decided: the first failing one when down, the first one when up (alert mails name it). */
  checker?: CheckerType;
  /** Wall-clock ms (the clock's now(), Date.now() by default). */
  at: number;
}

export interface QuorumEvent {
  serviceId: string;
  quorumUp: boolean;
  sorryServerActive: boolean;
  liveWeight: number;
  threshold: number;
  at: number;
}

export interface MemberStatus {
  serviceId: string;
  rsKey: string;
  up: boolean;
  weight?: number;
  reason: string;
}

export interface CheckerStatus {
  key: string; type: string; target: string; realServers: string[]; up: boolean; runs: number;
  lastResult: { ok: boolean; reason: string; at: string } | null;
  lastChange: string | null;
  rise: number; fall: number; okStreak: number; failStreak: number;
}

export interface HealthManagerOptions {
  services?: ServiceDefinition[];
  /** Injected for tests; default runs the real checkers. */
  runner?: CheckRunner;
  /** Injected for tests; default runs the script detached and does not wait. */
  runScript?: (command: NotifyScript) => void;
  /** Who runs notify_up/down and quorum_up/down (script_user, enable_script_security). */
  runAs?: RunAs;
  random?: () => number;
  /** Timers and now; tests step a manual clock instead of waiting. */
  clock?: HealthClock;
  /** Optional pino-like logger. */
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

interface Probe {
  key: string;
  type: CheckerType;
  target: CheckTarget;
  params: CheckParams;
  cfg: DampingConfig;
  state: DampingState;
  timer: TimerHandle | null;
  members: Member[];
  runs: number;
  /** Wall clock (ms) of the last result and of the last up/down change (`ulvs status --json`). */
  lastRunAt?: number;
  lastChangeAt?: number;
  lastOk?: boolean;
  /** Dropped by a reload: a result still in flight is ignored. */
  removed: boolean;
}

interface Member {
  serviceId: string;
  rsKey: string;
  configuredWeight: number;
  probes: Probe[];
  notifyUp?: NotifyScript;
  notifyDown?: NotifyScript;
  up: boolean;
  weight?: number;
  reason: string;
}

interface ServiceState {
  def: ServiceDefinition;
  members: Member[];
  quorumUp: boolean;
}

function memberKey(serviceId: string, rsKey: string): string {
  return `${serviceId}\u0000${rsKey}`;
}

export class HealthManager extends EventEmitter {
  private readonly probes = new Map<string, Probe>();
  private readonly members = new Map<string, Member>();
  private readonly services = new Map<string, ServiceState>();
  private readonly runner: CheckRunner;
  private readonly runScript: (command: NotifyScript) => void;
  /** Changed by a reload (setRunAs). */
  private runAs: RunAs;
  private readonly random: () => number;
  private readonly clock: HealthClock;
  private readonly logger: HealthManagerOptions['logger'];
  private abort = new AbortController();
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  /** Services whose checks ha_suspend pauses (their VIP is elsewhere). */
  private suspended = new Set<string>();

  constructor(defs: CheckDefinition[], opts: HealthManagerOptions = {}) {
    super();
    this.runner = opts.runner ?? runCheck;
    this.runAs = opts.runAs ?? {};
    this.runScript = opts.runScript ?? ((cmd) => { void runNotify(checkerNotifyCommand(cmd), { logger: opts.logger, runAs: this.runAs }); });
    this.random = opts.random ?? Math.random;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger;
    this.configure(defs, opts.services ?? []);
  }

  /**
   * Apply a new configuration (ulvs reload). Probes whose key survives keep their state,
   * timer and retry position; real servers keep their up/down state (keepalived: "do not
   * re-add failed RS instantly on reload"); removed probes stop; new ones start after their
   * warmup and new real servers are announced like at start.
   */
  reload(defs: CheckDefinition[], services: ServiceDefinition[] = []): void {
    const before = new Map(this.members);
    const quorumBefore = new Map([...this.services].map(([id, svc]) => [id, svc.quorumUp]));
    const oldProbes = new Map(this.probes);
    this.configure(defs, services, oldProbes, before, quorumBefore);
    for (const [key, p] of oldProbes) {
      if (this.probes.has(key)) continue;
      p.removed = true;
      if (p.timer) this.clock.clearTimeout(p.timer);
      p.timer = null;
    }
    if (!this.running) return;
    const now = this.clock.now();
    // New real servers are announced; kept ones only if the new set of checks changed them.
    const touched = [...this.members.values()].filter((m) => {
      const old = before.get(memberKey(m.serviceId, m.rsKey));
      return !old || old.up !== m.up || old.weight !== m.weight;
    });
    this.emitChanges(touched, now);
    for (const p of this.probes.values()) {
      if (!oldProbes.has(p.key)) this.arm(p, firstProbeAt(p.cfg, now, this.random()) - now);
    }
  }

  private configure(
    defs: CheckDefinition[],
    services: ServiceDefinition[],
    oldProbes = new Map<string, Probe>(),
    oldMembers = new Map<string, Member>(),
    oldQuorum = new Map<string, boolean>(),
  ): void {
    this.probes.clear();
    this.members.clear();
    this.services.clear();
    for (const s of services) this.services.set(s.id, { def: s, members: [], quorumUp: true });
    for (const d of defs) this.addDefinition(d, oldProbes, oldMembers);
    for (const svc of this.services.values()) {
      svc.quorumUp = oldQuorum.get(svc.def.id) ?? initialQuorumUp(this.serviceLiveWeight(svc), svc.def);
    }
  }

  private addDefinition(d: CheckDefinition, oldProbes: Map<string, Probe>, oldMembers: Map<string, Member>): void {
    const params: CheckParams = { ...d.params };
    if (params.delay_loop === undefined && d.delay_loop !== undefined) params.delay_loop = d.delay_loop;
    const key = probeKey(d.type, d.target, params);
    let probe = this.probes.get(key);
    if (!probe) {
      const old = oldProbes.get(key);
      if (old) {
        probe = old;
        probe.members = [];
      } else {
        const cfg = dampingConfig(d.type, params);
        probe = { key, type: d.type, target: d.target, params, cfg, state: initialDampingState(cfg), timer: null, members: [], runs: 0, removed: false };
      }
      this.probes.set(key, probe);
    }
    const mk = memberKey(d.serviceId, d.rsKey);
    let member = this.members.get(mk);
    if (!member) {
      const old = oldMembers.get(mk);
      member = {
        serviceId: d.serviceId, rsKey: d.rsKey, configuredWeight: d.weight ?? 1, probes: [],
        notifyUp: d.notify_up, notifyDown: d.notify_down,
        up: old ? old.up : true, weight: old?.weight, reason: old ? old.reason : 'not yet checked',
      };
      this.members.set(mk, member);
      let svc = this.services.get(d.serviceId);
      if (!svc) {
        svc = { def: { id: d.serviceId }, members: [], quorumUp: true };
        this.services.set(d.serviceId, svc);
      }
      svc.members.push(member);
    }
    if (!member.probes.includes(probe)) member.probes.push(probe);
    if (!probe.members.includes(member)) probe.members.push(member);
    this.recompute(member, false);
  }

  /** Number of distinct probes (after sharing). */
  get probeCount(): number { return this.probes.size; }

  /** Completed probe runs per probe key (for tests and `ulvs list`). */
  /** A reload's script_user / enable_script_security for the notify scripts. */
  setRunAs(runAs: RunAs): void {
    this.runAs = runAs;
  }

  probeRuns(): Map<string, number> {
    return new Map([...this.probes.values()].map((p) => [p.key, p.runs]));
  }

  status(): MemberStatus[] {
    return [...this.members.values()].map((m) => ({
      serviceId: m.serviceId, rsKey: m.rsKey, up: m.up, weight: m.weight, reason: m.reason,
    }));
  }

  /** Every checker: state, last result, last change, rise/fall progress (`ulvs status --json`). */
  checkerStatus(): CheckerStatus[] {
    return [...this.probes.values()].map((p) => ({
      key: p.key, type: p.type, target: `${p.target.ip}:${p.target.port}`, realServers: p.members.map((m) => m.rsKey),
      up: p.state.up, runs: p.runs, lastResult: p.lastOk === undefined ? null : { ok: p.lastOk, reason: p.state.reason, at: new Date(p.lastRunAt!).toISOString() },
      lastChange: p.lastChangeAt === undefined ? null : new Date(p.lastChangeAt).toISOString(),
      rise: p.cfg.rise, fall: p.cfg.fall, okStreak: p.state.okStreak, failStreak: p.state.failStreak,
    }));
  }

  quorumStatus(): QuorumEvent[] {
    return [...this.services.values()].map((s) => this.quorumEvent(s, s.def.quorum ?? 1));
  }

  /**
   * Start the probes after their warmup, and announce the initial state (up unless alpha)
   * of every real server and service so the caller can build its first table.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    // Every probe in flight listens on this one signal: thousands are expected, not a leak.
    setMaxListeners(0, this.abort.signal);
    const now = this.clock.now();
    this.emitChanges([...this.members.values()], now);
    for (const svc of this.services.values()) {
      this.emit('quorum', this.quorumEvent(svc, svc.def.quorum ?? 1));
    }
    for (const p of this.probes.values()) this.arm(p, firstProbeAt(p.cfg, now, this.random()) - now);
  }

  /**
   * ha_suspend: `present(vip)` says whether this director holds the address now. Services
   * with ha_suspend and none of their VIPs present stop probing until one comes back.
   */
  setVipPresence(present: (vip: string) => boolean): void {
    const next = suspendedServices([...this.services.values()].map((s) => s.def), present);
    for (const svc of this.services.values()) {
      const id = svc.def.id;
      if (next.has(id) === this.suspended.has(id)) continue;
      this.logger?.info({ service: id }, `${next.has(id) ? 'Suspending' : 'Activating'} healthcheckers for VS ${id} (ha_suspend)`);
    }
    this.suspended = next;
  }

  /**
   * Stop all timers and cut probes in flight; resolves when they have settled. `shutdown`:
   * the director is going away, so omega services run their down notifiers (keepalived).
   */
  async stop(opts: { shutdown?: boolean } = {}): Promise<void> {
    if (opts.shutdown && this.running) {
      for (const svc of this.services.values()) {
        for (const script of shutdownScripts(svc.def, svc.members)) this.runScript(script);
      }
    }
    this.running = false;
    this.abort.abort();
    for (const p of this.probes.values()) {
      if (p.timer) this.clock.clearTimeout(p.timer);
      p.timer = null;
    }
    await Promise.all([...this.inFlight]);
  }

  private arm(p: Probe, delayMs: number): void {
    if (!this.running) return;
    p.timer = this.clock.setTimeout(() => {
      p.timer = null;
      // keepalived keeps a suspended checker's timer ticking at delay_loop, without probing.
      if (probePaused(p.members.map((m) => m.serviceId), this.suspended)) { this.arm(p, p.cfg.delayLoopMs); return; }
      const run = this.runProbe(p);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }, Math.max(0, delayMs));
  }

  private async runProbe(p: Probe): Promise<void> {
    let result: CheckResult;
    try {
      result = await this.runner(p.type, p.target, p.params, { signal: this.abort.signal });
    } catch (err) {
      result = { ok: false, reason: `internal: ${String(err)}` };
    }
    if (!this.running || p.removed) return;
    p.runs++;
    const now = this.clock.now();
    if (logsFailure(p.cfg, p.state, result)) {
      this.logger?.warn({ check: p.type, target: `${p.target.ip}:${p.target.port}`, reason: result.reason },
        `${p.type} of ${p.target.ip}:${p.target.port} failed (log_all_failures): ${result.reason}`);
    }
    const step = applyProbeResult(p.cfg, p.state, result, now);
    p.lastRunAt = Date.now();
    p.lastOk = result.ok;
    if (step.state.up !== p.state.up) p.lastChangeAt = p.lastRunAt;
    p.state = step.state;
    if (step.cycleDone || step.changed) {
      const touched: Member[] = [];
      for (const m of p.members) if (this.recompute(m)) touched.push(m);
      this.emitChanges(touched, now);
    }
    this.arm(p, step.nextAt - now);
  }

  /** Combine a member's probes; true when its up/weight changed. Notifies only when asked. */
  private recompute(m: Member, notify = true): boolean {
    let up = true;
    let reason = '';
    let absolute: number | undefined;
    let delta = 0;
    let hasDelta = false;
    for (const p of m.probes) {
      if (!p.state.up) { if (up) reason = `${p.type}: ${p.state.reason}`; up = false; }
      if (p.state.weight !== undefined) absolute = p.state.weight;
      if (p.state.weightDelta !== undefined) { delta += p.state.weightDelta; hasDelta = true; }
    }
    if (up) reason = m.probes.map((p) => `${p.type}: ${p.state.reason}`).join('; ');
    let weight: number | undefined;
    if (absolute !== undefined || hasDelta) weight = Math.max(0, (absolute ?? m.configuredWeight) + delta);
    const changed = up !== m.up || weight !== m.weight;
    const upChanged = up !== m.up;
    m.up = up;
    m.weight = weight;
    m.reason = reason;
    if (upChanged && notify && this.running) {
      const script = up ? m.notifyUp : m.notifyDown;
      if (script) this.runScript(script);
    }
    return changed;
  }

  /** One event per real server and outcome, listing every service it changed in. */
  private emitChanges(members: Member[], now: number): void {
    const groups = new Map<string, HealthEvent>();
    const servicesTouched = new Set<ServiceState>();
    for (const m of members) {
      const k = `${m.rsKey}\u0000${m.up}\u0000${m.weight}\u0000${m.reason}`;
      let e = groups.get(k);
      if (!e) {
        const checker = (m.probes.find((p) => !p.state.up) ?? m.probes[0])?.type;
        e = { rsKey: m.rsKey, serviceIds: [], up: m.up, reason: m.reason, at: now, ...(checker ? { checker } : {}) };
        if (m.weight !== undefined) e.weight = m.weight;
        groups.set(k, e);
      }
      e.serviceIds.push(m.serviceId);
      const svc = this.services.get(m.serviceId);
      if (svc) servicesTouched.add(svc);
    }
    // The listener logs the change (the director: "real server X is up|down", with its reason).
    for (const e of groups.values()) this.emit('change', e);
    for (const svc of servicesTouched) this.updateQuorum(svc, now);
  }

  private serviceLiveWeight(svc: ServiceState): number {
    const servers = svc.members.map((m) => ({ up: m.up, weight: m.weight ?? m.configuredWeight }));
    for (const u of svc.def.uncheckedRealServers ?? []) servers.push({ up: true, weight: u.weight ?? 1 });
    return liveWeight(servers);
  }

  private quorumEvent(svc: ServiceState, threshold: number): QuorumEvent {
    return {
      serviceId: svc.def.id,
      quorumUp: svc.quorumUp,
      sorryServerActive: sorryServerActive(svc.quorumUp, svc.def.sorry_server !== undefined),
      liveWeight: this.serviceLiveWeight(svc),
      threshold,
      at: this.clock.now(),
    };
  }

  private updateQuorum(svc: ServiceState, now: number): void {
    if (!this.running) return;
    const live = this.serviceLiveWeight(svc);
    const step = nextQuorumState(svc.quorumUp, live, svc.def);
    if (!step.changed) return;
    svc.quorumUp = step.up;
    const e = { ...this.quorumEvent(svc, step.threshold), at: now };
    this.logger?.info({ service: svc.def.id, live, threshold: step.threshold, sorry: e.sorryServerActive },
      `${step.up ? 'gained' : 'lost'} quorum`);
    this.emit('quorum', e);
    const script = step.up ? svc.def.quorum_up : svc.def.quorum_down;
    if (script) this.runScript(script);
  }
}
