/**
 * A dataplane worker: owns the packet ports of one queue and runs the batch loop. It sleeps in
 * poll() when idle (an idle director uses no CPU) and reads control messages synchronously
 * between batches, so a snapshot swap never lands in the middle of one.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { FlowTable } from '../conntrack/flow-table.js';
import { allocateTableMemory } from '../io/table-memory.js';
import { PersistenceTable, SharedPersistenceTable, templateCapacityFor } from '../conntrack/persistence.js';
import { TCP_STATE_NAMES, type Timeouts } from '../conntrack/tcp-states.js';
// Not io/index.js: open-core.ts opens ports without tc (no child process module in this thread).
import { openPortWith, waitReadable } from '../io/open-core.js';
import { describeIoError } from '../io/errors.js';
import { DESC_WORDS, type PacketPort } from '../io/port.js';
import { Dataplane } from './pipeline.js';
import { isSyncWorthy } from './sync-offers.js';
import { OUTBOX_CONNECTION, OUTBOX_TEMPLATE, SyncOutbox, type OutboxRecord, type OutboxRecord6 } from './sync-outbox.js';
import type { ImportedFlow, ImportedFlow6, ImportedTemplate, ImportedTemplate6 } from './sync-offers.js';
import { FORWARD_NAT, type Snapshot } from './snapshot.js';
import { allSteeringFor } from './steering.js';
import { nowSeconds } from './clock.js';
import { performance } from 'node:perf_hooks';
import { IdleStrategy, SOCKET_BUSY_POLL_US, type BusyPollMode } from './idle-strategy.js';
import { recordResidence } from './residence.js';
import type { AfxdpPort } from '../io/afxdp.js';
import { DUMP_FLOWS6, DUMP_TEMPLATES, dumpChunk, type DumpRequest } from './conn-dump.js';
import { snapshotTemplates6 } from '../conntrack/persistence6.js';
import { heapFigures } from '../os/memory.js';

export interface WorkerInit {
  outside: string;
  inside: string | null;
  backend: 'afxdp' | 'tap' | 'auto';
  queue: number;
  snapshot: Snapshot;
  connTableSize: number;
  timeouts: Partial<Timeouts>;
  expireNodestConn: boolean;
  counters: Float64Array;
  /** Per-service and per-real-server counters (counters.ts allocateIpvsCounters). */
  ipvsCounters: Float64Array;
  /** dataplane.busy_poll and busy_poll_spin_us (idle-strategy.ts). */
  busyPoll: BusyPollMode;
  busyPollSpinUs?: number;
  /** Residence time histogram (residence.ts), shared with the main thread. */
  residence: Float64Array;
  /** [0] = stop flag; [1] = live flows, written by the worker (what a crash loses). */
  control: Int32Array;
  /**
   * Test mode only (ULVS_TEST_FAULTS=1 in the director's environment, see worker-pool.ts):
   * the 'fault' request is honoured. Off, a 'fault' request is ignored.
   */
  faultInjection?: boolean;
  port: MessagePort;
  /** The connection-sync outbox this worker fills while its director is the sync MASTER. */
  syncOutbox: SharedArrayBuffer | null;
  /** Where this worker says it now counts a synced flow (queues > 1; see Dataplane.claims). */
  syncClaims: SharedArrayBuffer | null;
  /**
   * queues > 1: the persistence templates every worker shares (PersistenceTable.allocateShared),
   * so persistence holds whichever queue RSS puts a client's connection on. null: this worker's own.
   */
  templateMemory?: SharedArrayBuffer | null;
}

export type WorkerRequest =
  | { type: 'snapshot'; snapshot: Snapshot; id?: number }
  | { type: 'timeouts'; timeouts: Partial<Timeouts> }
  | DumpRequest
  | { type: 'flowstats'; id: number }
  /** This thread's V8 heap (os/memory.ts), for `ulvs stats`. */
  | { type: 'memory'; id: number }
  /** Connection sync: fill the outbox (this director is the sync MASTER) or not. */
  | { type: 'sync-sending'; on: boolean }
  /**
   * Connection sync: templates and flows the MASTER had, to install; `owner` is the worker
   * that counts each flow (the others hold an uncounted copy; -1: every worker counts).
   */
  | { type: 'sync-import'; flows: (ImportedFlow | ImportedFlow6)[]; owners: number[] | null; templates: (ImportedTemplate | ImportedTemplate6)[] }
  /** Connection sync: another worker counts these flows now (they carried traffic there). */
  | { type: 'sync-disown'; flows: (OutboxRecord | OutboxRecord6)[] }
  /** Connection sync: every flow worth a backup's table, for a resync. */
  | { type: 'sync-dump'; id: number }
  /** Test mode only: throw an uncaught error from the batch loop (the worker dies). */
  | { type: 'fault'; what: 'crash' };

const BATCH = 64;
/** Batches drained per wake-up before looking at control messages again. */
const MAX_BATCHES_PER_WAKE = 64;
/*
 * How long an idle worker sleeps in poll() before it looks at control messages again
 * (idle-strategy.ts IDLE_POLL_MS, 10 ms): a new snapshot (a VRRP takeover, a health change)
 * waits at most this long. 100 wake-ups a second cost no measurable CPU. busy_poll true spins
 * in 1-ms slices instead, so a snapshot waits at most that.
 */
const EXPIRE_VISITS_PER_LOOP = 256;

function main(init: WorkerInit): void {
  const mp = init.port;
  let outside: PacketPort | null = null;
  let inside: PacketPort | null = null;
  try {
    // TAP: tc is the main thread's (src/control/tap-steering.ts); a worker runs no child process.
    outside = openPortWith({ ifname: init.outside, queue: init.queue, backend: init.backend }, null);
    if (init.inside) inside = openPortWith({ ifname: init.inside, queue: init.queue, backend: outside.backend }, null);
  } catch (err) {
    outside?.close();
    const e = err as NodeJS.ErrnoException;
    mp.postMessage({ type: 'error', message: describeIoError(err, e.code === 'ENODEV' && outside ? init.inside! : init.outside), code: e.code });
    return;
  }
  const ports = inside ? [outside, inside] : [outside];
  const out: PacketPort = outside;
  const ins: PacketPort | null = inside;
  // AF_XDP steering is a BPF map update through the addon (no process); TAP's is tc, applied by
  // the main thread once this worker confirms the snapshot.
  const applySteering = (snapshot: Snapshot): void => {
    if (outside!.backend !== 'afxdp') return;
    const rules = allSteeringFor(snapshot);
    outside!.setSteering(rules.outside);
    inside?.setSteering(rules.inside);
  };
  const capacity = templateCapacityFor(init.connTableSize);
  const templates = init.templateMemory
    ? new SharedPersistenceTable({ capacity, memory: init.templateMemory, owner: init.queue + 1 })
    : new PersistenceTable({ capacity });
  // Shared templates are listed and counted once, by the worker of queue 0.
  const reportsTemplates = !init.templateMemory || init.queue === 0;
  const reportsTemplates6 = (): boolean => !(dataplane.v6?.templates instanceof SharedPersistenceTable) || init.queue === 0;
  const flows = new FlowTable({
    capacity: init.connTableSize, timeouts: init.timeouts, expireNodestConn: init.expireNodestConn, templates, memory: allocateTableMemory,
  });
  const dataplane = new Dataplane(init.snapshot, flows, templates, init.counters, outside, inside, init.ipvsCounters);
  const syncOutbox = init.syncOutbox ? new SyncOutbox(init.syncOutbox) : null;
  dataplane.claims = init.syncClaims ? new SyncOutbox(init.syncClaims) : null;
  try {
    applySteering(init.snapshot);
  } catch (err) {
    for (const p of ports) p.close();
    mp.postMessage({ type: 'error', message: `cannot steer traffic on ${init.outside}: ${(err as Error).message}` });
    return;
  }
  const idle = new IdleStrategy(init.busyPoll, init.busyPollSpinUs);
  mp.postMessage({
    type: 'ready',
    ports: ports.map((p) => ({ ifname: p.ifname, backend: p.backend, xdpMode: p.xdpMode, fallbackReason: p.fallbackReason,
      tapName: (p as { tapName?: string }).tapName, busyPollRefused: idle.spins ? askBusyPoll(p) : undefined,
      busyPollValues: idle.spins && p.backend === 'afxdp' ? (p as AfxdpPort).busyPoll() : undefined })),
  });

  const descs = new Uint32Array(BATCH * DESC_WORDS);
  const residence = init.residence;
  // An error thrown from the loop kills this thread: close the ports first, so the worker the
  // pool starts in its place can bind the same queue (worker-pool.ts restarts it).
  try {
    loop();
  } finally {
    for (const p of ports) p.close();
  }
  mp.postMessage({ type: 'stopped' });

  function loop(): void {
    while (Atomics.load(init.control, 0) === 0) {
      for (let msg = receiveMessageOnPort(mp); msg; msg = receiveMessageOnPort(mp)) {
        const req = msg.message as WorkerRequest;
        handleRequest(req);
      }
      const ready = waitReadable(ports, idle.timeoutMs, idle.spinUs);
      idle.next(ready !== 0);
      const now = nowSeconds();
      if (ready & 1) {
        for (let b = 0; b < MAX_BATCHES_PER_WAKE; b++) {
          const n = out.receive(descs, BATCH);
          if (n === 0) break;
          const received = performance.now();
          dataplane.processOutside(descs, n, now);
          out.transmit(descs, n, ins ?? undefined);
          recordResidence(residence, (performance.now() - received) * 1e6, n);
          if (n < BATCH) break;
        }
      }
      if (ins && ready & 2) {
        for (let b = 0; b < MAX_BATCHES_PER_WAKE; b++) {
          const n = ins.receive(descs, BATCH);
          if (n === 0) break;
          const received = performance.now();
          dataplane.processInside(descs, n, now);
          ins.transmit(descs, n, out);
          recordResidence(residence, (performance.now() - received) * 1e6, n);
          if (n < BATCH) break;
        }
      }
      flows.expireSome(now, EXPIRE_VISITS_PER_LOOP);
      templates.expireSome(now, EXPIRE_VISITS_PER_LOOP);
      dataplane.fnat.publish();
      const flows6 = dataplane.v6?.flows;
      if (flows6 !== undefined) flows6.expireSome(now, EXPIRE_VISITS_PER_LOOP);
      dataplane.v6?.templates.expireSome(now, EXPIRE_VISITS_PER_LOOP);
      Atomics.store(init.control, 1, flows.stats.size + (flows6?.stats.size ?? 0));
    }
  }

  function handleRequest(req: WorkerRequest): void {
    switch (req.type) {
      case 'snapshot':
        dataplane.setSnapshot(req.snapshot, nowSeconds());
        applySteering(req.snapshot);
        // Confirmed once the steering is in place (AF_XDP; TAP's follows on the main thread before
        // the pool resolves): the VRRP speaker adds the VIP and GARPs after.
        if (req.id !== undefined) mp.postMessage({ type: 'reply', id: req.id, result: req.snapshot.version });
        break;
      case 'timeouts':
        flows.setTimeouts(req.timeouts);
        dataplane.v6?.flows.setTimeouts(req.timeouts);
        break;
      case 'conns': {
        if (req.table === DUMP_FLOWS6) {
          const now = nowSeconds();
          // IPv6 connections as ipvsadm -Lnc prints them: [addr]:port (conn-dump.ts says why here).
          const v6 = dataplane.v6;
          // Templates first, as ipvsadm -Lnc (shared ones listed once, by queue 0, as IPv4's).
          const templates6 = v6 !== null && reportsTemplates6() ? snapshotTemplates6(v6.templates, now).map((t) => ({
            protocol: t.proto === 6 ? 'TCP' : t.proto === 17 ? 'UDP' : 'IP', expiresIn: t.expiresIn, state: 'NONE',
            source: `[${t.client}]:0`, virtual: `[${t.vip}]:${t.vport}`, destination: `[${v6.rsAddressText(t.rsId)}]:${t.rsPort}` })) : [];
          const entries = (dataplane.v6?.flows.snapshot6(now) ?? []).map((f) => ({
            protocol: f.proto === 6 ? 'TCP' : 'UDP', expiresIn: f.expiresIn, state: f.state,
            source: `[${f.client}]:${f.clientPort}`, virtual: `[${f.vip}]:${f.vport}`, destination: `[${f.rs}]:${f.rsPort}` }));
          mp.postMessage({ type: 'reply', id: req.id, result: { words: new Uint32Array(0), count: 0, next: -1, entries: [...templates6, ...entries] } });
          break;
        }
        // One chunk per request, copied into a transferred typed array: the main thread formats
        // (conn-dump.ts), and this thread forwards between chunks.
        const chunk = req.table === DUMP_TEMPLATES && !reportsTemplates
          ? { words: new Uint32Array(0), count: 0, next: -1 }
          : dumpChunk(req.table === DUMP_TEMPLATES ? templates : flows, nowSeconds(), req.from);
        mp.postMessage({ type: 'reply', id: req.id, result: chunk }, [chunk.words.buffer as ArrayBuffer]);
        break;
      }
      case 'sync-sending':
        dataplane.setSyncOutbox(req.on ? syncOutbox : null);
        break;
      case 'sync-import': {
        const now = nowSeconds();
        // Templates first: the flows of a persistent service hold theirs. Not looked up in this
        // worker's snapshot: on a BACKUP it forwards no service (it holds no VIP), and a template
        // dropped here was the one `list -c` never showed (the main thread had matched it).
        for (const tpl of req.templates) {
          if (tpl.family === 6) dataplane.ipv6().importTemplate(tpl, now);
          else dataplane.importTemplate(tpl, now);
        }
        req.flows.forEach((f, i) => {
          const counted = req.owners === null || req.owners[i] === init.queue;
          if (f.family === 6) dataplane.ipv6().importFlow(f, now, counted);
          else dataplane.importFlow(f, now, counted);
        });
        break;
      }
      case 'sync-disown': {
        const now = nowSeconds();
        const tuple = flows.tuple;
        const flows6: OutboxRecord6[] = [];
        for (const f of req.flows) {
          if (f.family === 6) { flows6.push(f); continue; }
          tuple[0] = f.proto; tuple[1] = f.clientIp; tuple[2] = f.clientPort; tuple[3] = f.vip; tuple[4] = f.vport;
          const flow = flows.lookupTuple(now);
          if (flow >= 0) flows.disown(flow);
        }
        if (flows6.length > 0) dataplane.v6?.disown(flows6, now);
        break;
      }
      case 'sync-dump': {
        const now = nowSeconds();
        const out: (OutboxRecord | OutboxRecord6)[] = dataplane.v6?.dump(now, reportsTemplates6()) ?? [];
        // Templates first, as the master's drain sends them next to their flows.
        for (const tpl of reportsTemplates ? templates.snapshot(now) : []) {
          out.push({ kind: OUTBOX_TEMPLATE, proto: tpl.proto, state: 0, clientIp: tpl.clientIp, clientPort: 0,
            vip: tpl.vip, vport: tpl.vport, rsIp: tpl.rsIp, rsPort: tpl.rsPort, rsId: tpl.rsId, service: tpl.service, timeout: tpl.expiresIn });
        }
        flows.forEach(now, (f) => {
          const state = f.proto === 6 ? TCP_STATE_NAMES.indexOf(f.state) : 0;
          if (!isSyncWorthy(f.proto, state)) return;
          out.push({ kind: OUTBOX_CONNECTION, proto: f.proto, state, clientIp: f.clientIp, clientPort: f.clientPort,
            vip: f.vip, vport: f.vport, rsIp: f.rsIp, rsPort: f.rsPort, rsId: f.rsId, service: f.service, timeout: f.expiresIn });
        });
        mp.postMessage({ type: 'reply', id: req.id, result: out });
        break;
      }
      case 'memory':
        mp.postMessage({ type: 'reply', id: req.id, result: heapFigures() });
        break;
      case 'fault':
        if (init.faultInjection && req.what === 'crash') throw new Error('injected fault: dataplane worker crash (ULVS_TEST_FAULTS)');
        break;
      case 'flowstats': {
        // ActiveConn/InActConn and PersistConn (templates) of the real servers in the running config, keyed by rsId.
        const conns: Record<number, [number, number, number]> = {};
        const persist = reportsTemplates ? templates.countsByRealServer(nowSeconds()) : new Map<number, number>();
        // An rsId is one family: IPv6 servers' PersistConn come from the IPv6 templates.
        if (dataplane.v6 && reportsTemplates6()) for (const [rsId, n] of dataplane.v6.templates.countsByRealServer(nowSeconds())) persist.set(rsId, n);
        for (const s of dataplane.tables.snapshot.services) {
          for (const rs of s.realServers) conns[rs.rsId] = [flows.activeConns[rs.rsId], flows.inactiveConns[rs.rsId], persist.get(rs.rsId) ?? 0];
        }
        const v6 = dataplane.v6?.flows.stats;
        const stats = v6 === undefined ? flows.stats : { ...flows.stats, size: flows.stats.size + v6.size, inserts: flows.stats.inserts + v6.inserts,
          evictions: flows.stats.evictions + v6.evictions, expired: flows.stats.expired + v6.expired, flushed: flows.stats.flushed + v6.flushed };
        mp.postMessage({ type: 'reply', id: req.id, result: { ...stats, capacity: flows.capacity, conns } });
        break;
      }
    }
  }
}

/**
 * Busy-poll socket options on an AF_XDP port (busy_poll true/adaptive): null when the kernel
 * took them all, else what it refused (the pool logs one line: the worker spins without them).
 * A TAP port is a character device with no socket options: the worker spins on its poll().
 */
function askBusyPoll(port: PacketPort): Record<string, string> | null {
  if (port.backend !== 'afxdp') return { all: 'a TAP device has no busy-poll socket options' };
  const answer = (port as AfxdpPort).setBusyPoll(SOCKET_BUSY_POLL_US, BATCH);
  const refused = Object.entries(answer).filter(([, err]) => err !== '');
  return refused.length === 0 ? null : Object.fromEntries(refused);
}

main(workerData as WorkerInit);
