/**
 * The director: loads the config, holds the static addresses, resolves next hops, starts one
 * dataplane worker per queue, publishes snapshots to them and answers the control socket.
 * Everything it takes from the system it gives back on stop (SIGTERM/SIGINT included).
 * This file is the wiring; the parts live in worker-pool.ts, reload-plan.ts, neighbours.ts,
 * health-verdicts.ts, config-watch.ts, commands.ts and compile.ts.
 */
import { DIRECTOR_CAPABILITIES, capabilityMessage, missingCapabilities } from '../appliance/capabilities.js';
import { existsSync, type FSWatcher } from 'node:fs';
import type net from 'node:net';
import type pino from 'pino';
import { DirectorAlerts } from '../alerts/index.js';
import { ConfigError, formatDiagnostic, formatWarning, loadConfig, type UlvsConfig } from '../config/index.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../conntrack/tcp-states.js';
import { effectiveLogLevel } from '../log.js';
import type { Snapshot } from '../dataplane/snapshot.js';
import { attachedXdpIds, recoverLeftovers } from './recovery.js';
import { addressLedger } from '../os/address-ledger.js';
import { SyncDaemon, type AnyOutboxRecord } from '../sync/daemon.js';
import { SyncIndex, countingWorker } from '../sync/records.js';
import { SyncIndex6, countingWorker6 } from '../sync/records6.js';
import { vrrpConfigFrom } from '../vrrp/from-config.js';
import { VrrpSpeaker } from '../vrrp/speaker.js';
import { AddressHolder } from './addresses.js';
import { handleControl, listServices, metricsData, type CommandContext, type ReloadResult } from './commands.js';
import { serveMetrics, type MetricsServer } from '../metrics/server.js';
import { compileSnapshot, hasIpv6Services, IdRegistry } from './compile.js';
import { SchedulerTablePublisher } from './scheduler-tables.js';
import { PersistenceTable, templateCapacityFor } from '../conntrack/persistence.js';
import { allocateSharedTemplates6 } from '../conntrack/persistence6.js';
import { numberToIp } from '../packet/addr.js';
import { watchConfigFiles } from './config-watch.js';
import { StepTimer } from './step-timer.js';
import type { ServiceStatus } from './format.js';
import { HealthVerdicts } from './health-verdicts.js';
import { insideQueuesError, resolveQueues, rxQueueCount } from './queues.js';
import { NextHopCache, interfaceMtu, nextHopAddresses, primaryAddress, primaryAddress6 } from './neighbours.js';
import { DEFAULT_MTU } from '../packet/rewrite.js';
import { insideIsAuto, resolveInside } from './inside.js';
import { configuredTimeouts, insideToOpen, planReload, vrrpManagedVips } from './reload-plan.js';
import { controlSocketPath, serveControl } from './socket.js';
import { planRuntime, type NumberedEdit, type RuntimeReply } from './ipvsadm-commands.js';
import { mergeOverrides, normalize, NO_OVERRIDES, type RuntimeOverrides } from './runtime-overrides.js';
import { DirectorError, WorkerPool } from './worker-pool.js';
import { IpvsCounters } from '../metrics/ipvs-counters.js';
import { groupId } from '../os/groups.js';
import { controlGuard } from './permissions.js';
import { BgpAnnouncer } from '../bgp/announcer.js';
import { usableFromSnapshot } from '../bgp/usable.js';
import { openLiveness } from '../bgp/liveness.js';
import { loadNative } from '../io/native.js';

export { DirectorError } from './worker-pool.js';
export type { ReloadResult } from './commands.js';

const NEIGHBOUR_REFRESH_MS = 5_000;
/** How long a next-hop lookup may provoke ARP: longer while (re)loading than on the timer. */
const NEIGHBOUR_LOAD_TIMEOUT_MS = 2000;
const NEIGHBOUR_REFRESH_TIMEOUT_MS = 500;

export interface DirectorOptions {
  configPath: string;
  log: pino.Logger;
}

export class Director {
  /** The effective table: the config file with the runtime overrides (ulvs ipvsadm) applied. */
  private config!: UlvsConfig;
  private fileConfig!: UlvsConfig;
  private overrides: RuntimeOverrides = NO_OVERRIDES;
  private readonly ids = new IdRegistry();
  /** The mh/sh/dh tables published with each snapshot (Maglev's last_weight kept per service). */
  private readonly schedulerTables = new SchedulerTablePublisher();
  private readonly addresses = new AddressHolder();
  private readonly nextHops: NextHopCache;
  private readonly workers: WorkerPool;
  private readonly ipvs: IpvsCounters;
  private server: net.Server | null = null;
  private metrics: MetricsServer | null = null;
  private snapshot!: Snapshot;
  private version = 0;
  private timeouts: Timeouts = { ...DEFAULT_TIMEOUTS };
  private tunnelSource = 0;
  private mtu = DEFAULT_MTU;
  private tunnelSource6: string | null = null;
  /** Workers started: dataplane.queues, or one per RX queue of the interface (queues.ts). */
  private queues = 1;
  private templateMemory6: SharedArrayBuffer | undefined;
  private insideOpen = false;
  /** Services handed to the kernel (Local forwarding), and those logged as mixed. */
  private kernelServices = new Set<number>();
  private readonly warnedMixedLocal = new Set<number>();
  private readonly warnedLocalPort = new Set<number>();
  /** The inside interface in use: dataplane.inside, or found from the routes (auto). */
  private insideIf: string | undefined;
  private neighbourTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private watchers: FSWatcher[] = [];
  private readonly health: HealthVerdicts;
  private vrrp: VrrpSpeaker | null = null;
  /** VIPs some vrrp_instance manages, and those of them this director holds as MASTER. */
  private vrrpVips = new Set<string>();
  private ownedVrrpVips = new Set<string>();
  private sync: SyncDaemon | null = null;
  /** Every service whatever VRRP owns (connection sync places records with it); rebuilt lazily. */
  private syncIndex: { index: { v4: SyncIndex; v6: SyncIndex6 }; forward: Map<number, number> } | null = null;
  private reloading: Promise<void> | null = null;
  /** republish(): a snapshot is being published for a verdict or next-hop change; another is owed. */
  private republishing = false;
  private republishOwed = false;
  /** keepalived's email alerts; null until the config is loaded. */
  private alerts: DirectorAlerts | null = null;
  /** bgp_announce: health-gated VIP routes through bird2; null when absent. */
  private bgp: BgpAnnouncer | null = null;
  /** gid of control.read_group (it must exist at load; looked up per request, so a recreated group is followed). */
  private get readGid(): number | undefined {
    const group = this.config?.control.read_group;
    return group === undefined ? undefined : groupId(group);
  }

  constructor(private readonly opts: DirectorOptions) {
    this.nextHops = new NextHopCache(opts.log);
    this.workers = new WorkerPool(opts.log, () => this.stopping !== null);
    this.ipvs = new IpvsCounters(() => this.workers.ipvsCounters);
    this.health = new HealthVerdicts(opts.log, () => { if (this.workers.size) this.republish(); }, {
      realServer: (e, moved) => {
        this.alerts?.realServerChanged({ ...e, serviceIds: moved });
        if (!e.up) void this.revalidateNextHop(e.rsKey);
      },
      quorum: (e, initial) => this.alerts?.quorumChanged(e, initial),
    });
  }

  get log(): pino.Logger { return this.opts.log; }

  /** dataplane.log_level, unless ULVS_LOG_LEVEL (the operator's override for one run) is set. */
  private applyLogLevel(): void {
    const level = effectiveLogLevel(this.config.dataplane.log_level, process.env.ULVS_LOG_LEVEL);
    if (this.log.level !== level) this.log.level = level;
  }

  /** Every start-up step, in order; a failing step undoes the ones before it. */
  async start(): Promise<void> {
    const missing = missingCapabilities(DIRECTOR_CAPABILITIES);
    if (missing.length) throw new DirectorError(capabilityMessage('ulvs run', missing));
    const loaded = loadConfig(this.opts.configPath);
    this.config = loaded.config;
    this.alerts = new DirectorAlerts(this.config, this.log);
    this.applyLogLevel();
    for (const w of loaded.warnings) this.log.warn({ warning: formatWarning(w) }, 'configuration warning');
    this.fileConfig = loaded.config;
    const dp = this.config.dataplane;
    for (const ifname of [dp.interface, insideIsAuto(dp.inside) ? undefined : dp.inside].filter((x): x is string => !!x)) {
      if (!existsSync(`/sys/class/net/${ifname}`)) {
        throw new DirectorError(`interface ${ifname} does not exist in this network namespace: check dataplane.${ifname === dp.interface ? 'interface' : 'inside'}`);
      }
    }
    // A first look, for the leftovers of a killed director on that interface; the answer that
    // counts comes once the static addresses (maybe the inside one's) are held.
    this.insideIf = (await resolveInside(this.config).catch(() => ({ dev: null }))).dev ?? undefined;
    this.timeouts = configuredTimeouts(this.config);
    this.server = await serveControl(controlSocketPath('default', dp.control_socket), (req) => handleControl(this.commandContext(), req),
      controlGuard(this.log, () => this.readGid));
    try {
      // The control socket is ours, so no live director of this instance runs here: whatever a
      // killed one left is adopted or removed now (src/control/leftovers.ts).
      await recoverLeftovers({ config: this.withInside(this.config), instance: dp.control_socket ?? 'default', log: this.log });
      for (const a of this.config.static_ipaddress) {
        await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label, brd: a.brd, scope: a.scope, peer: a.peer });
        this.log.info({ address: a.address, dev: a.dev }, 'holding static address');
      }
      // dataplane.inside omitted or auto: the kernel's routes to the NAT real servers say which.
      const inside = await resolveInside(this.config).catch((err: Error) => { throw new DirectorError(err.message); });
      if (insideIsAuto(dp.inside) && inside.dev) this.log.info({ inside: inside.dev }, `dataplane.inside: ${inside.dev} (auto: ${inside.why})`);
      this.insideIf = inside.dev ?? undefined;
      this.tunnelSource = await primaryAddress(dp.interface);
      this.mtu = interfaceMtu(dp.interface);
      this.tunnelSource6 = await primaryAddress6(dp.interface).catch(() => null);
      await this.resolveNeighbours(false);
      const queuesDecision = resolveQueues({
        configured: dp.queues, rxQueues: rxQueueCount(dp.interface), io: dp.io, ifname: dp.interface,
        fullNat: this.config.virtual_servers.some((vs) => vs.lb_kind === 'FNAT'),
      });
      if (!queuesDecision.ok) throw new DirectorError(queuesDecision.error);
      this.queues = queuesDecision.queues;
      if (queuesDecision.note) this.log.info({ queues: this.queues }, queuesDecision.note);
      // VRRP-managed VIPs are not forwarded until the speaker says this director is MASTER.
      this.vrrpVips = vrrpManagedVips(this.config);
      this.snapshot = this.compile();
      this.followCounters();
      const insideOpened = insideToOpen(this.withInside(this.config).dataplane, this.snapshot);
      this.insideOpen = insideOpened !== null;
      const insideError = insideOpened === null ? null : insideQueuesError(insideOpened, rxQueueCount(insideOpened), this.queues, dp.io);
      if (insideError !== null) throw new DirectorError(insideError);
      // queues > 1: one persistence table shared by the workers (RSS spreads a client's
      // connections over the queues; per-worker templates broke persistence_timeout).
      const templateMemory = this.queues > 1 ? PersistenceTable.allocateShared(templateCapacityFor(dp.conn_table_size)) : null;
      for (let queue = 0; queue < this.queues; queue++) {
        await this.workers.start(queue, {
          outside: dp.interface, inside: insideOpened, backend: dp.io, snapshot: this.snapshot, connTableSize: dp.conn_table_size,
          timeouts: this.timeouts, expireNodestConn: dp.expire_nodest_conn, templateMemory,
          busyPoll: dp.busy_poll, busyPollSpinUs: dp.busy_poll_spin_us,
        });
      }
      // Recorded by id: a successor without CAP_SYS_ADMIN (the packaged unit) cannot read the
      // program's name, and would otherwise call ulvs's own program foreign and fail to attach.
      // Only where a worker attached with AF_XDP: after a TAP fallback the program there is foreign.
      addressLedger.recordXdp(await attachedXdpIds([...this.workers.afxdpInterfaces]));
      this.ipvs.start();
      this.health.apply(this.config);
      this.health.setVipPresence((vip) => this.holdsVip(vip));
      // Before VRRP: a restarted director asks the master for its table while still BACKUP.
      await this.startSync();
      await this.startVrrp();
      await this.applyMetrics();
      await this.applyBgp();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.neighbourTimer = setInterval(() => { void this.resolveNeighbours(true); }, NEIGHBOUR_REFRESH_MS);
    this.neighbourTimer.unref();
    if (dp.autoreload) this.watch(loaded.files);
  }

  /**
   * Applies a new config without a restart: services and real servers added, removed or
   * reweighted, schedulers changed, addresses held or released. Real servers that stay keep
   * their ids, so their established connections keep flowing. A config that fails validation
   * is rejected whole and the running one stays.
   */
  reload(resetRuntime = false): Promise<ReloadResult> {
    return this.queued(() => this.doReload(resetRuntime));
  }

  /**
   * ulvs ipvsadm's changes: applied all or nothing to the runtime overrides, then published
   * as a new snapshot like a reload's (real servers that stay keep their ids and connections).
   */
  applyRuntime(edits: NumberedEdit[]): Promise<RuntimeReply> {
    const started = process.hrtime.bigint();
    return this.queued(async (): Promise<RuntimeReply> => {
      const planned = planRuntime(this.fileConfig, this.overrides, edits);
      if (!planned.ok) return planned;
      const plan = planReload(this.config, planned.effective, this.insideOpen);
      if (plan.rejections.length) return { ok: false, error: plan.rejections.join('\n'), status: 2 };
      this.overrides = planned.overrides;
      this.config = planned.effective;
      // Only servers never seen need a next hop now (a drain needs none); the timer refreshes the rest.
      const unresolved = [...nextHopAddresses(this.config)].filter((ip) => this.nextHops.macOf(ip) === null);
      if (unresolved.length) await this.nextHops.refresh(unresolved, NEIGHBOUR_LOAD_TIMEOUT_MS);
      this.health.apply(this.config);
      await this.publish();
      // From the request to every worker forwarding by the new snapshot (the drain figure).
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      this.log.info({ version: this.version, edits: edits.length, overrides: this.overrides.services.length, ms }, 'runtime change applied');
      return { ok: true, version: this.version };
    });
  }

  /** Reloads and runtime changes queue behind each other: two at once would race on the diff. */
  private queued<T>(step: () => Promise<T>): Promise<T> {
    const next = (this.reloading ?? Promise.resolve()).then(step);
    const settled: Promise<void> = next.then(() => undefined, () => undefined);
    this.reloading = settled;
    void settled.then(() => { if (this.reloading === settled) this.reloading = null; });
    return next;
  }

  private rejectReload(errors: string[]): ReloadResult {
    for (const e of errors) this.log.error({ error: e }, 'reload rejected: the running configuration stays');
    return { ok: false, errors };
  }

  private async doReload(resetRuntime: boolean): Promise<ReloadResult> {
    const timer = new StepTimer();
    let loaded: ReturnType<typeof loadConfig>;
    try {
      loaded = loadConfig(this.opts.configPath);
      timer.mark('parse');
    } catch (err) {
      return this.rejectReload(err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [(err as Error).message]);
    }
    // Runtime overrides survive a reload (a drain outlives a routine config push) unless reset.
    const overrides = resetRuntime ? NO_OVERRIDES : normalize(loaded.config, this.overrides);
    const next = mergeOverrides(loaded.config, overrides);
    for (const w of loaded.warnings) this.log.warn({ warning: formatWarning(w) }, 'configuration warning');
    const plan = planReload(this.config, next, this.insideOpen);
    if (plan.rejections.length) return this.rejectReload(plan.rejections);
    timer.mark('plan');
    if (insideIsAuto(next.dataplane.inside)) {
      // auto: the routes to the new NAT real servers must still lead to the interface opened.
      const found = await resolveInside(next).catch((err: Error) => ({ dev: null, why: '', error: err.message }));
      if ('error' in found) return this.rejectReload([found.error]);
      if (found.dev && this.insideIf && found.dev !== this.insideIf) {
        return this.rejectReload([`dataplane.inside: the NAT real servers are now routed through ${found.dev}, the director opened ${this.insideIf}: restart to change it`]);
      }
    }
    timer.mark('inside');
    for (const a of plan.release) this.addresses.release({ address: a.address, dev: a.dev });
    // A static address added or removed may make a real server this director itself (Local
    // forwarding), or no longer: then every next hop is looked up again below.
    let addressesMoved = plan.release.length > 0;
    for (const a of plan.hold) {
      const outcome = await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label, brd: a.brd, scope: a.scope, peer: a.peer });
      if (outcome === 'added') addressesMoved = true;
    }
    this.config = next;
    this.alerts?.apply(next, (id, rsKey) => this.health.healthOf(id, rsKey)?.up ?? true);
    this.applyLogLevel();
    this.fileConfig = loaded.config;
    if (resetRuntime && this.overrides.services.length) this.log.info({ dropped: this.overrides.services.length }, 'reload: runtime overrides dropped (--reset-runtime)');
    this.overrides = overrides;
    // VIPs a vrrp_instance now manages are not forwarded until the speaker says MASTER; the
    // speaker's onOwnership republishes once VIPs added to a MASTER are on the interface.
    this.vrrpVips = vrrpManagedVips(next);
    if (plan.timeouts) {
      this.timeouts = plan.timeouts;
      this.workers.postTimeouts(plan.timeouts);
    }
    timer.mark('addresses');
    // Only next hops never looked up (new real servers) are resolved now: the others are the
    // 5 s timer's (an `ip` exec or two per server, and up to 2 s of ARP for one that is down,
    // made reloads take seconds under load).
    await this.nextHops.refresh(addressesMoved ? nextHopAddresses(next) : this.nextHops.unseen(nextHopAddresses(next)), NEIGHBOUR_LOAD_TIMEOUT_MS);
    timer.mark('neighbours');
    this.health.apply(next);
    this.health.setVipPresence((vip) => this.holdsVip(vip));
    timer.mark('health');
    await this.publish();
    timer.mark('snapshot');
    // VRRP is diffed in place (no restart, no flap); see VrrpSpeaker.reload.
    try {
      if (this.vrrp) await this.vrrp.reload(vrrpConfigFrom(next));
      else await this.startVrrp();
      timer.mark('vrrp');
    } catch (err) {
      const errors = [`vrrp: ${(err as Error).message}`];
      this.log.error({ error: errors[0] }, 'reload: VRRP changes not fully applied');
      return { ok: false, errors, version: this.version };
    }
    try {
      await this.applyMetrics();
    } catch (err) {
      const errors = [(err as Error).message];
      this.log.error({ error: errors[0] }, 'reload: the metrics endpoint is not served');
      return { ok: false, errors, version: this.version };
    }
    timer.mark('metrics');
    await this.applyBgp();
    timer.mark('bgp');
    this.log.info({ version: this.version, services: this.snapshot.services.length, ms: timer.totalMs, steps: timer.steps }, 'configuration reloaded');
    if (next.dataplane.autoreload && this.watchers.length === 0) this.watch(loaded.files);
    return { ok: true, errors: [], version: this.version };
  }

  /** The VRRP speaker runs in this process; its ownership decides which VIPs are forwarded. */
  private async startVrrp(): Promise<void> {
    if (this.config.vrrp_instances.length === 0) return;
    this.vrrp = new VrrpSpeaker({
      config: vrrpConfigFrom(this.config),
      logger: this.log,
      onOwnership: async (vips) => {
        this.ownedVrrpVips = new Set(vips);
        this.log.info({ vips }, 'VRRP ownership changed');
        this.health.setVipPresence((vip) => this.holdsVip(vip));
        if (this.workers.size) await this.publish();
      },
      onTransition: (name, from, to, reason) => {
        this.log.info({ instance: name, from, to, reason }, `VRRP ${name}: ${from} -> ${to}`);
        if (this.sync && name === this.config.global_defs.lvs_sync_daemon?.instance) this.sync.setRole(to === 'MASTER' ? 'master' : 'backup');
        this.alerts?.instanceMoved(name, to);
      },
      onGroupMove: (group, to) => this.alerts?.groupMoved(group, to),
    });
    await this.vrrp.start();
  }

  /** keepalived's lvs_sync_daemon: connection sync bound to one VRRP instance's role. */
  private async startSync(): Promise<void> {
    const cfg = this.config.global_defs.lvs_sync_daemon;
    if (!cfg) return;
    this.sync = new SyncDaemon(cfg, {
      log: this.log,
      outboxes: () => this.workers.outboxes,
      forwardOf: (service) => this.fullIndex().forward.get(service),
      index: () => this.fullIndex().index,
      importFlows: (flows, templates) => {
        const workers = this.workers.count;
        const owners = workers > 1 ? flows.map((f) => (f.family === 6 ? countingWorker6(f, workers) : countingWorker(f, workers))) : null;
        this.workers.postAll({ type: 'sync-import', flows, owners, templates });
      },
      claimRings: () => this.workers.claimRings,
      disown: (worker, flows) => this.workers.postOthers(worker, { type: 'sync-disown', flows }),
      setSending: (on) => this.workers.postAll({ type: 'sync-sending', on }),
      dumpFlows: async () => (await this.workers.askAll({ type: 'sync-dump' }) as AnyOutboxRecord[][]).flat(),
    });
    await this.sync.start();
  }

  private fullIndex(): { index: { v4: SyncIndex; v6: SyncIndex6 }; forward: Map<number, number> } {
    if (!this.syncIndex) {
      const all = this.everyService();
      this.syncIndex = { index: { v4: new SyncIndex(all), v6: new SyncIndex6(all) }, forward: new Map(all.services.map((svc) => [svc.id, svc.forward])) };
    }
    return this.syncIndex;
  }

  /** Serves /metrics as the config's metrics block says (started, moved or stopped). */
  private async applyMetrics(): Promise<void> {
    const listen = this.config.metrics?.listen;
    if (this.metrics?.listen === listen) return;
    await this.metrics?.close();
    this.metrics = null;
    if (listen) this.metrics = await serveMetrics(listen, () => metricsData(this.commandContext()), this.log);
  }

  /** Starts, reconfigures or stops (withdrawing its routes) the BGP announcer as bgp_announce says. */
  private async applyBgp(): Promise<void> {
    const cfg = this.config.bgp_announce;
    if (!cfg) {
      await this.bgp?.stop();
      this.bgp = null;
      return;
    }
    if (this.bgp) return this.bgp.reconfigure(cfg);
    this.bgp = new BgpAnnouncer(cfg, { log: this.log, usable: () => usableFromSnapshot(this.snapshot, this.config, this.ids), openLiveness });
    await this.bgp.start();
  }

  /** Every service of the config, whoever owns its VIP and whatever the checks say. */
  private everyService(): Snapshot {
    return compileSnapshot(this.config, this.ids, {
      macOf: () => null, healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true, tunnelSource: this.tunnelSource, mtu: this.mtu, tunnelSource6: this.tunnelSource6,
    }, this.version);
  }

  private watch(files: string[]): void {
    this.watchers.push(...watchConfigFiles(files, () => { void this.reload(); }, this.log));
  }

  /** Idempotent; safe from signal handlers. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.neighbourTimer) clearInterval(this.neighbourTimer);
    this.ipvs.stop();
    await this.metrics?.close();
    this.metrics = null;
    for (const w of this.watchers.splice(0)) w.close();
    // Routes withdrawn first (bird confirms), so the router sends new packets elsewhere while this dataplane still forwards.
    await this.bgp?.stop();
    // Priority 0 first, so the backup takes over before this dataplane stops (RFC 3768 6.4.3).
    await this.vrrp?.stop();
    this.sync?.close();
    this.alerts?.shuttingDown((id, rsKey) => this.health.healthOf(id, rsKey)?.up ?? true);
    await this.health.stop();
    await this.workers.stop();
    this.addresses.releaseAll();
    // Last: the "Stopping" mails may wait (bounded) on a slow relay; nothing else waits on them.
    await this.alerts?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.log.info('stopped');
  }

  private compile(): Snapshot {
    const snapshot = compileSnapshot(this.config, this.ids, {
      macOf: (ip) => this.nextHops.macOf(ip),
      healthOf: (serviceId, rsKey) => this.health.healthOf(serviceId, rsKey),
      sorryActive: (serviceId) => this.health.sorryActive(serviceId),
      ownsVip: (vip) => this.holdsVip(vip),
      isLocal: (ip) => this.nextHops.isLocal(ip),
      tunnelSource: this.tunnelSource,
      mtu: this.mtu,
      tunnelSource6: this.tunnelSource6,
    }, ++this.version);
    this.logLocalForwarding(snapshot);
    // queues > 1: the IPv6 templates are shared as the IPv4 ones (allocated with the first IPv6
    // service of the config: a BACKUP holds synced ones before its snapshot has the service).
    if (this.queues > 1 && hasIpv6Services(this.config)) {
      this.templateMemory6 ??= allocateSharedTemplates6(this.config.dataplane.conn_table_size);
      snapshot.templateMemory6 = this.templateMemory6;
    }
    // mh/sh/dh tables built once here and shared with every worker (scheduler-tables.ts).
    return this.schedulerTables.publish(snapshot);
  }

  /** One line each time a service starts or stops going to the director's own stack. */
  private logLocalForwarding(snapshot: Snapshot): void {
    const now = new Set(snapshot.services.filter((s) => s.kernel).map((s) => s.id));
    for (const s of snapshot.services) {
      const vip = s.addresses[0] ? `${numberToIp(s.addresses[0].vip)}:${s.addresses[0].vport}` : `service ${s.id}`;
      if (now.has(s.id) && !this.kernelServices.has(s.id)) {
        this.log.info({ service: vip }, `${vip}: every live destination is this director: packets go to its own stack unchanged (Local forwarding)`);
      } else if (!now.has(s.id) && this.kernelServices.has(s.id)) {
        this.log.info({ service: vip }, `${vip}: forwarded to remote real servers again (Local forwarding off)`);
      }
      const local = s.realServers.filter((r) => r.local && r.available && r.weight > 0);
      if (local.length && !s.kernel && !this.warnedMixedLocal.has(s.id)) {
        this.log.info({ service: vip }, `${vip}: mixed: connections to ${local.map((r) => numberToIp(r.ip)).join(', ')} go to this director's own stack, the others to remote real servers (Local forwarding per connection)`);
        this.warnedMixedLocal.add(s.id);
      }
      const otherPort = s.realServers.find((r) => r.local && r.port !== 0 && s.addresses.some((a) => a.vport !== 0 && a.vport !== r.port));
      if (otherPort && !this.warnedLocalPort.has(s.id)) {
        this.log.error({ service: vip }, `${vip}: real server ${numberToIp(otherPort.ip)}:${otherPort.port} is this director on another port than the VIP's: it takes no connections (ulvs hands its own stack packets unchanged, to VIP:port; listen there instead)`);
        this.warnedLocalPort.add(s.id);
      }
    }
    this.kernelServices = now;
  }

  /** The config with dataplane.inside as resolved at start (auto: from the routes). */
  private withInside(config: UlvsConfig): UlvsConfig {
    return { ...config, dataplane: { ...config.dataplane, inside: this.insideIf } };
  }

  /** A VIP is ours unless a vrrp_instance manages it and this director is not its MASTER. */
  private holdsVip(vip: string): boolean {
    return !this.vrrpVips.has(vip) || this.ownedVrrpVips.has(vip);
  }

  /**
   * A new snapshot for a health verdict or a next hop that changed, coalesced: one in flight at
   * a time, and whatever changes meanwhile is taken by a single one after it. 300 services of
   * one real server going down were 300 verdicts and 300 snapshots back to back, each a compile
   * on this thread and a table rebuild on every forwarding thread (forwarding stalled for
   * seconds, VRRP adverts came late, a reload waited behind them). The snapshot compiles the
   * verdicts as they are when it starts, so none is lost.
   */
  private republish(): void {
    if (this.republishing) { this.republishOwed = true; return; }
    this.republishing = true;
    void (async () => {
      try {
        do {
          this.republishOwed = false;
          await this.publish();
        } while (this.republishOwed && this.stopping === null);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'snapshot not published');
      } finally {
        this.republishing = false;
      }
    })();
  }

  /** Resolves when every worker forwards by the new snapshot. */
  private publish(): Promise<void> {
    this.snapshot = this.compile();
    this.followCounters();
    this.syncIndex = null;
    return this.workers.postSnapshot(this.snapshot);
  }

  /**
   * The counters follow the config's services and servers, not only those forwarded now, so a
   * VRRP BACKUP that becomes MASTER keeps its counts (keepalived keeps IPVS's table on both):
   * ids new in it count from zero, gone ones are forgotten.
   */
  private followCounters(): void {
    const ids = new Set<number>();
    for (const s of [...this.snapshot.services, ...this.everyService().services]) {
      ids.add(s.id);
      for (const rs of s.realServers) ids.add(rs.rsId);
    }
    this.ipvs.follow(ids);
  }

  /** Real servers' next-hop MACs from the kernel (resolving missing ones); republishes on change. */
  private async resolveNeighbours(republish: boolean): Promise<void> {
    const timeoutMs = republish ? NEIGHBOUR_REFRESH_TIMEOUT_MS : NEIGHBOUR_LOAD_TIMEOUT_MS;
    const changed = await this.nextHops.refresh(nextHopAddresses(this.config), timeoutMs);
    if (changed && republish) this.republish();
  }

  /** A real server that went down may be a new box with a new MAC: resolve it afresh. */
  private async revalidateNextHop(rsKey: string): Promise<void> {
    if (await this.nextHops.revalidate(rsKey.slice(0, rsKey.lastIndexOf(':')), NEIGHBOUR_LOAD_TIMEOUT_MS)) this.republish();
  }

  /** The control commands' view of this director (live: read when a command runs). */
  private commandContext(): CommandContext {
    const director = this;
    return {
      get config() { return director.config; },
      get snapshot() { return director.snapshot; },
      get timeouts() { return director.timeouts; },
      ids: this.ids,
      workers: this.workers,
      ipvs: this.ipvs,
      vrrpStatus: () => this.vrrp?.status() ?? [],
      healthStatus: () => this.health.status(),
      heldAddresses: () => this.addresses.held(),
      checkers: () => this.health.verdicts(),
      syncStatus: () => this.sync?.status() ?? null,
      bgpStatus: () => this.bgp?.status() ?? null,
      setBgpDisabled: async (on) => {
        if (!this.bgp) throw new Error('bgp: no bgp_announce block in the config');
        return this.bgp.setDisabled(on);
      },
      get fileConfig() { return director.fileConfig; },
      get overrides() { return director.overrides; },
      reload: (resetRuntime) => this.reload(resetRuntime),
      mailStats: () => ({ ...(this.alerts?.counters() ?? { mail_sent: 0, mail_failed: 0, mail_queued: 0 }) }),
      mallocStats: () => loadNative().mallocStats(),
      applyRuntime: (edits) => this.applyRuntime(edits),
      setTimeouts: (set) => {
        this.timeouts = { ...this.timeouts, ...set };
        this.workers.postTimeouts(set);
      },
    };
  }

  async listServices(): Promise<ServiceStatus[]> {
    return listServices(this.commandContext());
  }
}
