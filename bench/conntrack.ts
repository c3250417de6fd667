// Flow-table micro-benchmark: ns per lookup (hit, miss), insert (into free room and into a
// full table, which evicts), per TCP packet (lookup + state step), and bytes per flow, at
// 1,000 and 1,000,000 flows. Each size runs in a fresh child process (no JIT or heap carry-over);
// the parent prints one JSON document.
//   node dist/bench/conntrack.js            all sizes
//   node dist/bench/conntrack.js --trial N  one size, JSON line on stdout
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FlowTable } from '../src/conntrack/flow-table.js';

const TCP = 6;
const VIP = 0xc6120064;
const SIZES = [1_000, 1_000_000];
const MIN_OPS = 2_000_000;   // enough operations per measurement for a stable figure

interface TrialResult {
  flows: number; capacity: number; bytesPerFlow: number;
  nsPerLookupHit: number; nsPerLookupMiss: number; nsPerInsert: number; nsPerInsertEvicting: number;
  nsPerTcpPacket: number; nsPerLookupReply: number;
}

function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
}

// CPU time of this process, not wall time: the bench machine is shared, and time spent
// descheduled is not the table's cost (cache pollution by neighbours still is, so figures are
// upper bounds).
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
}

function elapsedNs(start: number): number {
  return cpuNow() - start;
}

function trial(flows: number): TrialResult {
  const rand = xorshift(12345);
  const clientIp = new Uint32Array(flows), clientPort = new Uint16Array(flows);
  for (let i = 0; i < flows; i++) { clientIp[i] = rand(); clientPort[i] = 1024 + (rand() % 64000); }
  const order = new Uint32Array(flows);
  for (let i = 0; i < flows; i++) order[i] = i;
  for (let i = flows - 1; i > 0; i--) { const j = rand() % (i + 1); const x = order[i]; order[i] = order[j]; order[j] = x; }

  // Insert: fresh tables until enough inserts were timed (NAT: two keys per flow, the worst case).
  const rounds = Math.max(1, Math.ceil(MIN_OPS / flows));
  let insertNs = 0;
  let table = new FlowTable({ capacity: flows, seed: 99 });
  for (let r = 0; r < rounds; r++) {
    table = new FlowTable({ capacity: flows, seed: 99 });
    const tuple = table.tuple;
    const start = cpuNow();
    for (let i = 0; i < flows; i++) {
      tuple[0] = TCP; tuple[1] = clientIp[i]; tuple[2] = clientPort[i]; tuple[3] = VIP; tuple[4] = 80;
      tuple[5] = 0xc612000a + (i & 15); tuple[6] = 80;
      table.insertTuple(0, i & 15, 1000, true);
    }
    insertNs += elapsedNs(start);
  }
  const ops = Math.max(MIN_OPS, flows);
  // Keys in lookup order, read sequentially, so the only random accesses are the table's own.
  const lookIp = new Uint32Array(flows), lookPort = new Uint16Array(flows), lookRs = new Uint32Array(flows);
  for (let k = 0; k < flows; k++) {
    const i = order[k];
    lookIp[k] = clientIp[i]; lookPort[k] = clientPort[i]; lookRs[k] = 0xc612000a + (i & 15);
  }

  // The dataplane's call shape (src/dataplane/pipeline.ts): the tuple goes through table.tuple.
  const tuple = table.tuple;
  let start = cpuNow();
  let found = 0;
  for (let k = 0; k < ops; k++) {
    const i = k % flows;
    tuple[0] = TCP; tuple[1] = lookIp[i]; tuple[2] = lookPort[i]; tuple[3] = VIP; tuple[4] = 80;
    if (table.lookupTuple(1000) >= 0) found++;
  }
  const lookupHitNs = elapsedNs(start);
  if (found !== ops) throw new Error(`lookup missed ${ops - found}`);

  start = cpuNow();
  found = 0;
  for (let k = 0; k < ops; k++) {
    const i = k % flows;
    tuple[0] = TCP; tuple[1] = lookIp[i]; tuple[2] = lookPort[i]; tuple[5] = lookRs[i]; tuple[6] = 80;
    if (table.lookupReplyTuple(1000) >= 0) found++;
  }
  const lookupReplyNs = elapsedNs(start);
  if (found !== ops) throw new Error(`reply lookup missed ${ops - found}`);

  start = cpuNow();
  for (let k = 0; k < ops; k++) {
    const i = k % flows;
    tuple[0] = TCP; tuple[1] = lookIp[i] ^ 0x5a5a5a5a; tuple[2] = lookPort[i]; tuple[3] = VIP; tuple[4] = 81;
    if (table.lookupTuple(1000) >= 0) found++;
  }
  const lookupMissNs = elapsedNs(start);

  start = cpuNow();
  for (let k = 0; k < ops; k++) {
    const i = k % flows;
    tuple[0] = TCP; tuple[1] = lookIp[i]; tuple[2] = lookPort[i]; tuple[3] = VIP; tuple[4] = 80;
    const flow = table.lookupTuple(1000);
    table.onTcpPacket(flow, true, 0x10, 1000);
  }
  const tcpPacketNs = elapsedNs(start);

  // Full table: every insert evicts the oldest embryonic flow.
  start = cpuNow();
  for (let k = 0; k < ops; k++) {
    tuple[0] = TCP; tuple[1] = (k * 2654435761) >>> 0; tuple[2] = k & 0xffff; tuple[3] = VIP; tuple[4] = 443;
    tuple[5] = 0xc612000b; tuple[6] = 443;
    table.insertTuple(0, 1, 1000, true);
  }
  const insertEvictNs = elapsedNs(start);

  return {
    flows, capacity: flows, bytesPerFlow: table.memory().bytesPerFlow,
    nsPerLookupHit: lookupHitNs / ops, nsPerLookupMiss: lookupMissNs / ops, nsPerLookupReply: lookupReplyNs / ops,
    nsPerInsert: insertNs / (rounds * flows), nsPerInsertEvicting: insertEvictNs / ops, nsPerTcpPacket: tcpPacketNs / ops,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

const trialArg = process.argv.indexOf('--trial');
if (trialArg >= 0) {
  const result = trial(Number(process.argv[trialArg + 1]));
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, round(v)]))) + '\n');
} else {
  const self = fileURLToPath(import.meta.url);
  const results = SIZES.map((flows) => JSON.parse(execFileSync(process.execPath, [self, '--trial', String(flows)], { encoding: 'utf8' })) as TrialResult);
  process.stdout.write(JSON.stringify({
    bench: 'conntrack',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, memoryBytes: totalmem(), node: process.version },
    results,
  }, null, 2) + '\n');
}
