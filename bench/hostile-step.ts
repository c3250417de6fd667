// The dataplane step's cost for bad traffic (issue 18's "Bad input"): ns per frame of
// a director whose table holds `flows` ESTABLISHED connections:
//   garbage  64 random bytes per frame (a seeded generator: the same frames every run),
//   badsum   well-formed TCP ACKs to the VIP whose IPv4 header checksum is wrong,
//   synflood TCP SYNs from sources never seen before, the table full: every SYN is scheduled,
//            inserted, and evicts the oldest embryonic entry (an earlier SYN), never an
//            established one (checked).
// Synthetic frames in memory, batches of 64, the flow table at the director's default size.
//   node dist/bench/hostile-step.js garbage|badsum|synflood [PACKETS] [FLOWS]
// It uses only what the pipeline exports, so the same file times an older tree (A/B runs).
import { fileURLToPath } from 'node:url';
import { FlowTable } from '../src/conntrack/flow-table.js';
import { PersistenceTable } from '../src/conntrack/persistence.js';
import { allocateCounters, C_TX } from '../src/dataplane/counters.js';
import { Dataplane } from '../src/dataplane/pipeline.js';
import { FORWARD_DR, type Snapshot } from '../src/dataplane/snapshot.js';
import { DESC_WORDS, type PacketPort } from '../src/io/port.js';
import { buildFrame } from '../src/packet/build.js';
import { ipToNumber, parseMac } from '../src/packet/addr.js';
import { TCP_ACK, TCP_SYN } from '../src/packet/parse.js';

const BATCH = 64;
const FRAME_SIZE = 2048;
const VIP = '198.18.0.100';
const PORT = 80;
/** Established clients: 10.0.0.0/8 upward, 1024 source ports each; flood sources: 100.64.0.0 upward. */
const CLIENT_BASE = ipToNumber('10.0.0.0');
const FLOOD_BASE = ipToNumber('100.64.0.0');

export type HostileKind = 'garbage' | 'badsum' | 'synflood';
export interface HostileResult { kind: HostileKind; packets: number; nsPerPacket: number; cpuNsPerPacket: number; evictions: number; established: number }

function snapshot(): Snapshot {
  const macs = ['02:18:00:00:00:0a', '02:18:00:00:00:14', '02:18:00:00:00:1e'];
  return {
    version: 1, tunnelSource: ipToNumber('198.18.0.2'), mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber(VIP), vport: PORT }], protocol: 6, forward: FORWARD_DR, scheduler: 'rr', schedulerFlags: {},
      persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: macs.map((mac, i) => ({
        rsId: i + 2, ip: ipToNumber(`198.18.0.${10 * (i + 1)}`), port: PORT, weight: 1, available: true, mac, uthreshold: 0, lthreshold: 0,
      })),
    }],
  };
}

export function measureHostile(kind: HostileKind, packets: number, flows: number, capacity = 1 << 20): HostileResult {
  const port = {
    backend: 'afxdp', ifname: 'mem0', mac: parseMac('02:18:00:00:00:02'), frames: new Uint8Array(BATCH * FRAME_SIZE), frameSize: FRAME_SIZE,
  } as unknown as PacketPort;
  const templates = new PersistenceTable({ capacity: capacity >>> 2 });
  const table = new FlowTable({ capacity, templates });
  const counters = allocateCounters();
  const dataplane = new Dataplane(snapshot(), table, templates, counters, port, null);
  const frames = port.frames, dv = new DataView(frames.buffer);
  const descs = new Uint32Array(BATCH * DESC_WORDS);
  const now = 1000;
  const tcp = (flags: number): Uint8Array => buildFrame({ dstMac: '02:18:00:00:00:02', srcMac: '02:18:00:00:00:01',
    ip: { src: '10.0.0.1', dst: VIP, ttl: 64 }, tcp: { srcPort: 1024, dstPort: PORT, flags } });
  const syn = tcp(TCP_SYN), ack = tcp(TCP_ACK);
  const put = (j: number, frame: Uint8Array, src: number, srcPort: number): void => {
    const off = j * FRAME_SIZE;
    frames.set(frame, off);
    dv.setUint32(off + 26, src);
    dv.setUint16(off + 34, srcPort);
    dv.setUint16(off + 24, 0);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += dv.getUint16(off + 14 + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint16(off + 24, ~sum & 0xffff);
    descs[j * DESC_WORDS] = off; descs[j * DESC_WORDS + 1] = frame.length; descs[j * DESC_WORDS + 2] = 0;
  };
  {
    // SYN then ACK: every flow ESTABLISHED, protected from eviction (a busy director's table).
    for (const frame of [syn, ack]) {
      for (let k = 0; k < flows; k += BATCH) {
        const n = Math.min(BATCH, flows - k);
        for (let j = 0; j < n; j++) put(j, frame, CLIENT_BASE + ((k + j) >>> 10), 1024 + ((k + j) & 1023));
        dataplane.processOutside(descs, n, now);
      }
    }
  }
  let seed = 0x2545f491;
  const random = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };
  let floodNext = 0;
  const load = (): void => {
    for (let j = 0; j < BATCH; j++) {
      if (kind === 'synflood') {
        put(j, syn, FLOOD_BASE + (floodNext >>> 10), 1024 + (floodNext & 1023));
        floodNext++;
      } else if (kind === 'badsum') {
        put(j, ack, CLIENT_BASE + j, 1024);
        dv.setUint16(j * FRAME_SIZE + 24, dv.getUint16(j * FRAME_SIZE + 24) ^ 0x5a5a);
      } else {
        const off = j * FRAME_SIZE;
        for (let i = 0; i < 64; i += 4) dv.setUint32(off + i, random());
        descs[j * DESC_WORDS] = off; descs[j * DESC_WORDS + 1] = 64; descs[j * DESC_WORDS + 2] = 0;
      }
    }
  };
  const run = (batches: number, withDataplane: boolean): void => {
    for (let b = 0; b < batches; b++) {
      load();
      if (withDataplane) dataplane.processOutside(descs, BATCH, now);
    }
  };
  const batches = Math.max(1, Math.floor(packets / BATCH));
  if (kind === 'synflood' && table.stats.size < capacity) {
    // Fill the rest of the table with SYNs first, so the timed ones all evict.
    run(Math.ceil((capacity - table.stats.size) / BATCH), true);
  }
  run(Math.min(batches, 2000), true);
  const evictionsBefore = table.stats.evictions, txBefore = counters[C_TX];
  const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
  const c0 = cpu(), t0 = process.hrtime.bigint();
  run(batches, true);
  const t1 = process.hrtime.bigint(), c1 = cpu();
  run(batches, false);
  const t2 = process.hrtime.bigint(), c2 = cpu();
  const total = batches * BATCH;
  let established = 0;
  if (kind === 'synflood') {
    for (let k = 0; k < flows; k++) {
      table.tuple[0] = 6; table.tuple[1] = CLIENT_BASE + (k >>> 10); table.tuple[2] = 1024 + (k & 1023);
      table.tuple[3] = ipToNumber(VIP); table.tuple[4] = PORT;
      if (table.lookupTuple(now) >= 0) established++;
    }
    if (established !== flows) throw new Error(`the SYN flood pushed ${flows - established} established connections out`);
    if (counters[C_TX] === txBefore) throw new Error('no SYN was forwarded');
  } else {
    if (counters[C_TX] !== txBefore) throw new Error(`${counters[C_TX] - txBefore} garbage frames were forwarded`);
  }
  return {
    kind, packets: total,
    nsPerPacket: Math.max(0, (Number(t1 - t0) - Number(t2 - t1)) / total),
    cpuNsPerPacket: Math.max(0, (c1 - c0 - (c2 - c1)) / total),
    evictions: table.stats.evictions - evictionsBefore, established,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kind = (process.argv[2] ?? 'garbage') as HostileKind;
  if (!['garbage', 'badsum', 'synflood'].includes(kind)) throw new Error('kind: garbage | badsum | synflood');
  console.log(JSON.stringify(measureHostile(kind, Number(process.argv[3] ?? 5_000_000), Number(process.argv[4] ?? 500_000))));
}
