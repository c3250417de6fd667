// Full NAT's figures, in process over synthetic frames (the Dataplane step, as the worker runs it):
// (a) ports in use against connections: N UDP connections opened through a FNAT service at a
//     steady rate while the flow table's sweep expires the old ones, then left to expire; at
//     every sample the local ports in use must equal the Full NAT flows the table holds, and
//     both end at 0 (a port leaked or handed out twice would show as a difference);
// (b) FNAT against NAT, request direction, the same run: interleaved trials of
//     measureDataplaneStep (bench/dataplane-step.ts), median and min-max of ns per packet (wall
//     and CPU) and the packets per second one core would give.
//   node dist/bench/fnat.js ports [connections]      node dist/bench/fnat.js step [flows] [packets] [trials]
import { fileURLToPath } from 'node:url';
import { FlowTable } from '../src/conntrack/flow-table.js';
import { PersistenceTable } from '../src/conntrack/persistence.js';
import { allocateCounters, C_DROP_BASE, C_NEW_FLOWS, DataplaneDrop } from '../src/dataplane/counters.js';
import { Dataplane } from '../src/dataplane/pipeline.js';
import { FORWARD_FNAT, FORWARD_NAT, type Snapshot } from '../src/dataplane/snapshot.js';
import { DESC_WORDS, type PacketPort } from '../src/io/port.js';
import { ipToNumber, parseMac } from '../src/packet/addr.js';
import { buildFrame } from '../src/packet/build.js';
import { BATCH, measureDataplaneStep } from './dataplane-step.js';

const FRAME_SIZE = 2048;
const VIP = '198.18.0.100';
/** Clients 198.18.128.0/17 with 1024 source ports each, as dataplane-step.ts. */
const CLIENT_BASE = ipToNumber('198.18.128.0');
/** The worker's sweep per loop (src/dataplane/worker.ts EXPIRE_VISITS_PER_LOOP). */
const SWEEP_VISITS = 256;

function memoryPort(frames: number): PacketPort {
  return { backend: 'afxdp', ifname: 'mem0', mac: parseMac('02:18:00:00:00:02'), frames: new Uint8Array(frames * FRAME_SIZE), frameSize: FRAME_SIZE } as unknown as PacketPort;
}

export interface PortsOptions {
  connections: number;
  /** New connections per simulated second. */
  rate: number;
  /** UDP timeout, seconds: live connections settle near rate * udpTimeout. */
  udpTimeout: number;
  /** Local addresses and each one's pool. */
  addresses: number;
  portMin: number;
  portMax: number;
}

export const DEFAULT_PORTS_OPTIONS: PortsOptions = { connections: 100_000, rate: 1_000, udpTimeout: 30, addresses: 2, portMin: 1024, portMax: 65535 };

/**
 * steady: 1,000 new connections a second for 100 s with a 30 s timeout (about 30,000 live);
 * burst: all 100,000 in one second, more than one address's 64,512 ports, so both are used;
 * exhaustion: the steady load on two pools of 1,000 ports: refusals counted, never more ports
 * handed out than the pools hold.
 */
export const PORTS_SCENARIOS: Record<'steady' | 'burst' | 'exhaustion', PortsOptions> = {
  steady: DEFAULT_PORTS_OPTIONS,
  burst: { ...DEFAULT_PORTS_OPTIONS, rate: 100_000 },
  exhaustion: { ...DEFAULT_PORTS_OPTIONS, portMin: 20000, portMax: 20999 },
};

export interface PortsSample { second: number; opened: number; flows: number; portsInUse: number; perAddress: number[] }

export interface PortsResult {
  options: PortsOptions;
  /** One per simulated second, from the first connection until nothing is left. */
  samples: PortsSample[];
  /** Largest |ports in use - FNAT flows| over every sample (must be 0). */
  maxDifference: number;
  peakPortsInUse: number;
  /** Connections refused for want of a port (LOCAL_PORTS_EXHAUSTED). */
  exhausted: number;
  newFlows: number;
  final: { flows: number; portsInUse: number };
  /** Bytes of the port pools (fixed at start). */
  poolBytes: number;
}

/** (a): see the file comment. Every connection is one UDP datagram from its own client address:port. */
export function measurePortsVsConnections(o: PortsOptions = DEFAULT_PORTS_OPTIONS): PortsResult {
  const snapshot: Snapshot = {
    version: 1, tunnelSource: ipToNumber('198.18.0.2'), mtu: 1500,
    localAddresses: Array.from({ length: o.addresses }, (_, i) => ({ ip: ipToNumber(`198.18.1.${200 + i}`), portMin: o.portMin, portMax: o.portMax, outside: false })),
    localGroups: [Array.from({ length: o.addresses }, (_, i) => i)],
    services: [{
      id: 1, addresses: [{ vip: ipToNumber(VIP), vport: 53 }], protocol: 17, forward: FORWARD_FNAT, scheduler: 'rr', schedulerFlags: {},
      persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false, localGroup: 0,
      realServers: [10, 20, 30].map((n, i) => ({
        rsId: i + 2, ip: ipToNumber(`198.18.1.${n}`), port: 53, weight: 1, available: true, mac: `02:18:00:01:00:${n.toString(16)}`, uthreshold: 0, lthreshold: 0,
      })),
    }],
  };
  const capacity = 1 << 18;
  const templates = new PersistenceTable({ capacity: 1024 });
  const flows = new FlowTable({ capacity, templates, timeouts: { udp: o.udpTimeout } });
  const counters = allocateCounters();
  const outside = memoryPort(BATCH);
  const dataplane = new Dataplane(snapshot, flows, templates, counters, outside, memoryPort(1));
  const ports = dataplane.fnat.ports!;
  const template = buildFrame({ dstMac: '02:18:00:00:00:02', srcMac: '02:18:00:00:00:01',
    ip: { src: '198.18.0.1', dst: VIP, ttl: 64 }, udp: { srcPort: 1024, dstPort: 53, checksum: 'none' }, payload: 'q' });
  const frames = outside.frames;
  const dv = new DataView(frames.buffer);
  const descs = new Uint32Array(BATCH * DESC_WORDS);
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
  const samples: PortsSample[] = [];
  let maxDifference = 0;
  let peak = 0;
  const sample = (second: number, opened: number): void => {
    const inUse = ports.totalInUse();
    const held = flows.stats.size;
    maxDifference = Math.max(maxDifference, Math.abs(inUse - held));
    peak = Math.max(peak, inUse);
    samples.push({ second, opened, flows: held, portsInUse: inUse, perAddress: Array.from({ length: o.addresses }, (_, a) => ports.inUse(a)) });
  };
  // Each simulated second: `rate` new connections in batches, the sweep run after each batch as
  // the worker's loop does (enough visits to go round the table within a timeout).
  const start = 1000;
  const sweepsPerSecond = Math.max(1, Math.ceil(capacity / SWEEP_VISITS / Math.max(1, o.udpTimeout / 4)));
  let opened = 0;
  let second = start;
  for (; opened < o.connections; second++) {
    const target = Math.min(o.connections, opened + o.rate);
    while (opened < target) {
      const n = Math.min(BATCH, target - opened);
      for (let j = 0; j < n; j++) prepare(j, opened + j);
      dataplane.processOutside(descs, n, second);
      opened += n;
      flows.expireSome(second, SWEEP_VISITS);
    }
    for (let s = 0; s < sweepsPerSecond; s++) flows.expireSome(second, SWEEP_VISITS);
    sample(second, opened);
  }
  // No new connections: the sweep alone, until the table is empty (bounded: timeout + a full round).
  const last = second + o.udpTimeout + 2 * Math.ceil(capacity / SWEEP_VISITS / sweepsPerSecond) + 5;
  for (; second <= last && (flows.stats.size > 0 || ports.totalInUse() > 0); second++) {
    for (let s = 0; s < sweepsPerSecond; s++) flows.expireSome(second, SWEEP_VISITS);
    sample(second, opened);
  }
  return {
    options: o, samples, maxDifference, peakPortsInUse: peak,
    exhausted: counters[C_DROP_BASE + DataplaneDrop.LOCAL_PORTS_EXHAUSTED], newFlows: counters[C_NEW_FLOWS],
    final: { flows: flows.stats.size, portsInUse: ports.totalInUse() }, poolBytes: ports.memoryBytes(),
  };
}

export interface Spread { median: number; min: number; max: number }
export interface StepComparison {
  flows: number; packetsPerTrial: number; trials: number;
  nat: { nsPerPacket: Spread; cpuNsPerPacket: Spread; pps: Spread };
  fnat: { nsPerPacket: Spread; cpuNsPerPacket: Spread; pps: Spread };
  /** median FNAT / median NAT, CPU ns per packet. */
  cpuRatio: number;
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

/** (b): interleaved trials, the order alternating so neither method always runs first. */
export function compareFnatWithNat(flows = 1000, packets = 1_000_000, trials = 5): StepComparison {
  const runs = { nat: [] as { ns: number; cpu: number }[], fnat: [] as { ns: number; cpu: number }[] };
  for (let i = 0; i < trials; i++) {
    const order = i % 2 === 0 ? (['nat', 'fnat'] as const) : (['fnat', 'nat'] as const);
    for (const m of order) {
      const r = measureDataplaneStep(flows, packets, 1 << 20, m === 'nat' ? FORWARD_NAT : FORWARD_FNAT);
      runs[m].push({ ns: r.nsPerPacket, cpu: r.cpuNsPerPacket });
    }
  }
  const summary = (rs: { ns: number; cpu: number }[]) => ({
    nsPerPacket: spread(rs.map((r) => r.ns)), cpuNsPerPacket: spread(rs.map((r) => r.cpu)),
    pps: spread(rs.map((r) => (r.cpu > 0 ? 1e9 / r.cpu : 0))),
  });
  const nat = summary(runs.nat), fnat = summary(runs.fnat);
  return { flows, packetsPerTrial: packets, trials, nat, fnat, cpuRatio: fnat.cpuNsPerPacket.median / nat.cpuNsPerPacket.median };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [what, a, b, c] = process.argv.slice(2);
  if (what === 'ports') {
    const connections = Number(a ?? DEFAULT_PORTS_OPTIONS.connections);
    for (const [name, o] of Object.entries(PORTS_SCENARIOS)) {
      const r = measurePortsVsConnections({ ...o, connections });
      const every = Math.max(1, Math.floor(r.samples.length / 12));
      const samples = r.samples.filter((_, i) => i % every === 0 || i === r.samples.length - 1)
        .map((x) => `${x.second - 1000}s opened ${x.opened} flows ${x.flows} ports ${x.portsInUse} (${x.perAddress.join('/')})`);
      console.log(JSON.stringify({ scenario: name, ...r, samples }, null, 1));
    }
  } else {
    console.log(JSON.stringify(compareFnatWithNat(Number(a ?? 1000), Number(b ?? 1_000_000), Number(c ?? 5)), null, 1));
  }
}
