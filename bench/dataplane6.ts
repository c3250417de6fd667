// The whole dataplane step (Dataplane.processOutside: parse, service, flow lookup, state,
// counters, TTL/hop limit, DR rewrite) for IPv4 against IPv6 in one run, at 1k and 1M
// established flows. Trials interleave the four cases so a busy machine slows them alike;
// reported as median (min-max) ns per packet over TRIALS trials, with bytes per flow.
//   node dist/bench/dataplane6.js [trials]
import { fileURLToPath } from 'node:url';
import { FlowTable } from '../src/conntrack/flow-table.js';
import { PersistenceTable } from '../src/conntrack/persistence.js';
import { allocateCounters, allocateIpvsCounters } from '../src/dataplane/counters.js';
import { Dataplane } from '../src/dataplane/pipeline.js';
import { FORWARD_DR, type Snapshot, type SnapshotService } from '../src/dataplane/snapshot.js';
import { DESC_WORDS, type PacketPort } from '../src/io/port.js';
import { ipToNumber, parseMac } from '../src/packet/addr.js';
import { ipv6Words, parseIpv6 } from '../src/packet/addr6.js';
import { buildFrame } from '../src/packet/build.js';
import { buildFrame6 } from '../src/packet/build6.js';
import { TCP_ACK, TCP_SYN } from '../src/packet/parse.js';
import { foldIpv6 } from '../src/schedulers/hash.js';

const BATCH = 64;
const FRAME = 2048;
const CLIENTS = 16;
const PACKETS_PER_TRIAL = 1_000_000;

function port(): PacketPort {
  return {
    backend: 'afxdp', ifname: 'bench0', mac: parseMac('02:00:00:00:00:02'), frames: new Uint8Array(FRAME * BATCH), frameSize: FRAME,
    receive: () => 0, transmit: () => undefined, setSteering: () => undefined, readableFd: () => -1, close: () => undefined,
  };
}

function service(family: 4 | 6): SnapshotService {
  const base = { id: 1, protocol: 6 as const, forward: FORWARD_DR as typeof FORWARD_DR, scheduler: 'rr' as const, schedulerFlags: {},
    persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false };
  const servers = [1, 2, 3].map((n) => {
    const ip6 = `2001:2::${n}0`;
    return { rsId: n + 1, port: 80, weight: 1, available: true, mac: `02:00:00:00:00:${n}0`, uthreshold: 0, lthreshold: 0,
      ...(family === 6 ? { ip: foldIpv6(...ipv6Words(parseIpv6(ip6))), ip6 } : { ip: ipToNumber(`198.18.0.${n}0`) }) };
  });
  return family === 6
    ? { ...base, family: 6, addresses: [{ vip: 0, vport: 80, vip6: '2001:2::100' }], realServers: servers }
    : { ...base, addresses: [{ vip: ipToNumber('198.18.0.100'), vport: 80 }], realServers: servers };
}

/** One client frame per client address; the source port (not checksummed by parse) is patched per packet. */
function templates(family: 4 | 6, flags: number): Uint8Array[] {
  return Array.from({ length: CLIENTS }, (_, c) => (family === 6
    ? buildFrame6({ src: `2001:2::1:${c.toString(16)}`, dst: '2001:2::100', tcp: { srcPort: 1, dstPort: 80, flags } })
    : buildFrame({ ip: { src: `198.18.2.${c + 1}`, dst: '198.18.0.100' }, tcp: { srcPort: 1, dstPort: 80, flags } })));
}

interface Case { name: string; family: 4 | 6; flows: number; dp: Dataplane; acks: Uint8Array[]; out: PacketPort; portOffset: number }

function buildCase(family: 4 | 6, flows: number): Case {
  const snapshot: Snapshot = { version: 1, tunnelSource: 0, mtu: 1500, services: [service(family)] };
  const out = port();
  const tpl = new PersistenceTable({ capacity: 1024 });
  const table = new FlowTable({ capacity: Math.max(1024, flows + (flows >> 2)), templates: tpl });
  const dp = new Dataplane(snapshot, table, tpl, allocateCounters(), out, null, allocateIpvsCounters());
  const portOffset = 14 + (family === 6 ? 40 : 20);
  const c: Case = { name: `IPv${family} ${flows >= 1e6 ? '1M' : `${flows / 1000}k`} flows`, family, flows, dp, acks: templates(family, TCP_ACK), out, portOffset };
  run(c, templates(family, TCP_SYN), flows);   // open every flow
  return c;
}

const descs = new Uint32Array(BATCH * DESC_WORDS);

/** `count` packets over the case's flows (flow i: client i % CLIENTS, port 1024 + i / CLIENTS). */
function run(c: Case, frames: Uint8Array[], count: number, start = 0): void {
  const u8 = c.out.frames;
  for (let i = 0; i < count; i += BATCH) {
    const n = Math.min(BATCH, count - i);
    for (let k = 0; k < n; k++) {
      const flow = (start + i + k) % c.flows;
      const frame = frames[flow % CLIENTS];
      const at = k * FRAME + 256;
      u8.set(frame, at);
      const srcPort = 1024 + Math.floor(flow / CLIENTS);
      u8[at + c.portOffset] = srcPort >>> 8;
      u8[at + c.portOffset + 1] = srcPort & 0xff;
      descs[k * DESC_WORDS] = at; descs[k * DESC_WORDS + 1] = frame.length; descs[k * DESC_WORDS + 2] = 0;
    }
    c.dp.processOutside(descs, n, 10);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function measureDataplane6(trials = 7): Record<string, { medianNs: number; minNs: number; maxNs: number }> {
  const cases = [buildCase(4, 1000), buildCase(6, 1000), buildCase(4, 1_000_000), buildCase(6, 1_000_000)];
  const ns = cases.map(() => [] as number[]);
  for (const c of cases) run(c, c.acks, 200_000);   // warm up: optimized code before timing
  for (let t = 0; t < trials; t++) {
    cases.forEach((c, i) => {
      const begin = process.hrtime.bigint();
      run(c, c.acks, PACKETS_PER_TRIAL, t * PACKETS_PER_TRIAL);
      ns[i].push(Number(process.hrtime.bigint() - begin) / PACKETS_PER_TRIAL);
    });
  }
  for (const c of cases) {
    const tx = c.dp.counters[1];
    if (tx === 0) throw new Error(`${c.name}: nothing forwarded`);
  }
  return Object.fromEntries(cases.map((c, i) => [c.name, { medianNs: median(ns[i]), minNs: Math.min(...ns[i]), maxNs: Math.max(...ns[i]) }]));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const trials = Number(process.argv[2] ?? 7);
  const result = measureDataplane6(trials);
  const v4 = new FlowTable({ capacity: 1_000_000 }).memory().bytesPerFlow;
  const { FlowTable6 } = await import('../src/conntrack/flow-table6.js');
  const v6 = new FlowTable6({ capacity: 1_000_000 }).memory().bytesPerFlow;
  for (const [name, r] of Object.entries(result)) {
    console.log(`${name.padEnd(16)} ${r.medianNs.toFixed(0)} ns/packet (${r.minNs.toFixed(0)}-${r.maxNs.toFixed(0)}) over ${trials} trials`);
  }
  console.log(`bytes per flow at 1e6: IPv4 ${v4.toFixed(1)}, IPv6 ${v6.toFixed(1)}`);
  console.log(JSON.stringify({ trials, result, bytesPerFlow: { ipv4: v4, ipv6: v6 } }));
}
