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
import { ConfigError, formatDiagnostic, loadConfig, type UlvsConfig } from '../config/index.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../conntrack/tcp-states.js';
import type { Snapshot } from '../dataplane/snapshot.js';
import { recoverLeftovers } from './recovery.js';
import { SyncDaemon } from '../sync/daemon.js';
import { SyncIndex } from '../sync/records.js';
import type { OutboxRecord } from '../dataplane/sync-outbox.js';
import { vrrpConfigFrom } from '../vrrp/from-config.js';
import { VrrpSpeaker } from '../vrrp/speaker.js';
import { AddressHolder } from './addresses.js';
import { handleControl, listServices, type CommandContext, type ReloadResult } from './commands.js';
import { compileSnapshot, IdRegistry } from './compile.js';
import { watchConfigFiles } from './config-watch.js';
import type { ServiceStatus } from './format.js';
import { HealthVerdicts } from './health-verdicts.js';
import { NextHopCache, nextHopAddresses, primaryAddress } from './neighbours.js';
import { configuredTimeouts, insideToOpen, planReload, vrrpManagedVips } from './reload-plan.js';
import { controlSocketPath, serveControl } from './socket.js';
import { DirectorError, WorkerPool } from './worker-pool.js';

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
  private config!: UlvsConfig;
  private readonly ids = new IdRegistry();
  private readonly addresses = new AddressHolder();
  private readonly nextHops: NextHopCache;
  private readonly workers: WorkerPool;
  private server: net.Server | null = null;
  private snapshot!: Snapshot;
  private version = 0;
  private timeouts: Timeouts = { ...DEFAULT_TIMEOUTS };
  private tunnelSource = 0;
  private insideOpen = false;
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
  private syncIndex: { index: SyncIndex; forward: Map<number, number> } | null = null;
  private reloading: Promise<ReloadResult> | null = null;

  constructor(private readonly opts: DirectorOptions) {
    this.nextHops = new NextHopCache(opts.log);
    this.workers = new WorkerPool(opts.log, () => this.stopping !== null);
    this.health = new HealthVerdicts(opts.log, () => { if (this.workers.size) void this.publish(); });
  }

  get log(): pino.Logger { return this.opts.log; }

  /** Every start-up step, in order; a failing step undoes the ones before it. */
  async start(): Promise<void> {
    const missing = missingCapabilities(DIRECTOR_CAPABILITIES);
    if (missing.length) throw new DirectorError(capabilityMessage('ulvs run', missing));
    const loaded = loadConfig(this.opts.configPath);
    this.config = loaded.config;
    const dp = this.config.dataplane;
    for (const ifname of [dp.interface, dp.inside].filter((x): x is string => !!x)) {
      if (!existsSync(`/sys/class/net/${ifname}`)) {
        throw new DirectorError(`interface ${ifname} does not exist in this network namespace: check dataplane.${ifname === dp.interface ? 'interface' : 'inside'}`);
      }
    }
    this.timeouts = configuredTimeouts(this.config);
    this.server = await serveControl(controlSocketPath('default', dp.control_socket), (req) => handleControl(this.commandContext(), req));
    try {
      // The control socket is ours, so no live director of this instance runs here: whatever a
      // killed one left is adopted or removed now (src/control/leftovers.ts).
      await recoverLeftovers({ config: this.config, instance: dp.control_socket ?? 'default', log: this.log });
      for (const a of this.config.static_ipaddress) {
        await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label });
        this.log.info({ address: a.address, dev: a.dev }, 'holding static address');
      }
      this.tunnelSource = await primaryAddress(dp.interface);
      await this.resolveNeighbours(false);
      // VRRP-managed VIPs are not forwarded until the speaker says this director is MASTER.
      this.vrrpVips = vrrpManagedVips(this.config);
      this.snapshot = this.compile();
      const inside = insideToOpen(dp, this.snapshot);
      this.insideOpen = inside !== null;
      for (let queue = 0; queue < dp.queues; queue++) {
        await this.workers.start(queue, {
          outside: dp.interface, inside, backend: dp.io, snapshot: this.snapshot, connTableSize: dp.conn_table_size,
          timeouts: this.timeouts, expireNodestConn: dp.expire_nodest_conn,
        });
      }
      this.health.apply(this.config);
      // Before VRRP: a restarted director asks the master for its table while still BACKUP.
      await this.startSync();
      await this.startVrrp();
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
  reload(): Promise<ReloadResult> {
    // Reloads queue behind each other: two at once would race on the address diff.
    const next = (this.reloading ?? Promise.resolve(null as unknown as ReloadResult)).then(() => this.doReload());
    this.reloading = next.finally(() => { if (this.reloading === next) this.reloading = null; });
    return next;
  }

  private rejectReload(errors: string[]): ReloadResult {
    for (const e of errors) this.log.error({ error: e }, 'reload rejected: the running configuration stays');
    return { ok: false, errors };
  }

  private async doReload(): Promise<ReloadResult> {
    let loaded: ReturnType<typeof loadConfig>;
    try {
      loaded = loadConfig(this.opts.configPath);
    } catch (err) {
      return this.rejectReload(err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [(err as Error).message]);
    }
    const next = loaded.config;
    const plan = planReload(this.config, next, this.insideOpen);
    if (plan.rejections.length) return this.rejectReload(plan.rejections);
    for (const a of plan.release) this.addresses.release({ address: a.address, dev: a.dev });
    for (const a of plan.hold) await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label });
    this.config = next;
    // VIPs a vrrp_instance now manages are not forwarded until the speaker says MASTER; the
    // speaker's onOwnership republishes once VIPs added to a MASTER are on the interface.
    this.vrrpVips = vrrpManagedVips(next);
    if (plan.timeouts) {
      this.timeouts = plan.timeouts;
      this.workers.postTimeouts(plan.timeouts);
    }
    await this.resolveNeighbours(false);
    this.health.apply(next);
    await this.publish();
    // VRRP is diffed in place (no restart, no flap); see VrrpSpeaker.reload.
    try {
      if (this.vrrp) await this.vrrp.reload(vrrpConfigFrom(next));
      else await this.startVrrp();
    } catch (err) {
      const errors = [`vrrp: ${(err as Error).message}`];
      this.log.error({ error: errors[0] }, 'reload: VRRP changes not fully applied');
      return { ok: false, errors, version: this.version };
    }
    this.log.info({ version: this.version, services: this.snapshot.services.length }, 'configuration reloaded');
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
        if (this.workers.size) await this.publish();
      },
      onTransition: (name, from, to, reason) => {
        this.log.info({ instance: name, from, to, reason }, `VRRP ${name}: ${from} -> ${to}`);
        if (this.sync && name === this.config.global_defs.lvs_sync_daemon?.instance) this.sync.setRole(to === 'MASTER' ? 'master' : 'backup');
      },
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
      importFlows: (flows) => this.workers.postAll({ type: 'sync-import', flows }),
      setSending: (on) => this.workers.postAll({ type: 'sync-sending', on }),
      dumpFlows: async () => (await this.workers.askAll({ type: 'sync-dump' }) as OutboxRecord[][]).flat(),
    });
    await this.sync.start();
  }

  private fullIndex(): { index: SyncIndex; forward: Map<number, number> } {
    if (!this.syncIndex) {
      const all = compileSnapshot(this.config, this.ids, {
        macOf: () => null, healthOf: () => undefined, sorryActive: () => false, ownsVip: () => true, tunnelSource: this.tunnelSource,
      }, this.version);
      this.syncIndex = { index: new SyncIndex(all), forward: new Map(all.services.map((svc) => [svc.id, svc.forward])) };
    }
    return this.syncIndex;
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
    for (const w of this.watchers.splice(0)) w.close();
    // Priority 0 first, so the backup takes over before this dataplane stops (RFC 3768 6.4.3).
    await this.vrrp?.stop();
    this.sync?.close();
    await this.health.stop();
    await this.workers.stop();
    this.addresses.releaseAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.log.info('stopped');
  }

  private compile(): Snapshot {
    return compileSnapshot(this.config, this.ids, {
      macOf: (ip) => this.nextHops.macOf(ip),
      healthOf: (serviceId, rsKey) => this.health.healthOf(serviceId, rsKey),
      sorryActive: (serviceId) => this.health.sorryActive(serviceId),
      ownsVip: (vip) => !this.vrrpVips.has(vip) || this.ownedVrrpVips.has(vip),
      tunnelSource: this.tunnelSource,
    }, ++this.version);
  }

  /** Resolves when every worker forwards by the new snapshot. */
  private publish(): Promise<void> {
    this.snapshot = this.compile();
    this.syncIndex = null;
    return this.workers.postSnapshot(this.snapshot);
  }

  /** Real servers' next-hop MACs from the kernel (resolving missing ones); republishes on change. */
  private async resolveNeighbours(republish: boolean): Promise<void> {
    const timeoutMs = republish ? NEIGHBOUR_REFRESH_TIMEOUT_MS : NEIGHBOUR_LOAD_TIMEOUT_MS;
    const changed = await this.nextHops.refresh(nextHopAddresses(this.config), timeoutMs);
    if (changed && republish) void this.publish();
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
      vrrpStatus: () => this.vrrp?.status() ?? [],
      syncStatus: () => this.sync?.status() ?? null,
      reload: () => this.reload(),
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
