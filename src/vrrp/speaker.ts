// The VRRP speaker: the thin shell around the pure state machine (state.ts). It wires timers
// and sockets to the state machines and tells the director which VIPs it owns (onOwnership),
// so the dataplane forwards for exactly those. The decisions live in pure modules (settings,
// tracking, sync-group, notify-plan, reload); the other I/O in small shells (vips, addresses,
// track-scripts, link-poll, interface-io, os/notify).

import { performance } from 'node:perf_hooks';

import { numberToIp } from '../packet/addr.js';
import type { ReceivedPacket } from '../os/raw-sockets.js';
import { addressListMatches, classifyAdvert, classifyAdvert6, DropLogLimiter } from './adverts.js';
import type { VrrpConfig, VrrpInstanceConfig } from './config.js';
import { createInstance, reconfigureInstance, sendAdvert, type Instance, type InstanceContext } from './instance.js';
import { detachInstance, interfaceIoKey, openInterfaceIo, primaryAddress, socketsOf, type InterfaceIo } from './interface-io.js';
import { TrackingPoller } from './link-poll.js';
import { VrrpNotifier } from './notifier.js';
import { planVrrpReload, type InstanceUpdate, type VrrpReloadPlan } from './reload.js';
import { stripPrefix } from './settings.js';
import { coverTiming } from './stall-cover.js';
import { step, type VrrpAction, type VrrpEvent, type VrrpState } from './state.js';
import { instanceStatus, type InstanceStatus, type VrrpCounter } from './status.js';
import { faultReason, groupMove, syncGroupsByInstance } from './sync-group.js';
import { TrackScripts } from './track-scripts.js';
import { effectivePriority } from './tracking.js';
import { GarpSender } from './vips.js';

// Part of the speaker's public face since they were defined here.
export { primaryAddress };
export type { InstanceStatus, VrrpCounter };

/** pino-compatible subset. */
export interface SpeakerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SpeakerOptions {
  config: VrrpConfig;
  /** Called with every VIP (no prefix) this director holds as MASTER, whenever that set changes. */
  /** Resolves once the dataplane forwards exactly these VIPs (the speaker then adds addresses and GARPs). */
  onOwnership?: (vips: string[]) => void | Promise<void>;
  /** Called after every state transition. */
  onTransition?: (instance: string, from: VrrpState, to: VrrpState, reason: string) => void;
  /** Called when a sync group as a whole moves (its notify scripts run then too). */
  onGroupMove?: (group: string, to: VrrpState) => void;
  logger?: SpeakerLogger;
  /** How often link state and track_files are read (ms). keepalived uses netlink; 200 ms is close. */
  pollIntervalMs?: number;
}

const DEFAULT_POLL_MS = 200;
/** A drop is logged once per peer and reason per this many ms (issue 5: rate-limited). */
const DROP_LOG_INTERVAL_MS = 60_000;

const silentLogger: SpeakerLogger = { info() {}, warn() {}, error() {} };

export class VrrpSpeaker {
  private readonly log: SpeakerLogger;
  private readonly notifier: VrrpNotifier;
  private readonly instances: Instance[] = [];
  private readonly interfaces = new Map<string, InterfaceIo<Instance>>();
  private readonly garp: GarpSender;
  private readonly scripts = new TrackScripts((name, up) => this.onScriptChanged(name, up), { warn: (o, m) => this.log.warn(o, m) });
  private readonly dropLog = new DropLogLimiter(DROP_LOG_INTERVAL_MS);
  private lastOwnership = '';
  private started = false;
  private stopping = false;
  private readonly poller = new TrackingPoller(() => this.instances, (inst) => {
    if (this.started && inst.runtime.state !== 'INIT') this.applyTracking(inst);
  });
  /** The running configuration: the options' at first, then each reload's. */
  private config: VrrpConfig;

  private readonly instanceContext: InstanceContext;

  constructor(private readonly options: SpeakerOptions) {
    this.log = options.logger ?? silentLogger;
    this.notifier = new VrrpNotifier(this.log, () => this.config.run_as);
    this.config = options.config;
    this.garp = new GarpSender(() => (this.config.vrrp_garp_interval ?? 0) * 1000, this.log,
      () => (this.config.vrrp_gna_interval ?? 0) * 1000);
    this.instanceContext = {
      interfaceIo: (name, family) => this.interfaceIo(name, family),
      scriptVerdict: (name) => this.scripts.verdict(name),
      defaultMcastGroup: () => this.config.vrrp_mcast_group4,
      defaultMcastGroup6: () => this.config.vrrp_mcast_group6,
      garp: this.garp,
      log: this.log,
      onVipsChanged: () => this.publishOwnership(),
    };
  }

  /** Opens sockets, starts tracking and the state machines (all instances enter INIT -> ...). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { config } = this;
    for (const [name, cfg] of Object.entries(config.vrrp_scripts ?? {})) this.scripts.define(name, cfg);
    try {
      for (const cfg of config.vrrp_instances) this.instances.push(createInstance(cfg, this.instanceContext));
    } catch (err) {
      // Bad interface or config: release what was opened so a retry starts clean.
      for (const io of this.interfaces.values()) for (const socket of socketsOf(io)) socket.close();
      this.interfaces.clear();
      this.instances.length = 0;
      this.scripts.clear();
      this.started = false;
      throw err;
    }
    this.assignSyncGroups();
    for (const io of this.interfaces.values()) this.startReceiving(io);
    this.scripts.startAll();
    await this.poller.pollNow();
    for (const inst of this.instances) this.startInstance(inst);
    this.poller.startEvery(this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
  }

  /**
   * Graceful stop: a MASTER sends priority 0 so the Backup takes over after Skew_Time
   * (RFC 3768 6.4.3), VIPs are removed, notify_stop runs. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.poller.stop();
    this.scripts.stop();
    for (const inst of this.instances) this.dispatch(inst, { type: 'shutdown' });
    // keepalived notify_shutdown: every instance's STOP, then every sync group's.
    for (const group of this.config.vrrp_sync_groups ?? []) this.notifier.groupMoved(group.name, group, 'STOP');
    await Promise.all(this.instances.map((inst) => inst.vips.settled()));
    for (const inst of this.instances) {
      if (inst.timer) clearTimeout(inst.timer);
      inst.vips.stopGarps();
    }
    for (const io of this.interfaces.values()) for (const socket of socketsOf(io)) socket.close();
    this.garp.close();
  }

  status(): InstanceStatus[] {
    return this.instances.map(instanceStatus);
  }

  /** VIPs (no prefix) held by MASTER instances. */
  ownedVips(): string[] {
    const out: string[] = [];
    for (const inst of this.instances) {
      if (inst.vips.holds) for (const v of inst.vips.held) out.push(stripPrefix(v.address));
    }
    return out.sort();
  }

  /**
   * Applies a new configuration without flapping (issue 6): unchanged instances keep state and
   * timers; changed ones are updated in place (a MASTER stays MASTER: a lower priority is
   * advertised at once and a preempting peer decides); VIPs added or removed while MASTER go
   * on or off the interface, new ones with GARPs; removed instances stop as on shutdown
   * (priority 0, VIPs removed, notify_stop); added ones start. A change of interface, VRID or
   * version is a different virtual router: stop and start. Resolves once VIP work is done.
   */
  async reload(newConfig: VrrpConfig): Promise<VrrpReloadPlan> {
    const plan = planVrrpReload(this.config, newConfig);
    if (!this.started || this.stopping) {
      this.config = newConfig;
      return plan;
    }
    const nextByName = new Map(newConfig.vrrp_instances.map((i) => [i.name, i]));

    // Scripts first: updated and added instances refer to them.
    for (const name of plan.scriptsAdded) this.scripts.add(name, newConfig.vrrp_scripts![name]);
    for (const name of plan.scriptsChanged) this.scripts.change(name, newConfig.vrrp_scripts![name]);

    for (const name of plan.removed) {
      const inst = this.instances.find((i) => i.cfg.name === name);
      if (inst) await this.removeInstance(inst);
    }
    const oldConfig = this.config;
    this.config = newConfig;
    this.assignSyncGroups();
    for (const name of plan.syncGroupsChanged) this.notifier.forgetGroup(name);

    for (const update of plan.updated) {
      const inst = this.instances.find((i) => i.cfg.name === update.name);
      const cfg = nextByName.get(update.name);
      if (!inst || !cfg) continue;
      try {
        this.updateInstance(inst, cfg, update);
      } catch (err) {
        this.log.error({ instance: update.name, err: String(err) }, 'vrrp instance not updated: it keeps its previous settings');
      }
    }

    for (const name of plan.scriptsRemoved) this.scripts.remove(name);

    const added: Instance[] = [];
    for (const name of plan.added) {
      try {
        const inst = createInstance(nextByName.get(name)!, this.instanceContext);
        this.instances.push(inst);
        added.push(inst);
        this.startReceiving(inst.io);
      } catch (err) {
        this.log.error({ instance: name, err: String(err) }, 'vrrp instance not started');
      }
    }
    if (added.length > 0) {
      this.assignSyncGroups();
      // Read link and file state before the new state machines start, as start() does.
      await this.poller.settled();
      await this.poller.pollNow();
      for (const inst of added) this.startInstance(inst);
    }
    this.log.info({
      unchanged: plan.unchanged, updated: plan.updated.map((u) => `${u.name}(${u.changed.join(',')})`),
      removed: plan.removed, added: plan.added,
      scripts: { added: plan.scriptsAdded, removed: plan.scriptsRemoved, changed: plan.scriptsChanged },
      syncGroups: plan.syncGroupsChanged, mcastGroupChanged: oldConfig.vrrp_mcast_group4 !== newConfig.vrrp_mcast_group4 || oldConfig.vrrp_mcast_group6 !== newConfig.vrrp_mcast_group6,
    }, 'vrrp configuration reloaded');
    await Promise.all(this.instances.map((inst) => inst.vips.settled()));
    this.publishOwnership();
    return plan;
  }

  /** Stops one instance as stop() stops them all, then forgets it. */
  private async removeInstance(inst: Instance): Promise<void> {
    this.dispatch(inst, { type: 'shutdown' });
    await inst.vips.settled();
    if (inst.timer) clearTimeout(inst.timer);
    inst.vips.stopGarps();
    inst.timer = null;
    this.instances.splice(this.instances.indexOf(inst), 1);
    if (detachInstance(inst.io, inst)) this.interfaces.delete(interfaceIoKey(inst.io.name, inst.io.family));
  }

  /** Same virtual router, new settings: state, master and timers stay. */
  private updateInstance(inst: Instance, cfg: VrrpInstanceConfig, update: InstanceUpdate): void {
    reconfigureInstance(inst, cfg, this.instanceContext);
    // Peers, interval or auth may have changed: the adverts sent next arm the cover again.
    this.withdrawCover(inst);
    this.startReceiving(inst.io); // a switch to auth_type AH opened the AH socket
    if (update.vipsAdded.length > 0 || update.vipsRemoved.length > 0) inst.vips.reconcile();
    const priorityBefore = inst.params.priority;
    this.applyTracking(inst);
    // Peers learn the new priority, interval, auth and VIP list at once (applyTracking already
    // advertised a priority change), and the next advert follows the new interval.
    if (inst.runtime.state === 'MASTER') {
      if (inst.params.priority === priorityBefore) this.sendAdvert(inst, inst.params.priority);
      this.setTimer(inst, performance.now() + inst.params.advertIntervalCs * 10);
    }
  }

  /** The first event of a new state machine: FAULT straight away if tracking says so. */
  private startInstance(inst: Instance): void {
    if (inst.tracked.length > 0) this.applyPriority(inst);
    const fault = faultReason(inst, this.instances);
    this.dispatch(inst, fault ? { type: 'fault', why: fault } : { type: 'startup' });
  }

  private startReceiving(io: InterfaceIo<Instance>): void {
    if (!io.receiving) {
      io.receiving = true;
      io.socket.start((packets) => this.onPackets(io, packets));
    }
    // An AH socket may arrive later (a reload adds the first AH instance of the interface).
    if (io.ahSocket && !io.ahReceiving) {
      io.ahReceiving = true;
      io.ahSocket.start((packets) => this.onPackets(io, packets));
    }
  }

  private assignSyncGroups(): void {
    const groups = syncGroupsByInstance(this.config.vrrp_sync_groups, this.instances.map((i) => i.cfg.name));
    for (const inst of this.instances) inst.syncGroup = groups.get(inst.cfg.name) ?? null;
  }

  private interfaceIo(name: string, family: 4 | 6): InterfaceIo<Instance> {
    const key = interfaceIoKey(name, family);
    let io = this.interfaces.get(key);
    if (io) return io;
    io = openInterfaceIo<Instance>(name, family);
    this.interfaces.set(key, io);
    return io;
  }

  // ---- the state machine driver ----

  /** `propagate` false: a move made to follow the sync group, which must not echo back. */
  private dispatch(inst: Instance, ev: VrrpEvent, propagate = true): void {
    const before = inst.runtime.state;
    const { runtime, actions } = step(inst.params, inst.runtime, ev, performance.now());
    inst.runtime = runtime;
    if (runtime.state !== before) inst.wallTransitionAt = Date.now();
    for (const action of actions) this.perform(inst, action);
    if (runtime.state !== 'MASTER' && inst.coveredDsts.size) this.withdrawCover(inst);
    if (runtime.state === before || !runtime.lastTransition) return;
    const { from, to, reason } = runtime.lastTransition;
    this.log.info({ instance: inst.cfg.name, from, to, reason, priority: inst.params.priority }, 'vrrp transition');
    this.options.onTransition?.(inst.cfg.name, from, to, reason);
    // Sync groups: the others follow, but a followed move does not propagate again.
    const move = groupMove(inst, this.instances, ev, propagate, runtime.lastTransition);
    if (move === null) return;
    this.notifier.groupMoved(move.group, this.config.vrrp_sync_groups?.find((g) => g.name === move.group), move.to);
    this.options.onGroupMove?.(move.group, move.to);
    for (const follower of move.followers) {
      for (const event of follower.events) this.dispatch(follower.member, event, false);
    }
  }

  private perform(inst: Instance, action: VrrpAction): void {
    switch (action.type) {
      case 'sendAdvert': this.sendAdvert(inst, action.priority); break;
      case 'setTimer': this.setTimer(inst, action.at); break;
      case 'cancelTimer':
        if (inst.timer) clearTimeout(inst.timer);
        inst.timer = null;
        break;
      case 'addVips': inst.vips.add(); break;
      case 'removeVips': inst.vips.remove(); break;
      case 'sendGarp': inst.vips.announce(); break;
      case 'notify': this.notifier.instanceMoved(inst.cfg, action.state, inst.params.priority); break;
    }
  }

  private setTimer(inst: Instance, at: number): void {
    if (inst.timer) clearTimeout(inst.timer);
    const timer = setTimeout(() => {
      inst.timer = null;
      if (this.stopping) return;
      // libuv runs due timers before it polls sockets: after a stall of the main thread the
      // master's adverts may wait unread while the master-down timer fires. Read them first;
      // one that re-armed the timer means the master is alive.
      for (const socket of socketsOf(inst.io)) socket.drain();
      if (inst.timer !== null || this.stopping) return;
      this.dispatch(inst, { type: 'timer' });
    }, Math.max(0, at - performance.now()));
    inst.timer = timer;
  }

  // ---- wire ----

  private sendAdvert(inst: Instance, priority: number): void {
    // A MASTER's adverts are also handed to the stall cover, which resends one when this
    // thread is late (coverTiming). Priority 0 (leaving) is never repeated.
    const cover = inst.runtime.state === 'MASTER' && priority > 0
      ? (dst: string, packet: Uint8Array) => {
        const t = coverTiming(inst.params.advertIntervalCs);
        inst.io.socket.coverAdvert(`${inst.cfg.name}/${dst}`, dst, packet, t.intervalMs, t.lateMs, t.giveUpMs);
        inst.coveredDsts.add(dst);
      }
      : undefined;
    // The interface may be down (FAULT follows from tracking): count, don't throw.
    for (const failure of sendAdvert(inst, priority, cover)) this.countDrop(inst, 'send_failed', failure.dst, failure.err);
  }

  /** No more stall cover for the instance (it left MASTER, or stops). */
  private withdrawCover(inst: Instance): void {
    for (const dst of inst.coveredDsts) inst.io.socket.withdrawAdvert(`${inst.cfg.name}/${dst}`);
    inst.coveredDsts.clear();
  }

  private onPackets(io: InterfaceIo<Instance>, packets: ReceivedPacket[]): void {
    if (this.stopping) return;
    if (io.family === 6) { this.onPackets6(io, packets); return; }
    for (const packet of packets) {
      const verdict = classifyAdvert(io.instances, packet.data);
      if (!verdict.accepted) {
        if (verdict.inst) this.countDrop(verdict.inst, verdict.reason, verdict.peer, verdict.detail);
        continue;
      }
      const { inst, advert } = verdict;
      if (verdict.ahSeq !== null && inst.ah) inst.ah.seq = verdict.ahSeq;
      inst.advertsReceived++;
      if (!this.config.vrrp_skip_check_adv_addr && !addressListMatches(advert.addresses, inst.vipNumbers)) {
        inst.drops.addr_list_mismatch = (inst.drops.addr_list_mismatch ?? 0) + 1;
        const peer = numberToIp(advert.srcIp);
        if (this.dropLog.shouldLog(`${inst.cfg.name}/${peer}/addr_list`, performance.now())) {
          this.log.warn({ instance: inst.cfg.name, peer, theirs: advert.addresses.map(numberToIp), ours: inst.vipNumbers.map(numberToIp) }, 'vrrp advert lists other VIPs than ours (taken; vrrp_skip_check_adv_addr silences this)');
        }
      }
      this.dispatch(inst, { type: 'advert', priority: advert.priority, srcIp: advert.srcIp, intervalCs: advert.intervalCs });
    }
  }

  private onPackets6(io: InterfaceIo<Instance>, packets: ReceivedPacket[]): void {
    for (const packet of packets) {
      const verdict = classifyAdvert6(io.instances, packet);
      if (!verdict.accepted) {
        if (verdict.inst) this.countDrop(verdict.inst, verdict.reason, verdict.peer, verdict.detail);
        continue;
      }
      const { inst, advert } = verdict;
      inst.advertsReceived++;
      if (!this.config.vrrp_skip_check_adv_addr && !addressListMatches(advert.addresses, inst.vips6)) {
        inst.drops.addr_list_mismatch = (inst.drops.addr_list_mismatch ?? 0) + 1;
        if (this.dropLog.shouldLog(`${inst.cfg.name}/${advert.source}/addr_list`, performance.now())) {
          this.log.warn({ instance: inst.cfg.name, peer: advert.source, theirs: advert.addresses, ours: inst.vips6 }, 'vrrp advert lists other VIPs than ours (taken; vrrp_skip_check_adv_addr silences this)');
        }
      }
      this.dispatch(inst, { type: 'advert', priority: advert.priority, srcIp: advert.srcIp, intervalCs: advert.intervalCs });
    }
  }

  private countDrop(inst: Instance, reason: VrrpCounter, peer: string, detail: string): void {
    inst.drops[reason] = (inst.drops[reason] ?? 0) + 1;
    if (this.dropLog.shouldLog(`${inst.cfg.name}/${peer}/${reason}`, performance.now())) {
      this.log.warn({ instance: inst.cfg.name, peer, reason, detail }, 'vrrp advert dropped');
    }
  }

  private async publishOwnership(): Promise<void> {
    const vips = this.ownedVips();
    const key = vips.join(',');
    if (key === this.lastOwnership) return;
    this.lastOwnership = key;
    await this.options.onOwnership?.(vips);
  }

  // ---- tracking ----

  private onScriptChanged(name: string, up: boolean): void {
    this.log.info({ script: name, up }, 'vrrp_script changed');
    for (const inst of this.instances) {
      const index = inst.scriptNames.get(name);
      if (index === undefined) continue;
      inst.tracked[index].up = up;
      this.applyTracking(inst);
    }
  }

  private applyPriority(inst: Instance): void {
    inst.params = { ...inst.params, priority: effectivePriority(inst.params.basePriority, inst.tracked).effective };
  }

  private applyTracking(inst: Instance): void {
    if (this.stopping) return;
    const before = inst.params.priority;
    this.applyPriority(inst);
    if (inst.params.priority !== before) {
      this.log.info({ instance: inst.cfg.name, from: before, to: inst.params.priority }, 'vrrp priority changed');
      // A MASTER tells the Backups at once, so a lower priority hands over without waiting.
      if (inst.runtime.state === 'MASTER') this.sendAdvert(inst, inst.params.priority);
    }
    const fault = faultReason(inst, this.instances);
    if (fault && inst.runtime.state !== 'FAULT') this.dispatch(inst, { type: 'fault', why: fault });
    else if (!fault && inst.runtime.state === 'FAULT') this.dispatch(inst, { type: 'faultCleared' });
  }
}
