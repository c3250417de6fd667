/**
 * The dataplane workers, one per queue: started one after another (each must report ready),
 * watched for failures, fed snapshots and timeouts, asked for flow data, stopped.
 */
import { dataplaneWorkerSource } from '../appliance/embedded.js';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type pino from 'pino';
import type { Timeouts } from '../conntrack/tcp-states.js';
import { allocateCounters, allocateIpvsCounters } from '../dataplane/counters.js';
import type { Snapshot } from '../dataplane/snapshot.js';
import type { WorkerInit, WorkerRequest } from '../dataplane/worker.js';
import { SyncOutbox } from '../dataplane/sync-outbox.js';
import { allocateResidence } from '../dataplane/residence.js';
import { TapSteering } from './tap-steering.js';

// Generous: on a loaded machine (2 shared cores, many tests) loading the addon and attaching
// takes tens of seconds; a worker that never reports is still named after this.
const WORKER_START_TIMEOUT_MS = 60_000;
/** How long a worker may take to answer a request, and to exit once told to stop. */
const WORKER_ANSWER_TIMEOUT_MS = 3000;
const WORKER_STOP_TIMEOUT_MS = 3000;
/**
 * A worker that dies is started again (RESTART_DELAYS_MS, then it gives up). Its flow
 * table lived in its heap and is gone: the log line says how many connections were lost.
 */
const RESTART_DELAYS_MS = [0, 100, 250, 500, 1000, 2000];
/**
 * Fault injection for the tests (test/e2e-faults/): with ULVS_TEST_FAULTS=1 in the director's
 * environment, SIGUSR2 makes the worker of queue 0 throw from its batch loop. Only an operator
 * who can already signal the director (root, or its own user) can set it off, and only in a
 * director started with the variable set; without it SIGUSR2 keeps Node's default.
 */
export const FAULT_ENV = 'ULVS_TEST_FAULTS';

/** A failure the user can fix, reported as one line (no stack). */
export class DirectorError extends Error {}

/** What every worker is started with; the pool adds the queue, counters and channels. */
export type WorkerSettings = Omit<WorkerInit, 'queue' | 'counters' | 'ipvsCounters' | 'residence' | 'control' | 'port' | 'syncOutbox' | 'syncClaims'>;

interface WorkerHandle {
  queue: number;
  settings: WorkerSettings;
  worker: Worker;
  port: MessagePort;
  counters: Float64Array;
  ipvsCounters: Float64Array;
  /** Residence time histogram (dataplane/residence.ts). */
  residence: Float64Array;
  /** [0] = stop flag, read by the worker between batches; [1] = its live flows. */
  control: Int32Array;
  pending: Map<number, (result: unknown) => void>;
  /** Where the worker puts flows for connection sync (drained by the SyncDaemon). */
  outbox: SyncOutbox;
  /** Where the worker says it took over the count of a synced flow (drained by the SyncDaemon). */
  claims: SyncOutbox;
}

interface ReadyPort { ifname: string; backend: string; xdpMode?: string; fallbackReason?: string; tapName?: string;
  /** busy_poll true/adaptive: the busy-poll socket options the kernel refused (null: none). */
  busyPollRefused?: Record<string, string> | null;
  /** The same options read back from the socket (getsockopt). */
  busyPollValues?: { preferBusyPoll: number; busyPoll: number; budget: number } }

export class WorkerPool {
  private readonly workers: WorkerHandle[] = [];
  private requestId = 0;
  /** What a restarted worker must be told to forward like the others. */
  private latestSnapshot: Snapshot | null = null;
  private latestTimeouts: Partial<Timeouts> = {};
  private syncSending: WorkerRequest | null = null;
  private readonly faultInjection = process.env[FAULT_ENV] === '1';
  /** Restarts so far (ulvs stats could show it; the tests read the log). */
  restarts = 0;
  /** Interfaces some worker took packets from with AF_XDP (so the XDP program on them is ulvs's). */
  readonly afxdpInterfaces = new Set<string>();
  /** TAP's tc plumbing and steering, run here: workers run no child process. */
  readonly tapSteering: TapSteering;

  /** `isStopping`: the director is shutting down, so a worker's exit is expected. */
  constructor(private readonly log: pino.Logger, private readonly isStopping: () => boolean) {
    this.tapSteering = new TapSteering(log);
    if (this.faultInjection) {
      log.warn(`${FAULT_ENV}=1: SIGUSR2 crashes dataplane worker 0 (test mode)`);
      process.on('SIGUSR2', () => this.workers[0]?.port.postMessage({ type: 'fault', what: 'crash' } satisfies WorkerRequest));
    }
  }

  get size(): number { return this.workers.length; }

  /** Each worker's shared counters (summed by the stats command). */
  get counters(): Float64Array[] { return this.workers.map((w) => w.counters); }

  /** Each worker's per-service and per-real-server counters (summed by IpvsCounters). */
  get ipvsCounters(): Float64Array[] { return this.workers.map((w) => w.ipvsCounters); }

  /** Each worker's residence time histogram (summarized by the stats command). */
  get residence(): Float64Array[] { return this.workers.map((w) => w.residence); }

  /** Starts the worker of one queue and waits until its ports are open. */
  async start(queue: number, settings: WorkerSettings): Promise<void> {
    this.latestSnapshot ??= settings.snapshot;
    const shared = {
      counters: allocateCounters(), ipvsCounters: allocateIpvsCounters(), residence: allocateResidence(),
      control: new Int32Array(new SharedArrayBuffer(8)), outbox: new SyncOutbox(), claims: new SyncOutbox(),
    };
    this.workers.push(await this.launch(queue, settings, shared));
  }

  /**
   * One worker thread; a restarted one gets its predecessor's shared memory (counters, sync
   * rings): the dead worker was their only writer, so the totals carry on.
   */
  private async launch(queue: number, settings: WorkerSettings, shared: Pick<WorkerHandle, 'counters' | 'ipvsCounters' | 'residence' | 'control' | 'outbox' | 'claims'>): Promise<WorkerHandle> {
    const { port1, port2 } = new MessageChannel();
    const { counters, ipvsCounters, residence, control, outbox, claims } = shared;
    Atomics.store(control, 0, 0);
    Atomics.store(control, 1, 0);
    const init: WorkerInit = { ...settings, queue, counters, ipvsCounters, residence, control, port: port2, syncOutbox: outbox.buffer, syncClaims: claims.buffer,
      faultInjection: this.faultInjection };
    const code = dataplaneWorkerSource(new URL('../dataplane/worker.js', import.meta.url));
    const launched = performance.now();
    const worker = new Worker(code.source, { eval: code.eval, workerData: init, transferList: [port2] });
    const handle: WorkerHandle = { queue, settings, worker, port: port1, counters, ipvsCounters, residence, control, pending: new Map(), outbox, claims };
    const ready = await new Promise<ReadyPort[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DirectorError(`dataplane worker for queue ${queue} did not start in time`)), WORKER_START_TIMEOUT_MS);
      port1.on('message', (msg: { type: string; [k: string]: unknown }) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          for (const p of msg.ports as ReadyPort[]) {
            // startMs: thread, modules, addon, ports (a restart's own figure is compared with it).
            this.log.info({ queue, ifname: p.ifname, backend: p.backend, xdpMode: p.xdpMode, startMs: Math.round(performance.now() - launched) }, `packets taken with ${p.backend}${p.xdpMode ? ` (XDP ${p.xdpMode} mode)` : ''}`);
            if (p.fallbackReason) this.log.warn({ ifname: p.ifname, reason: p.fallbackReason }, 'fell back');
            if (p.backend === 'afxdp') this.afxdpInterfaces.add(p.ifname);
            if (p.busyPollRefused) {
              const refused = Object.entries(p.busyPollRefused).map(([k, v]) => `${k}: ${v}`).join(', ');
              this.log.warn({ queue, ifname: p.ifname, refused: p.busyPollRefused },
                `busy_poll ${String(settings.busyPoll)}: the kernel refused busy-poll socket options (${refused}); the worker spins on poll() without them`);
            } else if (p.busyPollRefused === null && p.busyPollValues) {
              const v = p.busyPollValues;
              // Some kernels take SO_BUSY_POLL_BUDGET but cannot read it back (getsockopt: ENOPROTOOPT).
              const shown = (value: number, unit = ''): string => (value < 0 ? 'set (not readable on this kernel)' : `${value}${unit}`);
              this.log.info({ queue, ifname: p.ifname, ...v },
                `busy_poll ${String(settings.busyPoll)}: SO_PREFER_BUSY_POLL ${shown(v.preferBusyPoll)}, SO_BUSY_POLL ${shown(v.busyPoll, ' us')}, SO_BUSY_POLL_BUDGET ${shown(v.budget)} (read back from the socket)`);
            }
          }
          resolve(msg.ports as ReadyPort[]);
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
    // TAP: the worker's tap exists now; plumb and steer it (again, for a restarted worker's new tap).
    for (const [i, p] of ready.entries()) {
      if (p.backend !== 'tap' || !p.tapName) continue;
      try {
        await this.tapSteering.attach(p.ifname, p.tapName, i === 0 ? 'outside' : 'inside', settings.snapshot);
      } catch (err) {
        Atomics.store(control, 0, 1);
        await worker.terminate();
        throw new DirectorError(`cannot steer traffic on ${p.ifname}: ${(err as Error).message}`);
      }
    }
    worker.on('error', (err) => this.log.error({ queue, err: err.message, stack: err.stack }, 'dataplane worker failed'));
    worker.on('exit', (code) => {
      if (this.isStopping()) return;
      const lost = Atomics.load(control, 1);
      this.log.error({ queue, code, lostConnections: lost }, `dataplane worker ${queue} exited (${code}): ${lost} tracked connections lost, restarting it`);
      void this.restart(handle);
    });
    return handle;
  }

  /** Starts a dead worker's replacement with the latest snapshot, timeouts and sync role. */
  private async restart(dead: WorkerHandle): Promise<void> {
    for (const done of dead.pending.values()) done(undefined);
    dead.pending.clear();
    dead.port.close();
    const started = performance.now();
    for (const delay of RESTART_DELAYS_MS) {
      if (delay) await new Promise((r) => setTimeout(r, delay));
      if (this.isStopping()) return;
      try {
        const settings = { ...dead.settings, snapshot: this.latestSnapshot ?? dead.settings.snapshot, timeouts: { ...dead.settings.timeouts, ...this.latestTimeouts } };
        const next = await this.launch(dead.queue, settings, dead);
        if (this.isStopping()) { await this.stopWorker(next); return; }
        if (this.syncSending) next.port.postMessage(this.syncSending);
        this.workers[this.workers.indexOf(dead)] = next;
        this.restarts++;
        this.log.info({ queue: dead.queue, ms: Math.round(performance.now() - started) }, `dataplane worker ${dead.queue} restarted`);
        return;
      } catch (err) {
        this.log.warn({ queue: dead.queue, err: (err as Error).message }, `dataplane worker ${dead.queue} did not restart`);
      }
    }
    this.log.error({ queue: dead.queue }, `dataplane worker ${dead.queue} gave up restarting: queue ${dead.queue} does not forward`);
  }

  /** Each worker's connection-sync outbox. */
  get outboxes(): SyncOutbox[] { return this.workers.map((w) => w.outbox); }

  /** Each worker's claims ring (see Dataplane.claims), in queue order. */
  get claimRings(): SyncOutbox[] { return this.workers.map((w) => w.claims); }

  /** Workers running (one per queue). */
  get count(): number { return this.workers.length; }

  /** A message for every worker but the one at `skip` (its position, = its queue). */
  postOthers(skip: number, message: WorkerRequest): void {
    this.workers.forEach((w, i) => { if (i !== skip) w.port.postMessage(message); });
  }

  /** A message every worker reads between batches (sync role, imported flows). */
  postAll(message: WorkerRequest): void {
    if (message.type === 'sync-sending') this.syncSending = message;
    for (const w of this.workers) w.port.postMessage(message);
  }

  /** Workers swap to it between batches; resolves when every worker has (never rejects). */
  postSnapshot(snapshot: Snapshot): Promise<void> {
    this.latestSnapshot = snapshot;
    // TAP's tc filters follow once every worker has the snapshot (a VIP is steered before the
    // speaker adds it, as with AF_XDP's map); unchanged rules run no tc (tap-steering.ts).
    return Promise.all(this.workers.map((w) => this.ask(w, { type: 'snapshot', snapshot }))).then(
      () => undefined,
      (err: Error) => { this.log.warn({ version: snapshot.version, err: err.message }, 'a dataplane worker did not confirm a snapshot'); },
    ).then(() => this.tapSteering.apply(snapshot));
  }

  postTimeouts(timeouts: Partial<Timeouts>): void {
    this.latestTimeouts = { ...this.latestTimeouts, ...timeouts };
    for (const w of this.workers) w.port.postMessage({ type: 'timeouts', timeouts });
  }

  /** Asks every worker, one after another; the answers in queue order. */
  async askAll(request: Record<string, unknown>): Promise<unknown[]> {
    const answers: unknown[] = [];
    for (const w of this.workers) answers.push(await this.ask(w, request));
    return answers;
  }

  /** Asks the worker of position `index` (= its queue); undefined when it died before answering. */
  askOne(index: number, request: Record<string, unknown>): Promise<unknown> {
    return this.ask(this.workers[index], request);
  }

  /** Raises every worker's stop flag and waits for them to exit (terminating a stuck one). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.stopWorker(w)));
    await this.tapSteering.removeAll();
  }

  private ask(w: WorkerHandle, request: Record<string, unknown>): Promise<unknown> {
    const id = ++this.requestId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { w.pending.delete(id); reject(new Error('dataplane worker did not answer')); }, WORKER_ANSWER_TIMEOUT_MS);
      w.pending.set(id, (result) => { clearTimeout(timer); resolve(result); });
      w.port.postMessage({ ...request, id });
    });
  }

  private stopWorker(w: WorkerHandle): Promise<void> {
    return new Promise((resolve) => {
      Atomics.store(w.control, 0, 1);
      const timer = setTimeout(() => { void w.worker.terminate(); }, WORKER_STOP_TIMEOUT_MS);
      w.worker.once('exit', () => { clearTimeout(timer); w.port.close(); resolve(); });
      if (w.worker.threadId < 0) { clearTimeout(timer); resolve(); }
    });
  }
}
