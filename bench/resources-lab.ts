// Bounded resources in a running lab director (issue 15 part 3): VmRSS (/proc/PID/status) of
// the director process itself, AF_XDP or TAP as `io: auto` picks, default conn_table_size
// (1,048,576), one DR service. TCP segments come from the lab client (the bench's C sender,
// bench/c/sender.c --tcp-flags, AF_PACKET sendmmsg out of the client's eth0; flow k is
// 198.19.0.1 + k / 64000, port 1024 + k % 64000):
//   1. --connections distinct connections (a pass of SYNs, then one of ACKs at --rate: what
//      the director could not take is sent again, up to 5 rounds), RSS idle and once the
//      table holds them;
//   2. a fresh director, then --syns SYNs, each a new flow, as fast as the sender goes: RSS
//      sampled every second during the flood and for 20 s after it.
// Everything stays inside the lab's namespaces (prefix hr-); each step is bounded in time.
// What reaches the director is counted by it (rx, new_flows): on a loaded machine the sender
// and the veth may deliver fewer frames than were sent, and the figures say so.
// Run: npm run build:ts && node dist/bench/resources-lab.js [--connections N] [--syns N] [--json FILE]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { createLab, destroyLab, type LabTopology } from '../src/lab/index.js';
import { rssKb } from './resources.js';
import { TOOLS, ULVS, killAll, machineInfo, runIn, sleep, startIn, waitFor, type Proc } from './sys.js';

const PREFIX = 'hr-';
const SENDER = join(TOOLS, 'sender');
/** Upper bound on one sender run, in seconds (it stops there, whatever it has sent). */
const SEND_SECONDS = 120;
const TCP_SYN = 2, TCP_ACK = 16;
/** Rounds of SYN + ACK passes for the connections figure (each resends what was dropped). */
const MAX_ROUNDS = 5;
const AFTER_FLOOD_S = 20;

const CONFIG = `dataplane: { interface: eth0, io: auto }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
      - { ip: 198.18.0.30, port: 80 }
`;

const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

async function startDirector(lab: LabTopology): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'hr-res-'));
  const file = join(dir, 'ulvs.yaml');
  writeFileSync(file, CONFIG);
  const p = startIn(lab.nodes.dir1.name, [process.execPath, ULVS, 'run', '-c', file]);
  await waitFor(p, 'director running', 120_000);
  return p;
}

async function stats(lab: LabTopology): Promise<Record<string, number>> {
  return JSON.parse(await runIn(lab.nodes.dir1.name, [process.execPath, ULVS, 'stats', '--json'])) as Record<string, number>;
}

/** `count` segments with `flags`, flows 0..count-1, at `rate` pps (0: as fast as it goes); how many were sent. */
async function send(lab: LabTopology, flags: number, count: number, rate: number, firstFlow = 0): Promise<number> {
  const out = await runIn(lab.nodes.client.name, [SENDER, '--if', 'eth0', '--src-mac', lab.nodes.client.mac, '--dst-mac', lab.nodes.dir1.mac,
    '--src-ip', '198.19.0.1', '--dst-ip', lab.vip, '--dst-port', '80', '--flows', String(count), '--first-flow', String(firstFlow), '--count', String(count),
    '--rate', String(rate), '--seconds', String(SEND_SECONDS), '--tcp-flags', String(flags)], (SEND_SECONDS + 60) * 1000);
  return (JSON.parse(out) as { sent: number }).sent;
}

/** Polls the director's counters until new_flows stops moving (the batches drained). */
async function settled(lab: LabTopology): Promise<Record<string, number>> {
  let last = await stats(lab);
  for (let i = 0; i < 30; i++) {
    await sleep(1000);
    const now = await stats(lab);
    if (now.new_flows === last.new_flows && now.rx === last.rx) return now;
    last = now;
  }
  return last;
}

async function connectionsFigure(lab: LabTopology, count: number, rate: number): Promise<Record<string, unknown>> {
  const d = await startDirector(lab);
  try {
    await sleep(2000);
    const idle = rssKb(d.pid);
    const began = performance.now();
    let frames = 0, rounds = 0;
    let s = await stats(lab);
    while (rounds < MAX_ROUNDS && (s.conn_table_size ?? 0) < count * 0.99) {
      // Each round starts elsewhere in the flows: what a loaded director drops is not the same flows again.
      const first = rounds * 7919;
      rounds++;
      frames += await send(lab, TCP_SYN, count, rate, first);
      frames += await send(lab, TCP_ACK, count, rate, first);
      s = await settled(lab);
    }
    const sendS = Math.round((performance.now() - began) / 100) / 10;
    const full = rssKb(d.pid);
    return { connections: count, rate, rounds, framesSent: frames, sendSeconds: sendS, rx: s.rx, newFlows: s.new_flows,
      tableSize: s.conn_table_size, tableCapacity: s.conn_table_capacity, evictions: s.conn_evictions,
      rssIdleMb: mb(idle), rssWithTableMb: mb(full), growthMb: mb(full - idle),
      bytesPerConnection: s.conn_table_size ? Math.round((full - idle) * 1024 / s.conn_table_size) : null };
  } finally {
    await d.stop();
  }
}

async function floodFigure(lab: LabTopology, syns: number): Promise<Record<string, unknown>> {
  const d = await startDirector(lab);
  try {
    await sleep(2000);
    const idle = rssKb(d.pid);
    const during: number[] = [];
    const sampler = setInterval(() => { during.push(mb(rssKb(d.pid))); }, 1000);
    const began = performance.now();
    let frames: number;
    try {
      frames = await send(lab, TCP_SYN, syns, 0);
    } finally {
      clearInterval(sampler);
    }
    const sendS = Math.round((performance.now() - began) / 100) / 10;
    const atEnd = rssKb(d.pid);
    const after: number[] = [];
    for (let i = 0; i < AFTER_FLOOD_S; i++) { await sleep(1000); after.push(mb(rssKb(d.pid))); }
    const s = await stats(lab);
    const last = after[after.length - 1];
    return { syns, framesSent: frames, sendSeconds: sendS, rx: s.rx, newFlows: s.new_flows,
      tableSize: s.conn_table_size, tableCapacity: s.conn_table_capacity, evictions: s.conn_evictions,
      rssIdleMb: mb(idle), rssDuringMb: during, rssMaxDuringMb: Math.max(...during, mb(atEnd)),
      rssAtFloodEndMb: mb(atEnd), rssAfterMb: after, rssGrowthAfterFloodMb: Math.round((last - mb(atEnd)) * 10) / 10 };
  } finally {
    await d.stop();
  }
}

async function main(): Promise<void> {
  const opts = new Command()
    .option('--connections <n>', 'distinct ESTABLISHED connections', (v) => Number(v), 1_000_000)
    .option('--syns <n>', 'SYNs in the flood', (v) => Number(v), 5_000_000)
    .option('--rate <pps>', 'the connections\' segments a second', (v) => Number(v), 50_000)
    .option('--json <file>', 'write the figures here too')
    .parse().opts<{ connections: number; syns: number; rate: number; json?: string }>();
  await destroyLab({ prefix: PREFIX }).catch(() => undefined);
  const lab = await createLab({ prefix: PREFIX });
  try {
    const out = {
      note: 'a lab director (VmRSS of its process); the machine is shared and loaded',
      machine: machineInfo(),
      connections: await connectionsFigure(lab, opts.connections, opts.rate),
      synFlood: await floodFigure(lab, opts.syns),
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2) + '\n');
  } finally {
    killAll();
    await destroyLab({ prefix: PREFIX });
  }
}

if (process.argv[1]?.endsWith('resources-lab.js')) void main().catch((err: Error) => { process.stderr.write(`${err.stack}\n`); process.exitCode = 1; });
