// The VRRP speaker: the thin shell around the pure state machine (state.ts). It owns the
// timers, the raw sockets, the VIPs on the interfaces, GARPs, tracking and notify scripts,
// and tells the director which VIPs it owns (onOwnership) so the dataplane forwards for
// exactly those.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';

import { ipToNumber, numberToIp, parseMac } from '../packet/addr.js';
import { addressLedger } from '../os/address-ledger.js';
import {
  AUTH_NONE, AUTH_PASS, VRRP_MCAST_GROUP, VRRP_PROTOCOL, VRRP_TTL, checkAdvert, decodePacket,
  encodeAdvertPacket, type AdvertExpectation, type DropReason,
} from './codec.js';
import type { VirtualIpaddressConfig, VrrpConfig, VrrpInstanceConfig, VrrpScriptConfig } from './config.js';
import { buildGarp } from './garp.js';
import { planVrrpReload, vipKey, type InstanceUpdate, type VrrpReloadPlan } from './reload.js';
import { openPacketSocket, openRawSocket, type PacketSocket, type RawSocket, type ReceivedPacket } from '../os/raw-sockets.js';
import {
  initialRuntime, step, type InstanceParams, type InstanceRuntime, type VrrpAction, type VrrpEvent, type VrrpState,
} from './state.js';
import { RiseFall, effectivePriority, type TrackedState } from './tracking.js';

/** pino-compatible subset. */
export interface SpeakerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SpeakerOptions {
  config: VrrpConfig;
  /** Called with every VIP (no prefix) this director holds as MASTER, whenever that set changes. */
  onOwnership?: (vips: string[]) => void;
  /** Called after every state transition. */
  onTransition?: (instance: string, from: VrrpState, to: VrrpState, reason: string) => void;
  logger?: SpeakerLogger;
  /** How often link state and track_files are read (ms). keepalived uses netlink; 200 ms is close. */
  pollIntervalMs?: number;
}

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  state: VrrpState;
  priority: number;
  configuredPriority: number;
  masterIp: string | null;
  vips: string[];
  lastTransition: { at: string; from: VrrpState; to: VrrpState; reason: string } | null;
  drops: Partial<Record<VrrpCounter, number>>;
  advertsSent: number;
  advertsReceived: number;
}

/** Counters per instance: every dropped advert by reason, and failed sends. */
export type VrrpCounter = DropReason | 'unknown_peer' | 'send_failed';

const DEFAULT_POLL_MS = 200;
/** A drop is logged once per peer and reason per this many ms (issue 5: rate-limited). */
const DROP_LOG_INTERVAL_MS = 60_000;

const silentLogger: SpeakerLogger = { info() {}, warn() {}, error() {} };

interface InterfaceIo {
  name: string;
  socket: RawSocket;
  groups: Set<string>;
  instances: Instance[];
  receiving: boolean;
}

interface Instance {
  cfg: VrrpInstanceConfig;
  params: InstanceParams;
  runtime: InstanceRuntime;
  io: InterfaceIo;
  expectation: AdvertExpectation;
  mcastGroup: string;
  peers: string[];
  vipNumbers: number[];
  timer: NodeJS.Timeout | null;
  garpTimers: NodeJS.Timeout[];
  /** VIP work (ip addr add/del, GARP) runs in order, one at a time. */
  queue: Promise<void>;
  holdsVips: boolean;
  /** The VIPs actually on the interface (a reload may change cfg while MASTER). */
  held: VirtualIpaddressConfig[];
  tracked: TrackedState[];
  scriptNames: Map<string, number>;
  wallTransitionAt: number;
  drops: Partial<Record<VrrpCounter, number>>;
  advertsSent: number;
  advertsReceived: number;
  syncGroup: string | null;
}

interface ScriptRunner {
  name: string;
  cfg: VrrpScriptConfig;
  damping: RiseFall;
  timer: NodeJS.Timeout | null;
  running: boolean;
}

export class VrrpSpeaker {
  private readonly log: SpeakerLogger;
  private readonly instances: Instance[] = [];
  private readonly interfaces = new Map<string, InterfaceIo>();
  private readonly packetSockets = new Map<string, PacketSocket>();
  private readonly scripts = new Map<string, ScriptRunner>();
  private readonly dropLoggedAt = new Map<string, number>();
  /** Last state each sync group announced (group notify runs once per group move). */
  private readonly groupStates = new Map<string, VrrpState>();
  private pollTimer: NodeJS.Timeout | null = null;
  private lastOwnership = '';
  private started = false;
  private stopping = false;
  private pollInFlight: Promise<void> | null = null;
  /** The running configuration: the options' at first, then each reload's. */
  private config: VrrpConfig;

  constructor(private readonly options: SpeakerOptions) {
    this.log = options.logger ?? silentLogger;
    this.config = options.config;
  }

  /** Opens sockets, starts tracking and the state machines (all instances enter INIT -> ...). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { config } = this;
    for (const [name, cfg] of Object.entries(config.vrrp_scripts ?? {})) this.scripts.set(name, newScriptRunner(name, cfg));
    try {
      for (const cfg of config.vrrp_instances) this.instances.push(this.createInstance(cfg));
    } catch (err) {
      // Bad interface or config: release what was opened so a retry starts clean.
      for (const io of this.interfaces.values()) io.socket.close();
      this.interfaces.clear();
      this.instances.length = 0;
      this.scripts.clear();
      this.started = false;
      throw err;
    }
    this.assignSyncGroups();
    for (const io of this.interfaces.values()) this.startReceiving(io);
    for (const runner of this.scripts.values()) this.scheduleScript(runner, 0);
    await this.pollTracking();
    for (const inst of this.instances) {
      if (inst.tracked.length > 0) this.applyPriority(inst);
      const fault = this.faultReason(inst);
      this.dispatch(inst, fault ? { type: 'fault', why: fault } : { type: 'startup' });
    }
    this.pollTimer = setInterval(() => { void this.pollTracking(); }, this.options.pollIntervalMs ?? DEFAULT_POLL_MS);
    this.pollTimer.unref();
  }

  /**
   * Graceful stop: a MASTER sends priority 0 so the Backup takes over after Skew_Time
   * (RFC 3768 6.4.3), VIPs are removed, notify_stop runs. Idempotent.
   */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const runner of this.scripts.values()) if (runner.timer) clearTimeout(runner.timer);
    for (const inst of this.instances) this.dispatch(inst, { type: 'shutdown' });
    await Promise.all(this.instances.map((inst) => inst.queue));
    for (const inst of this.instances) {
      if (inst.timer) clearTimeout(inst.timer);
      for (const t of inst.garpTimers) clearTimeout(t);
    }
    for (const io of this.interfaces.values()) {
      io.socket.close();
    }
    for (const packet of this.packetSockets.values()) packet.close();
  }

  status(): InstanceStatus[] {
    return this.instances.map((inst) => ({
      name: inst.cfg.name,
      interface: inst.cfg.interface,
      vrid: inst.cfg.virtual_router_id,
      version: inst.params.version,
      state: inst.runtime.state,
      priority: inst.params.priority,
      configuredPriority: inst.params.basePriority,
      masterIp: inst.runtime.masterIp === null ? null : numberToIp(inst.runtime.masterIp),
      vips: inst.cfg.virtual_ipaddress.map((v) => v.address),
      lastTransition: inst.runtime.lastTransition === null ? null : {
        at: new Date(inst.wallTransitionAt).toISOString(),
        from: inst.runtime.lastTransition.from,
        to: inst.runtime.lastTransition.to,
        reason: inst.runtime.lastTransition.reason,
      },
      drops: { ...inst.drops },
      advertsSent: inst.advertsSent,
      advertsReceived: inst.advertsReceived,
    }));
  }

  /** VIPs (no prefix) held by MASTER instances. */
  ownedVips(): string[] {
    const out: string[] = [];
    for (const inst of this.instances) {
      if (inst.holdsVips) for (const v of inst.held) out.push(stripPrefix(v.address));
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
    for (const name of plan.scriptsAdded) {
      const runner = newScriptRunner(name, newConfig.vrrp_scripts![name]);
      this.scripts.set(name, runner);
      this.scheduleScript(runner, 0);
    }
    for (const name of plan.scriptsChanged) {
      const runner = this.scripts.get(name)!;
      const cfg = newConfig.vrrp_scripts![name];
      // The verdict so far stays; only the damping thresholds and timings change.
      runner.damping = new RiseFall(cfg.rise ?? 1, cfg.fall ?? 1, runner.damping.up);
      runner.cfg = cfg;
      if (!runner.running) { if (runner.timer) clearTimeout(runner.timer); this.scheduleScript(runner, 0); }
    }

    for (const name of plan.removed) {
      const inst = this.instances.find((i) => i.cfg.name === name);
      if (inst) await this.removeInstance(inst);
    }
    const oldConfig = this.config;
    this.config = newConfig;
    this.assignSyncGroups();
    for (const name of plan.syncGroupsChanged) this.groupStates.delete(name);

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

    for (const name of plan.scriptsRemoved) {
      const runner = this.scripts.get(name);
      if (runner?.timer) clearTimeout(runner.timer);
      this.scripts.delete(name);
    }

    const added: Instance[] = [];
    for (const name of plan.added) {
      try {
        const inst = this.createInstance(nextByName.get(name)!);
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
      if (this.pollInFlight) await this.pollInFlight.catch(() => undefined);
      await this.pollTracking();
      for (const inst of added) {
        if (inst.tracked.length > 0) this.applyPriority(inst);
        const fault = this.faultReason(inst);
        this.dispatch(inst, fault ? { type: 'fault', why: fault } : { type: 'startup' });
      }
    }
    this.log.info({
      unchanged: plan.unchanged, updated: plan.updated.map((u) => `${u.name}(${u.changed.join(',')})`),
      removed: plan.removed, added: plan.added,
      scripts: { added: plan.scriptsAdded, removed: plan.scriptsRemoved, changed: plan.scriptsChanged },
      syncGroups: plan.syncGroupsChanged, mcastGroupChanged: oldConfig.vrrp_mcast_group4 !== newConfig.vrrp_mcast_group4,
    }, 'vrrp configuration reloaded');
    await Promise.all(this.instances.map((inst) => inst.queue));
    this.publishOwnership();
    return plan;
  }

  /** Stops one instance as stop() stops them all, then forgets it. */
  private async removeInstance(inst: Instance): Promise<void> {
    this.dispatch(inst, { type: 'shutdown' });
    await inst.queue;
    if (inst.timer) clearTimeout(inst.timer);
    for (const t of inst.garpTimers) clearTimeout(t);
    inst.timer = null;
    inst.garpTimers = [];
    this.instances.splice(this.instances.indexOf(inst), 1);
    const io = inst.io;
    io.instances.splice(io.instances.indexOf(inst), 1);
    if (io.instances.length === 0) {
      io.socket.close();
      this.interfaces.delete(io.name);
    } else if (io.groups.has(inst.mcastGroup) && !io.instances.some((i) => i.peers.length === 0 && i.mcastGroup === inst.mcastGroup)) {
      try { io.socket.leaveGroup(inst.mcastGroup, io.name); } catch { /* the group goes with the socket anyway */ }
      io.groups.delete(inst.mcastGroup);
    }
  }

  /** Same virtual router, new settings: state, master and timers stay. */
  private updateInstance(inst: Instance, cfg: VrrpInstanceConfig, update: InstanceUpdate): void {
    const version = inst.params.version;
    const advertIntervalCs = advertIntervalCsOf(cfg, version);
    const vipNumbers = cfg.virtual_ipaddress.map((v) => ipToNumber(stripPrefix(v.address)));
    const primary = cfg.unicast_src_ip ?? primaryAddress(cfg.interface, vipNumbers);
    const primaryIp = primary === null ? inst.params.primaryIp : ipToNumber(primary);
    const { tracked, scriptNames } = this.buildTracking(cfg, inst.tracked);
    const basePriority = cfg.priority ?? 100;
    const pass = cfg.authentication?.auth_type === 'PASS' ? cfg.authentication.auth_pass : '';
    const peers = cfg.unicast_peer ?? [];
    const mcastGroup = cfg.mcast_dst_ip ?? this.config.vrrp_mcast_group4 ?? VRRP_MCAST_GROUP;
    if (peers.length === 0 && !inst.io.groups.has(mcastGroup)) {
      inst.io.socket.joinGroup(mcastGroup, cfg.interface);
      inst.io.groups.add(mcastGroup);
    }
    // From here nothing throws: the instance switches to the new settings as a whole.
    inst.cfg = cfg;
    // `priority` stays the old effective one so applyTracking sees (and advertises) a change.
    inst.params = {
      ...inst.params, advertIntervalCs, basePriority, primaryIp,
      preempt: !(cfg.nopreempt ?? false), preemptDelayMs: (cfg.preempt_delay ?? 0) * 1000,
      initialState: cfg.state ?? 'BACKUP',
    };
    // v2 uses its own interval as Master_Adver_Interval; v3 keeps what it learnt from the master.
    if (version === 2 || inst.runtime.state === 'MASTER') inst.runtime = { ...inst.runtime, masterAdverIntervalCs: advertIntervalCs };
    if (inst.runtime.state === 'MASTER') inst.runtime = { ...inst.runtime, masterIp: primaryIp };
    inst.expectation = {
      version, vrid: cfg.virtual_router_id, intervalCs: advertIntervalCs,
      authType: pass ? AUTH_PASS : AUTH_NONE, authPass: pass, ownIps: [primaryIp],
    };
    inst.peers = peers;
    inst.mcastGroup = mcastGroup;
    inst.vipNumbers = vipNumbers;
    inst.tracked = tracked;
    inst.scriptNames = scriptNames;

    if (update.vipsAdded.length > 0 || update.vipsRemoved.length > 0) {
      this.enqueue(inst, () => this.applyVipChanges(inst));
    }
    const priorityBefore = inst.params.priority;
    this.applyTracking(inst);
    // Peers learn the new priority, interval, auth and VIP list at once (applyTracking already
    // advertised a priority change), and the next advert follows the new interval.
    if (inst.runtime.state === 'MASTER') {
      if (inst.params.priority === priorityBefore) this.sendAdvert(inst, inst.params.priority);
      this.setTimer(inst, performance.now() + advertIntervalCs * 10);
    }
  }

  /** While MASTER: the interface gets exactly the configured VIPs; new ones are announced. */
  private async applyVipChanges(inst: Instance): Promise<void> {
    if (!inst.holdsVips) return;
    const dev = inst.cfg.interface;
    const wanted = new Set(inst.cfg.virtual_ipaddress.map((v) => vipKey(v, dev)));
    const gone = inst.held.filter((v) => !wanted.has(vipKey(v, dev)));
    if (gone.length > 0) {
      // Stop forwarding before the address goes, as removeVips does.
      inst.held = inst.held.filter((v) => wanted.has(vipKey(v, dev)));
      this.publishOwnership();
      for (const vip of gone) await ipAddr('del', vip, dev);
    }
    const heldKeys = new Set(inst.held.map((v) => vipKey(v, dev)));
    const fresh = inst.cfg.virtual_ipaddress.filter((v) => !heldKeys.has(vipKey(v, dev)));
    if (fresh.length === 0 || !inst.holdsVips) return;
    for (const vip of fresh) await ipAddr('add', vip, dev);
    inst.held = [...inst.held, ...fresh];
    this.publishOwnership();
    const repeat = inst.cfg.garp_master_repeat ?? 5;
    this.sendGarpBurst(inst, repeat, fresh);
    const delay = inst.cfg.garp_master_delay ?? 5;
    if (delay > 0) {
      const t = setTimeout(() => this.sendGarpBurst(inst, repeat, fresh.filter((v) => inst.held.includes(v))), delay * 1000);
      t.unref();
      inst.garpTimers.push(t);
    }
  }

  // ---- setup ----

  private createInstance(cfg: VrrpInstanceConfig): Instance {
    const version = cfg.version ?? 2;
    const advertIntervalCs = advertIntervalCsOf(cfg, version);
    const vipNumbers = cfg.virtual_ipaddress.map((v) => ipToNumber(stripPrefix(v.address)));
    const primary = cfg.unicast_src_ip ?? primaryAddress(cfg.interface, vipNumbers);
    if (primary === null) throw new Error(`vrrp_instance ${cfg.name}: interface ${cfg.interface} has no IPv4 address`);
    const basePriority = cfg.priority ?? 100;
    const params: InstanceParams = {
      version, advertIntervalCs, priority: basePriority, basePriority,
      preempt: !(cfg.nopreempt ?? false), preemptDelayMs: (cfg.preempt_delay ?? 0) * 1000,
      initialState: cfg.state ?? 'BACKUP', primaryIp: ipToNumber(primary),
    };
    const pass = cfg.authentication?.auth_type === 'PASS' ? cfg.authentication.auth_pass : '';
    const peers = cfg.unicast_peer ?? [];
    const mcastGroup = cfg.mcast_dst_ip ?? this.config.vrrp_mcast_group4 ?? VRRP_MCAST_GROUP;
    const io = this.interfaceIo(cfg.interface);
    if (peers.length === 0 && !io.groups.has(mcastGroup)) {
      io.socket.joinGroup(mcastGroup, cfg.interface);
      io.groups.add(mcastGroup);
    }
    const { tracked, scriptNames } = this.buildTracking(cfg, []);
    const inst: Instance = {
      cfg, params, runtime: initialRuntime(params), io,
      expectation: {
        version, vrid: cfg.virtual_router_id, intervalCs: advertIntervalCs,
        authType: pass ? AUTH_PASS : AUTH_NONE, authPass: pass,
        ownIps: [params.primaryIp],
      },
      mcastGroup, peers, vipNumbers, timer: null, garpTimers: [], queue: Promise.resolve(),
      holdsVips: false, held: [], tracked, scriptNames, wallTransitionAt: 0, drops: {},
      advertsSent: 0, advertsReceived: 0, syncGroup: null,
    };
    io.instances.push(inst);
    return inst;
  }

  /**
   * The tracked objects of an instance. `previous` (a reload): objects that stay keep what was
   * last read (link state, file value), so a reload does not move the priority by itself.
   */
  private buildTracking(cfg: VrrpInstanceConfig, previous: readonly TrackedState[]): { tracked: TrackedState[]; scriptNames: Map<string, number> } {
    const tracked: TrackedState[] = [];
    const scriptNames = new Map<string, number>();
    const was = (name: string): TrackedState | undefined => previous.find((p) => p.name === name);
    // keepalived's `reverse`: the weight moves the priority the other way.
    const signed = (weight: number, reverse: boolean | undefined): number => (reverse ? -weight : weight);
    for (const t of cfg.track_interface ?? []) {
      const name = typeof t === 'string' ? t : t.name;
      const weight = typeof t === 'string' ? 0 : signed(t.weight ?? 0, t.reverse);
      tracked.push({ name: `interface:${name}`, weight, up: was(`interface:${name}`)?.up ?? true });
    }
    for (const t of cfg.track_script ?? []) {
      const name = typeof t === 'string' ? t : t.name;
      const script = this.scripts.get(name);
      if (!script) throw new Error(`vrrp_instance ${cfg.name}: track_script ${name} is not a vrrp_script`);
      const weight = typeof t === 'string' ? script.cfg.weight ?? 0 : signed(t.weight ?? script.cfg.weight ?? 0, t.reverse);
      scriptNames.set(name, tracked.length);
      tracked.push({ name: `script:${name}`, weight, up: script.damping.up });
    }
    for (const t of cfg.track_file ?? []) {
      const before = was(`file:${t.name}`);
      tracked.push({ name: `file:${t.name}`, weight: signed(t.weight ?? 1, t.reverse), up: true, fileValue: before?.fileValue ?? 0 });
    }
    const own = previous.find((p) => p.name.startsWith('own:'));
    if (own) tracked.push(own);
    return { tracked, scriptNames };
  }

  private startReceiving(io: InterfaceIo): void {
    if (io.receiving) return;
    io.receiving = true;
    io.socket.start((packets) => this.onPackets(io, packets));
  }

  private assignSyncGroups(): void {
    for (const inst of this.instances) inst.syncGroup = null;
    for (const group of this.config.vrrp_sync_groups ?? []) {
      for (const member of group.group) {
        const inst = this.instances.find((i) => i.cfg.name === member);
        if (inst) inst.syncGroup = group.name;
      }
    }
  }

  private interfaceIo(name: string): InterfaceIo {
    let io = this.interfaces.get(name);
    if (io) return io;
    const socket = openRawSocket(VRRP_PROTOCOL);
    try {
      socket.bindToDevice(name);
      socket.setHeaderIncluded(true);
      socket.setTtl(VRRP_TTL);
      socket.setMulticastLoop(false);
      socket.setMulticastInterface(name);
    } catch (err) {
      socket.close();
      throw err;
    }
    io = { name, socket, groups: new Set(), instances: [], receiving: false };
    this.interfaces.set(name, io);
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
    if (runtime.state !== before && runtime.lastTransition) {
      const { from, to, reason } = runtime.lastTransition;
      this.log.info({ instance: inst.cfg.name, from, to, reason, priority: inst.params.priority }, 'vrrp transition');
      this.options.onTransition?.(inst.cfg.name, from, to, reason);
      // Sync groups: the others follow, but a followed move does not propagate again.
      if (propagate && ev.type !== 'sync' && inst.syncGroup && (to === 'MASTER' || to === 'BACKUP' || to === 'FAULT')) {
        this.notifyGroup(inst.syncGroup, to);
        for (const other of this.instances) {
          if (other === inst || other.syncGroup !== inst.syncGroup) continue;
          const why = `sync group ${inst.syncGroup}: ${inst.cfg.name} ${reason}`;
          // A member that is in FAULT only because the group was leaves it with the group.
          if (from === 'FAULT' && other.runtime.state === 'FAULT' && this.faultReason(other) === null) {
            this.dispatch(other, { type: 'faultCleared' }, false);
          }
          this.dispatch(other, { type: 'sync', to, why });
        }
      }
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
      case 'addVips': this.enqueue(inst, () => this.addVips(inst)); break;
      case 'removeVips': this.enqueue(inst, () => this.removeVips(inst)); break;
      case 'sendGarp': this.enqueue(inst, async () => { this.startGarps(inst); }); break;
      case 'notify': this.notify(inst, action.state); break;
    }
  }

  private setTimer(inst: Instance, at: number): void {
    if (inst.timer) clearTimeout(inst.timer);
    inst.timer = setTimeout(() => {
      inst.timer = null;
      if (!this.stopping) this.dispatch(inst, { type: 'timer' });
    }, Math.max(0, at - performance.now()));
  }

  private enqueue(inst: Instance, work: () => Promise<void>): void {
    inst.queue = inst.queue.then(work).catch((err: unknown) => {
      this.log.error({ instance: inst.cfg.name, err: String(err) }, 'vrrp address change failed');
    });
  }

  // ---- wire ----

  private sendAdvert(inst: Instance, priority: number): void {
    const src = inst.params.primaryIp;
    const advert = {
      version: inst.params.version, vrid: inst.cfg.virtual_router_id, priority,
      intervalCs: inst.params.advertIntervalCs, authType: inst.expectation.authType,
      authPass: inst.expectation.authPass, addresses: inst.vipNumbers,
    };
    const destinations = inst.peers.length > 0 ? inst.peers : [inst.mcastGroup];
    for (const dst of destinations) {
      try {
        inst.io.socket.send(dst, encodeAdvertPacket(advert, src, ipToNumber(dst)));
        inst.advertsSent++;
      } catch (err) {
        // The interface may be down (FAULT follows from tracking); count, don't throw.
        this.countDrop(inst, 'send_failed', dst, String(err));
      }
    }
  }

  private onPackets(io: InterfaceIo, packets: ReceivedPacket[]): void {
    if (this.stopping) return;
    for (const packet of packets) {
      const decoded = decodePacket(packet.data);
      if (!decoded.ok) {
        // Not yet attributable to an instance: charge the first one on this interface.
        if (io.instances[0]) this.countDrop(io.instances[0], decoded.reason, 'unknown', '');
        continue;
      }
      const advert = decoded.advert;
      const inst = io.instances.find((i) => i.cfg.virtual_router_id === advert.vrid) ?? null;
      if (inst === null) {
        if (io.instances[0]) this.countDrop(io.instances[0], 'unknown_vrid', numberToIp(advert.srcIp), `vrid ${advert.vrid}`);
        continue;
      }
      const reason = checkAdvert(advert, inst.expectation);
      if (reason !== null) {
        this.countDrop(inst, reason, numberToIp(advert.srcIp), '');
        continue;
      }
      const src = numberToIp(advert.srcIp);
      if (inst.peers.length > 0 && !inst.peers.includes(src)) {
        this.countDrop(inst, 'unknown_peer', src, '');
        continue;
      }
      inst.advertsReceived++;
      this.dispatch(inst, { type: 'advert', priority: advert.priority, srcIp: advert.srcIp, intervalCs: advert.intervalCs });
    }
  }

  private countDrop(inst: Instance, reason: VrrpCounter, peer: string, detail: string): void {
    inst.drops[reason] = (inst.drops[reason] ?? 0) + 1;
    const key = `${inst.cfg.name}/${peer}/${reason}`;
    const now = performance.now();
    const last = this.dropLoggedAt.get(key);
    if (last === undefined || now - last >= DROP_LOG_INTERVAL_MS) {
      this.dropLoggedAt.set(key, now);
      this.log.warn({ instance: inst.cfg.name, peer, reason, detail }, 'vrrp advert dropped');
    }
  }

  // ---- VIPs and GARP ----

  private async addVips(inst: Instance): Promise<void> {
    if (inst.runtime.state !== 'MASTER') return;
    for (const vip of inst.cfg.virtual_ipaddress) await ipAddr('add', vip, inst.cfg.interface);
    inst.held = [...inst.cfg.virtual_ipaddress];
    inst.holdsVips = true;
    this.publishOwnership();
  }

  private async removeVips(inst: Instance): Promise<void> {
    for (const t of inst.garpTimers) clearTimeout(t);
    inst.garpTimers = [];
    if (!inst.holdsVips) return;
    // Stop forwarding before the address goes, so no packet is answered without the VIP.
    inst.holdsVips = false;
    this.publishOwnership();
    const held = inst.held;
    inst.held = [];
    for (const vip of held) await ipAddr('del', vip, inst.cfg.interface);
  }

  private publishOwnership(): void {
    const vips = this.ownedVips();
    const key = vips.join(',');
    if (key === this.lastOwnership) return;
    this.lastOwnership = key;
    this.options.onOwnership?.(vips);
  }

  /** keepalived: a burst of garp_master_repeat now, another after garp_master_delay, then refreshes. */
  private startGarps(inst: Instance): void {
    if (!inst.holdsVips) return;
    const repeat = inst.cfg.garp_master_repeat ?? 5;
    const delay = inst.cfg.garp_master_delay ?? 5;
    const refresh = inst.cfg.garp_master_refresh ?? 0;
    this.sendGarpBurst(inst, repeat);
    if (delay > 0) {
      const t = setTimeout(() => this.sendGarpBurst(inst, repeat), delay * 1000);
      t.unref();
      inst.garpTimers.push(t);
    }
    if (refresh > 0) {
      const t = setInterval(() => this.sendGarpBurst(inst, 1), refresh * 1000);
      t.unref();
      inst.garpTimers.push(t);
    }
  }

  private sendGarpBurst(inst: Instance, count: number, vips: readonly VirtualIpaddressConfig[] = inst.held): void {
    if (!inst.holdsVips) return;
    for (const vip of vips) {
      const dev = vip.dev ?? inst.cfg.interface;
      try {
        let packet = this.packetSockets.get(dev);
        if (!packet) { packet = openPacketSocket(dev); this.packetSockets.set(dev, packet); }
        const frame = buildGarp(interfaceMac(dev), ipToNumber(stripPrefix(vip.address)));
        for (let i = 0; i < count; i++) packet.send(frame);
      } catch (err) {
        this.log.warn({ instance: inst.cfg.name, vip: vip.address, err: String(err) }, 'gratuitous ARP failed');
      }
    }
  }

  // ---- notify ----

  private notify(inst: Instance, state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'): void {
    const cfg = inst.cfg;
    const specific = { MASTER: cfg.notify_master, BACKUP: cfg.notify_backup, FAULT: cfg.notify_fault, STOP: cfg.notify_stop }[state];
    if (specific) this.runScript(specific, []);
    // keepalived's generic notify: TYPE NAME STATE PRIORITY.
    if (cfg.notify) this.runScript(cfg.notify, ['INSTANCE', cfg.name, state, String(inst.params.priority)]);
  }

  /** keepalived's vrrp_sync_group notify_*: once per group move, generic notify gets GROUP NAME STATE. */
  private notifyGroup(name: string, state: 'MASTER' | 'BACKUP' | 'FAULT'): void {
    if (this.groupStates.get(name) === state) return;
    this.groupStates.set(name, state);
    const group = this.config.vrrp_sync_groups?.find((g) => g.name === name);
    if (!group) return;
    const specific = { MASTER: group.notify_master, BACKUP: group.notify_backup, FAULT: group.notify_fault }[state];
    if (specific) this.runScript(specific, []);
    if (group.notify) this.runScript(group.notify, ['GROUP', name, state]);
  }

  /** Fire and forget: the speaker never waits for a notify script. */
  private runScript(command: string, args: string[]): void {
    const child = spawn('/bin/sh', ['-c', `${command} "$@"`, 'sh', ...args], { stdio: 'ignore', detached: true });
    child.on('error', (err) => this.log.warn({ command, err: String(err) }, 'notify script failed to start'));
    child.unref();
  }

  // ---- tracking ----

  private scheduleScript(runner: ScriptRunner, delayMs: number): void {
    runner.timer = setTimeout(() => this.runTrackScript(runner), delayMs);
    runner.timer.unref();
  }

  private runTrackScript(runner: ScriptRunner): void {
    const intervalMs = (runner.cfg.interval ?? 1) * 1000;
    if (this.stopping) return;
    if (runner.running) { this.scheduleScript(runner, intervalMs); return; }
    runner.running = true;
    const child = spawn('/bin/sh', ['-c', runner.cfg.script], { stdio: 'ignore' });
    const timeout = setTimeout(() => child.kill('SIGKILL'), (runner.cfg.timeout ?? runner.cfg.interval ?? 1) * 1000);
    const finish = (ok: boolean): void => {
      clearTimeout(timeout);
      runner.running = false;
      if (runner.damping.record(ok)) this.onScriptChanged(runner);
      this.scheduleScript(runner, intervalMs);
    };
    child.on('error', () => finish(false));
    child.on('exit', (code) => finish(code === 0));
  }

  private onScriptChanged(runner: ScriptRunner): void {
    this.log.info({ script: runner.name, up: runner.damping.up }, 'vrrp_script changed');
    for (const inst of this.instances) {
      const index = inst.scriptNames.get(runner.name);
      if (index === undefined) continue;
      inst.tracked[index].up = runner.damping.up;
      this.applyTracking(inst);
    }
  }

  private polling = false;

  private async pollTracking(): Promise<void> {
    if (this.stopping || this.polling) return;
    this.polling = true;
    this.pollInFlight = this.pollTrackingOnce();
    try {
      await this.pollInFlight;
    } finally {
      this.polling = false;
      this.pollInFlight = null;
    }
  }

  private async pollTrackingOnce(): Promise<void> {
    const linkCache = new Map<string, boolean>();
    const linkUp = async (name: string): Promise<boolean> => {
      let up = linkCache.get(name);
      if (up === undefined) { up = await readLinkUp(name); linkCache.set(name, up); }
      return up;
    };
    for (const inst of this.instances) {
      let changed = false;
      for (const t of inst.tracked) {
        if (t.name.startsWith('interface:')) {
          const up = await linkUp(t.name.slice('interface:'.length));
          if (up !== t.up) { t.up = up; changed = true; }
        }
      }
      for (const f of inst.cfg.track_file ?? []) {
        const t = inst.tracked.find((x) => x.name === `file:${f.name}`);
        if (!t) continue;
        const value = await readTrackFile(f.file);
        if (value !== t.fileValue) { t.fileValue = value; changed = true; }
      }
      // keepalived always tracks the instance's own interface: down means FAULT.
      const ownUp = await linkUp(inst.cfg.interface);
      const ownKey = `own:${inst.cfg.interface}`;
      let own = inst.tracked.find((x) => x.name === ownKey);
      if (!own) { own = { name: ownKey, weight: 0, up: true }; inst.tracked.push(own); }
      if (own.up !== ownUp) { own.up = ownUp; changed = true; }
      if (changed && this.started && inst.runtime.state !== 'INIT') this.applyTracking(inst);
    }
  }

  /** Why the instance must be in FAULT: its own tracking, or (sync group) a member's. */
  private faultReason(inst: Instance): string | null {
    const own = this.ownFaultReason(inst);
    if (own !== null || inst.syncGroup === null) return own;
    for (const other of this.instances) {
      if (other !== inst && other.syncGroup === inst.syncGroup && this.ownFaultReason(other) !== null) {
        return `sync group ${inst.syncGroup}: ${other.cfg.name} faulty`;
      }
    }
    return null;
  }

  private ownFaultReason(inst: Instance): string | null {
    const { faultBy } = effectivePriority(inst.params.basePriority, inst.tracked);
    return faultBy.length > 0 ? `tracking: ${faultBy.join(', ')} failed` : null;
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
    const fault = this.faultReason(inst);
    if (fault && inst.runtime.state !== 'FAULT') this.dispatch(inst, { type: 'fault', why: fault });
    else if (!fault && inst.runtime.state === 'FAULT') this.dispatch(inst, { type: 'faultCleared' });
  }
}

// ---- small I/O helpers ----

function advertIntervalCsOf(cfg: VrrpInstanceConfig, version: 2 | 3): number {
  return version === 2
    ? Math.max(1, Math.round(cfg.advert_int ?? 1)) * 100
    : Math.max(1, Math.round((cfg.advert_int ?? 1) * 100));
}

function newScriptRunner(name: string, cfg: VrrpScriptConfig): ScriptRunner {
  return { name, cfg, timer: null, running: false, damping: new RiseFall(cfg.rise ?? 1, cfg.fall ?? 1) };
}

function stripPrefix(address: string): string {
  const slash = address.indexOf('/');
  return slash < 0 ? address : address.slice(0, slash);
}

async function ipAddr(op: 'add' | 'del', vip: VirtualIpaddressConfig, defaultDev: string): Promise<void> {
  // The process's ledger knows which VIPs ulvs added (and records them for a restart after a
  // crash): an address that was already there is used and never removed (src/os/address-ledger.ts).
  const address = { address: vip.address, dev: vip.dev ?? defaultDev, label: vip.label };
  if (op === 'add') await addressLedger.add(address);
  else await addressLedger.remove(address);
}

/** First IPv4 address of the interface that is not one of our VIPs (the primary address). */
export function primaryAddress(ifname: string, vips: readonly number[]): string | null {
  for (const a of networkInterfaces()[ifname] ?? []) {
    if (a.family === 'IPv4' && !vips.includes(ipToNumber(a.address))) return a.address;
  }
  return null;
}

function interfaceMac(ifname: string): Uint8Array {
  const entry = (networkInterfaces()[ifname] ?? [])[0];
  if (!entry) throw new Error(`interface ${ifname} has no address to read its MAC from`);
  return parseMac(entry.mac);
}

async function readLinkUp(ifname: string): Promise<boolean> {
  try {
    const state = (await readFile(`/sys/class/net/${ifname}/operstate`, 'utf8')).trim();
    if (state === 'down' || state === 'lowerlayerdown' || state === 'notpresent') return false;
    // 'unknown' (lo, some tun devices) counts as up when the carrier is present.
    const carrier = (await readFile(`/sys/class/net/${ifname}/carrier`, 'utf8')).trim();
    return carrier === '1';
  } catch {
    return false;
  }
}

/** keepalived's track_file: the file holds an integer; a missing or unreadable file reads as 0. */
async function readTrackFile(path: string): Promise<number> {
  try {
    const n = parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}
