/**
 * The director: loads the config, holds the static addresses, resolves next hops, starts one
 * dataplane worker per queue, publishes snapshots to them and answers the control socket.
 * Everything it takes from the system it gives back on stop (SIGTERM/SIGINT included).
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import type net from 'node:net';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type pino from 'pino';
import { ConfigError, formatDiagnostic, loadConfig, type UlvsConfig } from '../config/index.js';
import { DEFAULT_TIMEOUTS, formatTimeouts, type Timeouts } from '../conntrack/tcp-states.js';
import { allocateCounters, summarizeCounters } from '../dataplane/counters.js';
import { FORWARD_NAMES, type Snapshot } from '../dataplane/snapshot.js';
import type { WorkerInit } from '../dataplane/worker.js';
import { ipToNumber, numberToIp } from '../packet/addr.js';
import { AddressHolder } from './addresses.js';
import { recoverLeftovers } from './recovery.js';
import { compileSnapshot, IdRegistry, serviceKey, type HealthState } from './compile.js';
import { HealthManager, type HealthEvent, type QuorumEvent } from '../health/manager.js';
import { healthPlan } from '../health/plan.js';
import { vrrpConfigFrom } from '../vrrp/from-config.js';
import { VrrpSpeaker } from '../vrrp/speaker.js';
import { formatConnections, formatIpvsList, type ConnectionEntry, type ServiceStatus } from './format.js';
import { resolveNextHop } from './neighbours.js';
import { run } from '../os/run.js';
import { controlSocketPath, serveControl, type ControlRequest } from './socket.js';

const WORKER_START_TIMEOUT_MS = 20_000;
const NEIGHBOUR_REFRESH_MS = 5_000;

/** A failure the user can fix, reported as one line (no stack). */
export class DirectorError extends Error {}

interface WorkerHandle {
  worker: Worker;
  port: MessagePort;
  counters: Float64Array;
  control: Int32Array;
  pending: Map<number, (result: unknown) => void>;
}

export interface ReloadResult { ok: boolean; errors: string[]; version?: number }

export interface DirectorOptions {
  configPath: string;
  log: pino.Logger;
}

export class Director {
  private config!: UlvsConfig;
  private readonly ids = new IdRegistry();
  private readonly addresses = new AddressHolder();
  private readonly macs = new Map<string, string | null>();
  private readonly workers: WorkerHandle[] = [];
  private server: net.Server | null = null;
  private snapshot!: Snapshot;
  private version = 0;
  private requestId = 0;
  private timeouts: Timeouts = { ...DEFAULT_TIMEOUTS };
  private tunnelSource = 0;
  private insideOpen = false;
  private neighbourTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private watchers: FSWatcher[] = [];
  private health: HealthManager | null = null;
  /** "serviceId|ip:port" -> what the checks last said. */
  private readonly healthState = new Map<string, HealthState>();
  private readonly sorryActive = new Map<string, boolean>();
  private vrrp: VrrpSpeaker | null = null;
  /** VIPs some vrrp_instance manages, and those of them this director holds as MASTER. */
  private vrrpVips = new Set<string>();
  private ownedVrrpVips = new Set<string>();
  private reloading: Promise<ReloadResult> | null = null;

  constructor(private readonly opts: DirectorOptions) {}

  get log(): pino.Logger { return this.opts.log; }

  async start(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new DirectorError('ulvs needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF) to take packets from the kernel: run it as root');
    }
    const loaded = loadConfig(this.opts.configPath);
    this.config = loaded.config;
    const dp = this.config.dataplane;
    for (const ifname of [dp.interface, dp.inside].filter((x): x is string => !!x)) {
      if (!existsSync(`/sys/class/net/${ifname}`)) {
        throw new DirectorError(`interface ${ifname} does not exist in this network namespace: check dataplane.${ifname === dp.interface ? 'interface' : 'inside'}`);
      }
    }
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...dp.lvs_timeouts };
    this.server = await serveControl(controlSocketPath('default', dp.control_socket), (req) => this.handleControl(req));
    try {
      // The control socket is ours, so no live director of this instance runs here: whatever a
      // killed one left is adopted or removed now (src/control/leftovers.ts).
      await recoverLeftovers({ config: this.config, instance: dp.control_socket ?? 'default', log: this.log });
      for (const a of this.config.static_ipaddress) {
        await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label });
        this.log.info({ address: a.address, dev: a.dev }, 'holding static address');
      }
      this.tunnelSource = await this.primaryAddress(dp.interface);
      await this.resolveNeighbours(false);
      // VRRP-managed VIPs are not forwarded until the speaker says this director is MASTER.
      this.vrrpVips = new Set(this.config.vrrp_instances.flatMap((vi) => vi.virtual_ipaddress.map((a) => a.ip)));
      this.snapshot = this.compile();
      for (let queue = 0; queue < dp.queues; queue++) this.workers.push(await this.startWorker(queue));
      this.startHealthChecks();
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
    const old = this.config;
    const restartOnly = (['interface', 'inside', 'io', 'queues', 'conn_table_size'] as const)
      .filter((k) => JSON.stringify(old.dataplane[k]) !== JSON.stringify(next.dataplane[k]));
    if (restartOnly.length) {
      return this.rejectReload(restartOnly.map((k) => `dataplane.${k} changed: it takes effect only on restart`));
    }
    if (next.virtual_servers.some((vs) => vs.lb_kind === 'NAT') && !this.insideOpen) {
      return this.rejectReload(['a NAT service needs the inside interface, which this director did not open: restart to add the first NAT service']);
    }
    const key = (a: { address: string; dev: string }): string => `${a.address} ${a.dev}`;
    const wanted = new Set(next.static_ipaddress.map(key));
    for (const a of old.static_ipaddress) if (!wanted.has(key(a))) this.addresses.release({ address: a.address, dev: a.dev });
    for (const a of next.static_ipaddress) await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label });
    this.config = next;
    // VIPs a vrrp_instance now manages are not forwarded until the speaker says MASTER; the
    // speaker's onOwnership republishes once VIPs added to a MASTER are on the interface.
    this.vrrpVips = new Set(next.vrrp_instances.flatMap((vi) => vi.virtual_ipaddress.map((a) => a.ip)));
    const timeouts = { ...DEFAULT_TIMEOUTS, ...next.dataplane.lvs_timeouts };
    if (JSON.stringify(timeouts) !== JSON.stringify({ ...DEFAULT_TIMEOUTS, ...old.dataplane.lvs_timeouts })) {
      this.timeouts = timeouts;
      for (const w of this.workers) w.port.postMessage({ type: 'timeouts', timeouts });
    }
    await this.resolveNeighbours(false);
    if (this.health) {
      const plan = healthPlan(next);
      this.health.reload(plan.checks, plan.services);
    } else {
      this.startHealthChecks(); // the first checks may come with a reload
    }
    this.publish();
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

  /**
   * Health checks run on this (main) thread, never on a dataplane worker. Their verdicts become
   * snapshot changes: a failed server leaves scheduling (or gets weight 0 with
   * inhibit_on_failure), the sorry server comes in when quorum is lost.
   */
  private startHealthChecks(): void {
    const plan = healthPlan(this.config);
    if (plan.checks.length === 0 && !plan.services.some((s) => s.sorry_server)) return;
    this.health = new HealthManager(plan.checks, { services: plan.services });
    this.health.on('change', (e: HealthEvent) => {
      for (const serviceId of e.serviceIds) {
        this.healthState.set(`${serviceId}|${e.rsKey}`, { up: e.up, weight: e.weight });
      }
      this.log.info({ realServer: e.rsKey, services: e.serviceIds, up: e.up, weight: e.weight, reason: e.reason },
        `real server ${e.rsKey} is ${e.up ? 'up' : 'down'}`);
      if (this.workers.length) this.publish();
    });
    this.health.on('quorum', (e: QuorumEvent) => {
      if ((this.sorryActive.get(e.serviceId) ?? false) === e.sorryServerActive) return;
      this.sorryActive.set(e.serviceId, e.sorryServerActive);
      this.log.info({ service: e.serviceId, quorumUp: e.quorumUp, liveWeight: e.liveWeight },
        e.sorryServerActive ? 'quorum lost: sorry server takes the traffic' : 'quorum back: sorry server leaves');
      if (this.workers.length) this.publish();
    });
    this.health.start();
  }

  /** The VRRP speaker runs in this process; its ownership decides which VIPs are forwarded. */
  private async startVrrp(): Promise<void> {
    if (this.config.vrrp_instances.length === 0) return;
    this.vrrp = new VrrpSpeaker({
      config: vrrpConfigFrom(this.config),
      logger: this.log,
      onOwnership: (vips) => {
        this.ownedVrrpVips = new Set(vips);
        this.log.info({ vips }, 'VRRP ownership changed');
        if (this.workers.length) this.publish();
      },
      onTransition: (name, from, to, reason) => this.log.info({ instance: name, from, to, reason }, `VRRP ${name}: ${from} -> ${to}`),
    });
    await this.vrrp.start();
  }

  /** dataplane.autoreload: reload when the config or an included file changes (ldirectord's autoreload). */
  private watch(files: string[]): void {
    let timer: NodeJS.Timeout | null = null;
    for (const file of files) {
      try {
        this.watchers.push(watch(file, () => {
          if (timer) clearTimeout(timer);
          // Editors write files in several steps: wait for the writes to settle.
          timer = setTimeout(() => { void this.reload(); }, 300);
        }));
      } catch (err) {
        this.log.warn({ file, err: (err as Error).message }, 'cannot watch config file');
      }
    }
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
    await this.health?.stop();
    await Promise.all(this.workers.map((w) => this.stopWorker(w)));
    this.addresses.releaseAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.log.info('stopped');
  }

  private compile(): Snapshot {
    return compileSnapshot(this.config, this.ids, {
      macOf: (ip) => this.macs.get(ip) ?? null,
      healthOf: (serviceId, rsKey) => this.healthState.get(`${serviceId}|${rsKey}`),
      sorryActive: (serviceId) => this.sorryActive.get(serviceId) ?? false,
      ownsVip: (vip) => !this.vrrpVips.has(vip) || this.ownedVrrpVips.has(vip),
      tunnelSource: this.tunnelSource,
    }, ++this.version);
  }

  private publish(): void {
    this.snapshot = this.compile();
    for (const w of this.workers) w.port.postMessage({ type: 'snapshot', snapshot: this.snapshot });
  }

  private async primaryAddress(ifname: string): Promise<number> {
    const info = JSON.parse(await run('ip', ['-j', '-4', 'addr', 'show', 'dev', ifname])) as { addr_info?: { local: string; secondary?: boolean }[] }[];
    const primary = info[0]?.addr_info?.find((a) => !a.secondary);
    return primary ? ipToNumber(primary.local) : 0;
  }

  /** Real servers' next-hop MACs from the kernel (resolving missing ones); republishes on change. */
  private async resolveNeighbours(republish: boolean): Promise<void> {
    const ips = new Set(this.config.virtual_servers.flatMap((vs) => [
      ...vs.real_servers.map((rs) => rs.ip), ...(vs.sorry_server ? [vs.sorry_server.ip] : []),
    ]));
    let changed = false;
    await Promise.all([...ips].map(async (ip) => {
      let mac: string | null = null;
      try { mac = (await resolveNextHop(ip, republish ? 500 : 2000)).mac; } catch (err) {
        this.log.warn({ ip, err: (err as Error).message }, 'cannot route to real server');
      }
      if (mac === null && this.macs.get(ip)) return; // keep the last known MAC over a blip
      if (this.macs.get(ip) !== mac) {
        changed = true;
        if (mac) this.log.info({ ip, mac }, 'real server next hop resolved');
        else this.log.warn({ ip }, 'real server next hop not resolved yet: its packets are dropped');
      }
      this.macs.set(ip, mac);
    }));
    if (changed && republish) this.publish();
  }

  private async startWorker(queue: number): Promise<WorkerHandle> {
    const dp = this.config.dataplane;
    const { port1, port2 } = new MessageChannel();
    const counters = allocateCounters();
    const control = new Int32Array(new SharedArrayBuffer(4));
    // NAT needs the inside interface; open it whenever one is configured so that a reload
    // can add the first NAT service.
    const needsInside = this.snapshot.services.some((s) => s.forward === 1) || dp.inside !== undefined;
    this.insideOpen = needsInside && dp.inside !== undefined;
    const init: WorkerInit = {
      outside: dp.interface,
      inside: needsInside ? dp.inside ?? null : null,
      backend: dp.io,
      queue,
      snapshot: this.snapshot,
      connTableSize: dp.conn_table_size,
      timeouts: this.timeouts,
      expireNodestConn: dp.expire_nodest_conn,
      counters,
      control,
      port: port2,
    };
    const worker = new Worker(new URL('../dataplane/worker.js', import.meta.url), { workerData: init, transferList: [port2] });
    const handle: WorkerHandle = { worker, port: port1, counters, control, pending: new Map() };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DirectorError(`dataplane worker for queue ${queue} did not start in time`)), WORKER_START_TIMEOUT_MS);
      port1.on('message', (msg: { type: string; [k: string]: unknown }) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          for (const p of msg.ports as { ifname: string; backend: string; xdpMode?: string; fallbackReason?: string }[]) {
            this.log.info({ queue, ifname: p.ifname, backend: p.backend, xdpMode: p.xdpMode }, `packets taken with ${p.backend}${p.xdpMode ? ` (XDP ${p.xdpMode} mode)` : ''}`);
            if (p.fallbackReason) this.log.warn({ ifname: p.ifname, reason: p.fallbackReason }, 'fell back');
          }
          resolve();
        } else if (msg.type === 'error') {
          clearTimeout(timer);
          reject(new DirectorError(String(msg.message)));
        } else if (msg.type === 'reply') {
          const done = handle.pending.get(msg.id as number);
          handle.pending.delete(msg.id as number);
          done?.(msg.result);
        }
      });
      worker.once('error', (err) => { clearTimeout(timer); reject(err); });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new DirectorError(`dataplane worker exited (${code}) before it started`));
      });
    });
    worker.on('error', (err) => this.log.error({ queue, err: err.message, stack: err.stack }, 'dataplane worker failed'));
    worker.on('exit', (code) => {
      if (!this.stopping) this.log.error({ queue, code }, 'dataplane worker exited');
    });
    return handle;
  }

  private stopWorker(w: WorkerHandle): Promise<void> {
    return new Promise((resolve) => {
      Atomics.store(w.control, 0, 1);
      const timer = setTimeout(() => { void w.worker.terminate(); }, 3000);
      w.worker.once('exit', () => { clearTimeout(timer); w.port.close(); resolve(); });
      if (w.worker.threadId < 0) { clearTimeout(timer); resolve(); }
    });
  }

  private ask(w: WorkerHandle, request: Record<string, unknown>): Promise<unknown> {
    const id = ++this.requestId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { w.pending.delete(id); reject(new Error('dataplane worker did not answer')); }, 3000);
      w.pending.set(id, (result) => { clearTimeout(timer); resolve(result); });
      w.port.postMessage({ ...request, id });
    });
  }

  async listServices(): Promise<ServiceStatus[]> {
    const conns = new Map<number, [number, number]>();
    for (const w of this.workers) {
      const stats = await this.ask(w, { type: 'flowstats' }) as { conns: Record<string, [number, number]> };
      for (const [id, [a, i]] of Object.entries(stats.conns)) {
        const prev = conns.get(Number(id)) ?? [0, 0];
        conns.set(Number(id), [prev[0] + a, prev[1] + i]);
      }
    }
    const granularity = new Map(this.config.virtual_servers.map((vs) => [this.ids.idOf(serviceKey(vs)), vs.persistence_granularity]));
    // One line per VIP:port, as IPVS holds a service per address (a group lists each member).
    return this.snapshot.services.flatMap((s) => s.addresses.map((a) => ({ s, a }))).map(({ s, a }) => {
      return {
        protocol: s.protocol === 6 ? 'TCP' : 'UDP',
        vip: numberToIp(a.vip), port: a.vport,
        scheduler: s.scheduler,
        schedulerFlags: Object.entries(s.schedulerFlags).filter(([, on]) => on).map(([k]) => k.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)),
        persistenceTimeout: s.persistenceTimeout,
        persistenceNetmask: granularity.get(s.id) ?? '255.255.255.255',
        onePacket: s.onePacket,
        // As ipvsadm shows it: a server a check took out (without inhibit_on_failure) is not in the table.
        realServers: s.realServers.filter((rs) => rs.available).map((rs) => ({
          ip: numberToIp(rs.ip), port: rs.port, forward: FORWARD_NAMES[s.forward], weight: rs.weight,
          activeConns: conns.get(rs.rsId)?.[0] ?? 0, inactiveConns: conns.get(rs.rsId)?.[1] ?? 0, up: rs.available,
        })),
      };
    });
  }

  private async handleControl(req: ControlRequest): Promise<unknown> {
    switch (req.command) {
      case 'list': {
        const services = await this.listServices();
        return { services, text: formatIpvsList(services, this.config.dataplane.conn_table_size) };
      }
      case 'conns': {
        const all: ConnectionEntry[] = [];
        for (const w of this.workers) all.push(...(await this.ask(w, { type: 'conns' }) as ConnectionEntry[]));
        return { connections: all, text: formatConnections(all) };
      }
      case 'status':
        return { vrrp: this.vrrp?.status() ?? [] };
      case 'reload':
        return this.reload();
      case 'stats': {
        const stats = summarizeCounters(this.workers.map((w) => w.counters));
        for (const w of this.workers) {
          const f = await this.ask(w, { type: 'flowstats' }) as { size: number; capacity: number; evictions: number; inserts: number; expired: number };
          stats.conn_table_size = (stats.conn_table_size ?? 0) + f.size;
          stats.conn_table_capacity = (stats.conn_table_capacity ?? 0) + f.capacity;
          stats.conn_evictions = (stats.conn_evictions ?? 0) + f.evictions;
          stats.conn_expired = (stats.conn_expired ?? 0) + f.expired;
        }
        return stats;
      }
      case 'timeout': {
        const set = req.args?.set as Partial<Timeouts> | undefined;
        if (set) {
          this.timeouts = { ...this.timeouts, ...set };
          for (const w of this.workers) w.port.postMessage({ type: 'timeouts', timeouts: set });
        }
        return { timeouts: this.timeouts, text: formatTimeouts(this.timeouts) + '\n' };
      }
      default:
        throw new Error(`unknown control command ${req.command}`);
    }
  }
}
