// Many directors behind ECMP, on paper: N directors (<= 64) with identical Maglev tables over
// M real servers (<= 10,000), long-lived flows, and random churn (a director joins or leaves,
// a real server is removed or added). Per event it reports what fraction of the flows:
//   moved    - the router's ECMP (Linux hash-threshold over the live next hops) sends elsewhere
//   broken.mh        - broke with mh and no sync: moved AND the new director's table (the one
//                      now) names another server than the flow's, or its server is gone
//   broken.sync      - broke with connection sync among all directors: only flows of a removed server
//   broken.nonconsistent - broke with a scheduler that is not consistent (wlc) and no sync: every moved flow
//   minimal          - what no scheme can avoid: the flows of a removed server
// plus the Maglev table entries that changed, against the minimal k/M and the paper's balance
// bound (Eisenbud et al., NSDI'16, 3.4: every server holds floor or ceil of size/M entries).
// Run: node dist/bench/ecmp-sim.js [--directors 16] [--servers 1000] [--flows 200000] [--events 40] [--seed 1] [--json]
import { pathToFileURL } from 'node:url';
import { buildMaglevTable, isPrime, realServerSetFrom } from '../src/schedulers/index.js';

export interface SimOptions { directors: number; servers: number; flows: number; events: number; seed: number }
export type EventKind = 'director-join' | 'director-leave' | 'server-remove' | 'server-add';

export interface EventResult {
  kind: EventKind;
  directors: number;
  servers: number;
  moved: number;
  broken: { mh: number; sync: number; nonconsistent: number };
  minimal: number;
  tableChanged: number;
  tableMinimal: number;
}

export interface SimSummary {
  options: SimOptions & { tableSize: number };
  /** max - min entries per server over every table built (the paper's bound: <= 1) */
  worstImbalance: number;
  events: EventResult[];
  byKind: Record<string, { count: number; moved: number; brokenMh: number; brokenSync: number; brokenNonconsistent: number; minimal: number; tableChanged: number; tableMinimal: number }>;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}

/** Linux's hash-threshold ECMP (fib_select_multipath) with equal weights: the hash's range is cut in N equal parts. */
export function ecmpPick(hash: number, live: readonly number[]): number {
  return live[Math.min(live.length - 1, Math.floor((hash / 4294967296) * live.length))];
}

/** The simulation, pure and deterministic for a seed. */
export function simulate(o: SimOptions): SimSummary {
  const random = rng(o.seed);
  const tableSize = nextPrime(Math.max(65537, 100 * o.servers));
  // Servers: ids 0.. with distinct ip:port; `up` says which are in the set.
  let nextServer = o.servers;
  const servers = new Map<number, number>(); // id -> ip
  for (let i = 0; i < o.servers; i++) servers.set(i, 0xc6120000 + i);
  let worstImbalance = 0;
  const build = (): Int32Array => {
    const ids = [...servers.keys()];
    const set = realServerSetFrom(ids.map((id) => ({ ip: servers.get(id)!, port: 80, weight: 1 })));
    const table = buildMaglevTable(set, set.weight, tableSize);
    const counts = new Uint32Array(ids.length);
    const out = new Int32Array(tableSize);
    for (let s = 0; s < tableSize; s++) { counts[table[s]]++; out[s] = ids[table[s]]; }
    let min = Infinity; let max = 0;
    for (const c of counts) { if (c < min) min = c; if (c > max) max = c; }
    worstImbalance = Math.max(worstImbalance, max - min);
    return out;
  };
  let table = build();
  const live: number[] = Array.from({ length: o.directors }, (_, i) => i);
  let nextDirector = o.directors;
  // Flows: their ECMP hash, Maglev slot (source hash), director and server.
  const ecmpHash = new Float64Array(o.flows);
  const slot = new Int32Array(o.flows);
  const director = new Int32Array(o.flows);
  const server = new Int32Array(o.flows);
  for (let f = 0; f < o.flows; f++) {
    ecmpHash[f] = Math.floor(random() * 4294967296);
    slot[f] = Math.floor(random() * tableSize);
    director[f] = ecmpPick(ecmpHash[f], live);
    server[f] = table[slot[f]];
  }
  const events: EventResult[] = [];
  for (let e = 0; e < o.events; e++) {
    const roll = random();
    let kind: EventKind;
    if (roll < 0.25 && live.length < 64) kind = 'director-join';
    else if (roll < 0.5 && live.length > 2) kind = 'director-leave';
    else if (roll < 0.75 && servers.size > 2) kind = 'server-remove';
    else kind = 'server-add';
    let removed = -1;
    if (kind === 'director-join') live.push(nextDirector++);
    else if (kind === 'director-leave') live.splice(Math.floor(random() * live.length), 1);
    else if (kind === 'server-remove') { const ids = [...servers.keys()]; removed = ids[Math.floor(random() * ids.length)]; servers.delete(removed); }
    else { servers.set(nextServer, 0xc6120000 + nextServer); nextServer++; }
    live.sort((a, b) => a - b);
    const before = table;
    if (kind.startsWith('server')) table = build();
    let tableChanged = 0;
    for (let s = 0; s < tableSize; s++) if (before[s] !== table[s]) tableChanged++;
    const removedEntries = removed >= 0 ? before.reduce((n, id) => n + (id === removed ? 1 : 0), 0) : 0;
    const tableMinimal = kind === 'server-remove' ? removedEntries : kind === 'server-add' ? Math.round(tableSize / servers.size) : 0;
    let moved = 0; let mh = 0; let sync = 0; let nonconsistent = 0; let minimal = 0;
    for (let f = 0; f < o.flows; f++) {
      const d = ecmpPick(ecmpHash[f], live);
      const isMoved = d !== director[f];
      const gone = server[f] === removed;
      if (isMoved) moved++;
      if (gone) minimal++;
      if (gone) sync++;
      if (gone || isMoved) nonconsistent++;
      // mh without sync: a moved flow is picked up by the new director from its table.
      const brokeMh = gone || (isMoved && table[slot[f]] !== server[f]);
      if (brokeMh) mh++;
      director[f] = d;
      // A broken flow reconnects (a new flow on the same 5-tuple, the table's server now).
      if (brokeMh || gone) server[f] = table[slot[f]];
    }
    const n = o.flows;
    events.push({
      kind, directors: live.length, servers: servers.size, moved: moved / n,
      broken: { mh: mh / n, sync: sync / n, nonconsistent: nonconsistent / n }, minimal: minimal / n,
      tableChanged: tableChanged / tableSize, tableMinimal: tableMinimal / tableSize,
    });
  }
  const byKind: SimSummary['byKind'] = {};
  for (const ev of events) {
    const k = (byKind[ev.kind] ??= { count: 0, moved: 0, brokenMh: 0, brokenSync: 0, brokenNonconsistent: 0, minimal: 0, tableChanged: 0, tableMinimal: 0 });
    k.count++; k.moved += ev.moved; k.brokenMh += ev.broken.mh; k.brokenSync += ev.broken.sync; k.brokenNonconsistent += ev.broken.nonconsistent;
    k.minimal += ev.minimal; k.tableChanged += ev.tableChanged; k.tableMinimal += ev.tableMinimal;
  }
  for (const k of Object.values(byKind)) for (const key of Object.keys(k) as (keyof typeof k)[]) if (key !== 'count') k[key] /= k.count;
  return { options: { ...o, tableSize }, worstImbalance, events, byKind };
}

const pct = (x: number): string => `${(x * 100).toFixed(3)}%`;

export function formatSummary(s: SimSummary): string {
  const o = s.options;
  const lines = [
    `ECMP + Maglev simulation: ${o.directors} directors, ${o.servers} real servers, table ${o.tableSize}, ${o.flows} flows, ${o.events} events, seed ${o.seed}`,
    `Maglev balance: worst max-min entries per server ${s.worstImbalance} (paper's bound: 1)`,
    '| event | n | moved (ECMP) | broken mh, no sync | broken with sync | broken wlc, no sync | minimal | table changed | table minimal |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [kind, k] of Object.entries(s.byKind)) {
    lines.push(`| ${kind} | ${k.count} | ${pct(k.moved)} | ${pct(k.brokenMh)} | ${pct(k.brokenSync)} | ${pct(k.brokenNonconsistent)} | ${pct(k.minimal)} | ${pct(k.tableChanged)} | ${pct(k.tableMinimal)} |`);
  }
  return lines.join('\n') + '\n';
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const o: SimOptions = {
    directors: Math.min(64, arg('directors', 16)), servers: Math.min(10_000, arg('servers', 1000)),
    flows: arg('flows', 200_000), events: arg('events', 40), seed: arg('seed', 1),
  };
  const s = simulate(o);
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(s.byKind, null, 2) + '\n' : formatSummary(s));
}
