// The TypeScript dataplane step alone (classify, flow lookup or schedule, rewrite) over
// synthetic 64-byte UDP frames in memory, batches of 64, with N flows already in the table.
// Run on its own to profile it: node --cpu-prof dist/bench/dataplane-step.js 1000000
// (arguments: FLOWS PACKETS [huge|plain]: the flow table's memory, huge pages by default as
// the director allocates it, or plain ArrayBuffers)
// measurePipelineCases times each case of the pipeline fixture table (the paths the tests check):
// node dist/bench/dataplane-step.js cases
import { fileURLToPath } from 'node:url';
import { FlowTable } from '../src/conntrack/flow-table.js';
import { PersistenceTable } from '../src/conntrack/persistence.js';
import { allocateCounters, C_DROP_BASE, C_TX } from '../src/dataplane/counters.js';
import { PIPELINE_CASES, RIG_SLOTS, rigFor, type PipelineCase } from '../src/dataplane/fixtures/pipeline-cases.js';
import { Dataplane } from '../src/dataplane/pipeline.js';
import { FORWARD_DR, FORWARD_FNAT, FORWARD_NAT, type ForwardMethod, type Snapshot } from '../src/dataplane/snapshot.js';
import { DESC_WORDS, DROP, type PacketPort } from '../src/io/port.js';
import { buildFrame } from '../src/packet/build.js';
import { ipToNumber, parseMac } from '../src/packet/addr.js';
import { allocateTableMemory } from '../src/io/table-memory.js';
import { warmUntilQuiet } from './warm-up.js';

export const BATCH = 64;
const FRAME_SIZE = 2048;
const VIP = '198.18.0.100';
const PORT = 9000;
/** Client addresses for synthetic flows: 198.18.128.0/17, 1024 source ports each. */
const CLIENT_BASE = ipToNumber('198.18.128.0');
/**
 * Visits flows in a scattered order: a prime (coprime with any flow count it does not divide),
 * far from every flow count used modulo it. The former 1_000_003 was 3 modulo 1e6 (and 1e3):
 * packets walked the records in insertion order, so at 1M flows the record loads were nearly
 * sequential and only the index missed, which flattered the 1M figure (measured, 3 runs each:
 * 155-176 ns per packet in that order against 178-194 ns in this one).
 */
const STRIDE = 618_029;

export interface StepResult {
  flows: number;
  packets: number;
  nsPerPacket: number;
  /** Time spent preparing frames (subtracted from nsPerPacket). */
  prepNsPerPacket: number;
  /**
   * The same from the process's CPU time (user + system) instead of the wall clock: time this
   * process was not running (a busy machine) is not in it, so A/B comparisons spread less.
   */
  cpuNsPerPacket: number;
  bytesPerFlow: number;
  tableCapacity: number;
  /** The timed run (performance.now() ms) and the V8 heap in use just before and after it. */
  timed: { startMs: number; endMs: number; heapUsedBefore: number; heapUsedAfter: number };
}

/** Full NAT: local addresses 198.18.1.200.., each with the whole default pool (64,512 ports). */
export const BENCH_LOCAL_ADDRESSES = 16;

function benchSnapshot(forward: ForwardMethod): Snapshot {
  const macs = ['02:18:00:00:00:0a', '02:18:00:00:00:14', '02:18:00:00:00:1e'];
  const fnat = forward === FORWARD_FNAT ? {
    // On the inside, as NAT's real servers: both send through the second port.
    localAddresses: Array.from({ length: BENCH_LOCAL_ADDRESSES }, (_, i) => ({ ip: ipToNumber(`198.18.1.${200 + i}`), portMin: 1024, portMax: 65535, outside: false })),
    localGroups: [Array.from({ length: BENCH_LOCAL_ADDRESSES }, (_, i) => i)],
  } : {};
  return {
    ...fnat,
    version: 1,
    tunnelSource: ipToNumber('198.18.0.2'),
    mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber(VIP), vport: PORT }], protocol: 17, forward, scheduler: 'rr', schedulerFlags: {},
      persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: macs.map((mac, i) => ({
        rsId: i + 2, ip: ipToNumber(`198.18.0.${10 * (i + 1)}`), port: PORT, weight: 1, available: true, mac, uthreshold: 0, lthreshold: 0,
      })),
      ...(forward === FORWARD_FNAT ? { localGroup: 0 } : {}),
    }],
  };
}

/** A PacketPort as far as the dataplane step looks at one: frame memory, frame size, MAC. */
function memoryPort(frameCount: number): PacketPort {
  return {
    backend: 'afxdp', ifname: 'mem0', mac: parseMac('02:18:00:00:00:02'), frames: new Uint8Array(frameCount * FRAME_SIZE), frameSize: FRAME_SIZE,
  } as unknown as PacketPort;
}

/** The flow table's memory: the addon's huge pages (as the director) or plain ArrayBuffers. */
export type TableMemory = 'huge' | 'plain';

/** The Dataplane class to time: this build's, or another build's (bench/counters-cost.ts). */
export type DataplaneClass = new (snapshot: Snapshot, flows: FlowTable, templates: PersistenceTable,
  counters: Float64Array, outside: PacketPort, inside: PacketPort | null) => Pick<Dataplane, 'processOutside'>;

/**
 * Measures ns per packet of Dataplane.processOutside with `flows` flows in a table of
 * `capacity` entries (the director's default conn_table_size when not given), forwarded by
 * `forward` (snapshot.ts FORWARD_*: DR by default; NAT, and Full NAT with its local addresses on
 * the inside, send out through a second port).
 */
export function measureDataplaneStep(flows: number, packets: number, capacity = 1 << 20,
  forward: ForwardMethod = FORWARD_DR, DataplaneImpl: DataplaneClass = Dataplane, memory: TableMemory = 'huge'): StepResult {
  const port = memoryPort(BATCH);
  // As the director's worker builds them: templates bounded by a quarter of the table.
  const templates = new PersistenceTable({ capacity: Math.max(1024, capacity >>> 2) });
  // As the director's worker allocates it (src/io/table-memory.ts), unless told 'plain'.
  const table = new FlowTable({ capacity, templates, ...(memory === 'huge' ? { memory: allocateTableMemory } : {}) });
  const counters = allocateCounters();
  const inside = forward === FORWARD_NAT || forward === FORWARD_FNAT ? memoryPort(1) : null;
  const dataplane = new DataplaneImpl(benchSnapshot(forward), table, templates, counters, port, inside);
  const template = buildFrame({ dstMac: '02:18:00:00:00:02', srcMac: '02:18:00:00:00:01',
    ip: { src: '198.18.0.1', dst: VIP, ttl: 64 }, udp: { srcPort: 1024, dstPort: PORT, checksum: 'none' }, payload: 'ulvs-bench-payload' });
  const frames = port.frames;
  const dv = new DataView(frames.buffer);
  const descs = new Uint32Array(BATCH * DESC_WORDS);
  const now = 1000;

  // Writes flow k's frame into slot j: template, source address and port, IPv4 checksum.
  const prepare = (j: number, k: number): void => {
    const off = j * FRAME_SIZE;
    frames.set(template, off);
    dv.setUint32(off + 26, CLIENT_BASE + (k >>> 10));
    dv.setUint16(off + 34, 1024 + (k & 1023));
    dv.setUint16(off + 24, 0);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += dv.getUint16(off + 14 + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint16(off + 24, ~sum & 0xffff);
    descs[j * DESC_WORDS] = off;
    descs[j * DESC_WORDS + 1] = template.length;
    descs[j * DESC_WORDS + 2] = 0;
  };
  const runBatches = (count: number, start: number, withDataplane: boolean): void => {
    let k = start;
    for (let b = 0; b < count; b++) {
      for (let j = 0; j < BATCH; j++) {
        prepare(j, k);
        k += STRIDE;
        if (k >= flows) k %= flows;
      }
      if (withDataplane) dataplane.processOutside(descs, BATCH, now);
    }
  };

  // Fill the table: every flow once, in order (new flows are scheduled and inserted).
  for (let k = 0; k < flows; k += BATCH) {
    const n = Math.min(BATCH, flows - k);
    for (let j = 0; j < n; j++) prepare(j, k + j);
    dataplane.processOutside(descs, n, now);
  }
  if (table.stats.size !== flows) throw new Error(`table holds ${table.stats.size} flows, expected ${flows}`);
  const batches = Math.max(1, Math.floor(packets / BATCH));
  warmUntilQuiet(() => runBatches(Math.min(batches, 1000), 0, true)); // the JIT on the lookup path
  const txBefore = counters[C_TX];
  const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
  const heapUsedBefore = process.memoryUsage().heapUsed;
  const startMs = performance.now();
  const c0 = cpu();
  const t0 = process.hrtime.bigint();
  runBatches(batches, 7, true);
  const t1 = process.hrtime.bigint();
  const c1 = cpu();
  const endMs = performance.now();
  const heapUsedAfter = process.memoryUsage().heapUsed;
  runBatches(batches, 7, false);
  const t2 = process.hrtime.bigint();
  const c2 = cpu();
  const forwarded = counters[C_TX] - txBefore;
  if (forwarded !== batches * BATCH) throw new Error(`forwarded ${forwarded} of ${batches * BATCH} packets`);
  const total = batches * BATCH;
  const prepNs = Number(t2 - t1) / total;
  return {
    flows, packets: total, prepNsPerPacket: prepNs,
    nsPerPacket: Math.max(0, Number(t1 - t0) / total - prepNs),
    cpuNsPerPacket: Math.max(0, (c1 - c0 - (c2 - c1)) / total),
    bytesPerFlow: table.memory().bytesPerFlow, tableCapacity: table.capacity,
    timed: { startMs, endMs, heapUsedBefore, heapUsedAfter },
  };
}

export interface CaseResult { description: string; packets: number; nsPerPacket: number }

/**
 * ns per packet of each pipeline fixture case: the rig is put in the case's state, its input
 * is checked to give the case's verdict and output frame (so the path timed is the one the
 * tests check), then batches of copies of the input run; every packet of every batch must
 * meet the case's verdict (counted), or the measurement throws. A new-connection case's
 * copies meet the connection its first copy made: they time that connection's packets.
 */
export function measurePipelineCases(packets: number, cases: readonly PipelineCase[] = PIPELINE_CASES): CaseResult[] {
  return cases.map((c) => {
    const rig = rigFor(c);
    const first = rig.send(c.input);
    if (first.verdict !== c.verdict || (c.output && Buffer.compare(first.out, c.output) !== 0)) {
      throw new Error(`pipeline case "${c.description}": the step does not give the tested verdict and frame`);
    }
    const side = c.input.side;
    const batches = Math.max(1, Math.floor(packets / RIG_SLOTS));
    const counted = (): number => (c.verdict === DROP ? rig.counters[C_DROP_BASE + (c.drop ?? 0)] : rig.counters[C_TX]);
    const runBatches = (count: number, withDataplane: boolean): void => {
      for (let b = 0; b < count; b++) {
        rig.load(c.input.frame, side, RIG_SLOTS); // each batch rewrites its frames: fresh copies
        if (withDataplane) rig.process(side, RIG_SLOTS);
      }
    };
    warmUntilQuiet(() => runBatches(Math.min(batches, 250), true)); // the JIT on this path
    const before = counted();
    const t0 = process.hrtime.bigint();
    runBatches(batches, true);
    const t1 = process.hrtime.bigint();
    runBatches(batches, false);
    const t2 = process.hrtime.bigint();
    const total = batches * RIG_SLOTS;
    if (counted() - before !== total) throw new Error(`pipeline case "${c.description}": ${counted() - before} of ${total} packets took the tested path`);
    return { description: c.description, packets: total, nsPerPacket: Math.max(0, (Number(t1 - t0) - Number(t2 - t1)) / total) };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'cases') {
    for (const r of measurePipelineCases(Number(process.argv[3] ?? 1_000_000))) console.log(JSON.stringify(r));
  } else {
    const flows = Number(process.argv[2] ?? 1_000_000);
    const packets = Number(process.argv[3] ?? 10_000_000);
    const memory: TableMemory = process.argv[4] === 'plain' ? 'plain' : 'huge';
    console.log(JSON.stringify({ ...measureDataplaneStep(flows, packets, 1 << 20, FORWARD_DR, Dataplane, memory), memory }));
  }
}
