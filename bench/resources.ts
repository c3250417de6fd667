// Bounded resources (issue 15 part 3), figures not timed tests. In THIS process (not a lab
// director): the worker's own tables (FlowTable + PersistenceTable + Dataplane, built as
// src/dataplane/worker.ts builds them, default conn_table_size 1,048,576) fed synthetic frames
// from memory, so what is measured is the tables' and the pipeline's memory, not the I/O.
//   1. RSS with 1M tracked connections (1M distinct TCP flows, SYN then ACK: ESTABLISHED);
//   2. RSS during and after a 5-million-SYN flood from distinct sources against a fresh default
//      table (sampled every 500k SYNs, and 5 s after the flood, after a GC when --expose-gc);
//   3. file descriptors (/proc/self/fd) and child processes (/proc/*/stat whose ppid is this
//      process) before and after 10,000 check runs: misc_check (/bin/true) and tcp_check against
//      a local listener, alternating, 32 at a time.
// Not measured here: 1,000 reloads of a running director (test/e2e-faults/reload-leaks.test.ts).
// Run: npm run build:ts && node --expose-gc dist/bench/resources.js [--json FILE]
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { FlowTable } from '../src/conntrack/flow-table.js';
import { PersistenceTable } from '../src/conntrack/persistence.js';
import { allocateCounters, C_NEW_FLOWS } from '../src/dataplane/counters.js';
import { Dataplane } from '../src/dataplane/pipeline.js';
import { FORWARD_DR, type Snapshot } from '../src/dataplane/snapshot.js';
import { runMiscCheck } from '../src/health/misc.js';
import { runTcpCheck } from '../src/health/tcp.js';
import { DESC_WORDS, type PacketPort } from '../src/io/port.js';
import { ipToNumber, parseMac } from '../src/packet/addr.js';
import { buildFrame } from '../src/packet/build.js';
import { TCP_ACK, TCP_SYN } from '../src/packet/parse.js';

const BATCH = 64;
const FRAME_SIZE = 2048;
const TABLE = 1 << 20;
const VIP = '198.18.0.100';
const CLIENT_BASE = ipToNumber('10.0.0.0');

export function rssKb(pid: number | 'self' = 'self'): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}
export function fdCount(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
/** Live children of `pid` (zombies included: a leaked, unreaped child shows as one). */
export function childCount(pid: number = process.pid): number {
  let n = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) n++;
    } catch { /* gone meanwhile */ }
  }
  return n;
}

function snapshot(): Snapshot {
  const macs = ['02:18:00:00:00:0a', '02:18:00:00:00:14', '02:18:00:00:00:1e'];
  return {
    version: 1, tunnelSource: 0, mtu: 1500,
    services: [{
      id: 1, addresses: [{ vip: ipToNumber(VIP), vport: 80 }], protocol: 6, forward: FORWARD_DR, scheduler: 'rr', schedulerFlags: {},
      persistenceTimeout: 0, persistenceMask: 0xffffffff, onePacket: false,
      realServers: macs.map((mac, i) => ({ rsId: i + 2, ip: ipToNumber(`198.18.0.${10 * (i + 1)}`), port: 80, weight: 1, available: true, mac, uthreshold: 0, lthreshold: 0 })),
    }],
  };
}

/** A director worker's tables over frame memory; `send(k, flags)` puts client k's segments through in batches. */
function rig() {
  const port = { backend: 'afxdp', ifname: 'mem0', mac: parseMac('02:18:00:00:00:02'), frames: new Uint8Array(BATCH * FRAME_SIZE), frameSize: FRAME_SIZE } as unknown as PacketPort;
  const templates = new PersistenceTable({ capacity: Math.max(1024, TABLE >>> 2) });
  const flows = new FlowTable({ capacity: TABLE, templates });
  const counters = allocateCounters();
  const dp = new Dataplane(snapshot(), flows, templates, counters, port, null);
  const frames = port.frames, dv = new DataView(frames.buffer), descs = new Uint32Array(BATCH * DESC_WORDS);
  const tpl = (flags: number) => buildFrame({ dstMac: '02:18:00:00:00:02', srcMac: '02:18:00:00:00:01', ip: { src: '10.0.0.1', dst: VIP, ttl: 64 }, tcp: { srcPort: 1024, dstPort: 80, flags } });
  const syn = tpl(TCP_SYN), ack = tpl(TCP_ACK);
  /** Clients start..start+count-1 (address and port from k), one segment each, at second `now`. */
  const send = (start: number, count: number, flags: number, now: number): void => {
    const frame = flags === TCP_SYN ? syn : ack;
    for (let k = start; k < start + count; k += BATCH) {
      const n = Math.min(BATCH, start + count - k);
      for (let j = 0; j < n; j++) {
        const off = j * FRAME_SIZE, c = k + j;
        frames.set(frame, off);
        dv.setUint32(off + 26, (CLIENT_BASE + (c >>> 14)) >>> 0);
        dv.setUint16(off + 34, 1024 + (c & 16383));
        dv.setUint16(off + 24, 0);
        let sum = 0;
        for (let i = 0; i < 20; i += 2) sum += dv.getUint16(off + 14 + i);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        dv.setUint16(off + 24, ~sum & 0xffff);
        descs[j * DESC_WORDS] = off; descs[j * DESC_WORDS + 1] = frame.length; descs[j * DESC_WORDS + 2] = 0;
      }
      dp.processOutside(descs, n, now);
    }
  };
  return { flows, counters, send };
}

const gc = (): void => { (globalThis as { gc?: () => void }).gc?.(); };
const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

export function connectionsFigure(count = 1_000_000): Record<string, number> {
  gc();
  const base = rssKb();
  const r = rig();
  const empty = rssKb();
  r.send(0, count, TCP_SYN, 100);
  r.send(0, count, TCP_ACK, 100);
  gc();
  const full = rssKb();
  return { connections: r.flows.stats.size, rssBaseMb: mb(base), rssEmptyTableMb: mb(empty), rssFullMb: mb(full), tableGrowthMb: mb(full - empty), bytesPerConnection: Math.round((full - base) * 1024 / count) };
}

export function synFloodFigure(syns = 5_000_000, every = 500_000): Record<string, unknown> {
  gc();
  const base = rssKb();
  const r = rig();
  const samples: number[] = [];
  for (let s = 0; s < syns; s += every) {
    r.send(s, Math.min(every, syns - s), TCP_SYN, 100 + s / every);
    samples.push(mb(rssKb()));
  }
  // After the flood: embryonic flows time out (SYN_RECV 60 s in IPVS); more SYNs later find room.
  gc();
  const after = rssKb();
  r.send(syns, every, TCP_SYN, 300);
  gc();
  const later = rssKb();
  return { syns, tableSize: r.flows.stats.size, capacity: r.flows.capacity, newFlows: r.counters[C_NEW_FLOWS],
    rssBaseMb: mb(base), rssDuringMb: samples, rssMaxMb: Math.max(...samples), rssAfterMb: mb(after), rssAfter500kMoreMb: mb(later) };
}

export async function checksFigure(runs = 10_000, parallel = 32): Promise<Record<string, number>> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const fdsBefore = fdCount(), childrenBefore = childCount();
  let ok = 0, failed = 0, maxFds = fdsBefore, maxChildren = childrenBefore;
  for (let i = 0; i < runs; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, runs - i) }, (_, j) => (i + j) % 2 === 0
      ? runMiscCheck({ ip: '127.0.0.1', port }, { misc_path: '/bin/true', misc_timeout: 5 })
      : runTcpCheck({ ip: '127.0.0.1', port }, { connect_timeout: 5 }));
    for (const res of await Promise.all(batch)) { if (res.ok) ok++; else failed++; }
    if (i % (parallel * 20) === 0) { maxFds = Math.max(maxFds, fdCount()); maxChildren = Math.max(maxChildren, childCount()); }
  }
  await new Promise((res) => setTimeout(res, 500));
  const fdsAfter = fdCount(), childrenAfter = childCount();
  server.close();
  return { runs, ok, failed, fdsBefore, fdsAfter, maxFdsSampled: maxFds, childrenBefore, childrenAfter, maxChildrenSampled: maxChildren };
}

async function main(): Promise<void> {
  const json = process.argv.indexOf('--json');
  const out = {
    note: 'in-process (the worker\'s tables over frame memory, not a lab director); the machine is shared and loaded',
    connections1m: connectionsFigure(),
    synFlood5m: synFloodFigure(),
    checks10k: await checksFigure(),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  if (json > 0) writeFileSync(process.argv[json + 1], JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[1]?.endsWith('resources.js')) void main();
