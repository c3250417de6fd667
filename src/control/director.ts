/**
 * The director: loads the config, holds the static addresses, resolves next hops, starts one
 * dataplane worker per queue, publishes snapshots to them and answers the control socket.
 * Everything it takes from the system it gives back on stop (SIGTERM/SIGINT included).
 */
import { existsSync } from 'node:fs';
import type net from 'node:net';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type pino from 'pino';
import { loadConfig, type UlvsConfig } from '../config/index.js';
import { DEFAULT_TIMEOUTS, formatTimeouts, type Timeouts } from '../conntrack/tcp-states.js';
import { allocateCounters, summarizeCounters } from '../dataplane/counters.js';
import { FORWARD_NAMES, type Snapshot } from '../dataplane/snapshot.js';
import type { WorkerInit } from '../dataplane/worker.js';
import { ipToNumber, numberToIp } from '../packet/addr.js';
import { AddressHolder } from './addresses.js';
import { compileSnapshot, IdRegistry } from './compile.js';
import { formatConnections, formatIpvsList, type ConnectionEntry, type ServiceStatus } from './format.js';
import { resolveNextHop } from './neighbours.js';
import { run } from './shell.js';
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

export interface DirectorOptions {
  configPath: string;
  log: pino.Logger;
  socketPath?: string;
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
  private neighbourTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly opts: DirectorOptions) {}

  get log(): pino.Logger { return this.opts.log; }

  async start(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw new DirectorError('ulvs needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF) to take packets from the kernel: run it as root');
    }
    this.config = loadConfig(this.opts.configPath).config;
    const dp = this.config.dataplane;
    for (const ifname of [dp.interface, dp.inside].filter((x): x is string => !!x)) {
      if (!existsSync(`/sys/class/net/${ifname}`)) {
        throw new DirectorError(`interface ${ifname} does not exist in this network namespace: check dataplane.${ifname === dp.interface ? 'interface' : 'inside'}`);
      }
    }
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...dp.lvs_timeouts };
    this.server = await serveControl(controlSocketPath('default', dp.control_socket), (req) => this.handleControl(req));
    try {
      for (const a of this.config.static_ipaddress) {
        await this.addresses.hold({ address: a.address, dev: a.dev, label: a.label });
        this.log.info({ address: a.address, dev: a.dev }, 'holding static address');
      }
      this.tunnelSource = await this.primaryAddress(dp.interface);
      await this.resolveNeighbours(false);
      this.snapshot = this.compile();
      for (let queue = 0; queue < dp.queues; queue++) this.workers.push(await this.startWorker(queue));
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.neighbourTimer = setInterval(() => { void this.resolveNeighbours(true); }, NEIGHBOUR_REFRESH_MS);
    this.neighbourTimer.unref();
  }

  /** Idempotent; safe from signal handlers. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.neighbourTimer) clearInterval(this.neighbourTimer);
    await Promise.all(this.workers.map((w) => this.stopWorker(w)));
    this.addresses.releaseAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.log.info('stopped');
  }

  private compile(): Snapshot {
    return compileSnapshot(this.config, this.ids, {
      macOf: (ip) => this.macs.get(ip) ?? null,
      isUp: () => true,
      weightOf: (_key, configured) => configured,
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
    const ips = new Set(this.config.virtual_servers.flatMap((vs) => vs.real_servers.map((rs) => rs.ip)));
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
    const needsInside = this.snapshot.services.some((s) => s.forward === 1);
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
    return this.snapshot.services.map((s) => {
      const vs = this.config.virtual_servers.find((v) => v.vip === numberToIp(s.vip) && v.port === s.vport)!;
      return {
        protocol: s.protocol === 6 ? 'TCP' : 'UDP',
        vip: numberToIp(s.vip), port: s.vport,
        scheduler: s.scheduler,
        schedulerFlags: Object.entries(s.schedulerFlags).filter(([, on]) => on).map(([k]) => k.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)),
        persistenceTimeout: s.persistenceTimeout,
        persistenceNetmask: vs.persistence_granularity,
        onePacket: s.onePacket,
        realServers: s.realServers.map((rs) => ({
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
      case 'stats':
        return summarizeCounters(this.workers.map((w) => w.counters));
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
