// Slow, obviously-correct reference schedulers, written apart from src/schedulers in another
// style: plain objects, whole-list filters and sorts, BigInt arithmetic, precomputed cycles.
// They follow the IPVS sources' documented behaviour, not the fast code.

import type { RealServerSet } from '../../src/schedulers/index.js';

export interface Server {
  index: number;
  ip: number;
  port: number;
  weight: number;
  active: number;
  inactive: number;
  overloaded: boolean;
}

/** IPVS's destination list: the servers that are available, in index order. */
export function listOf(set: RealServerSet): Server[] {
  const out: Server[] = [];
  for (let i = 0; i < set.count; i++) {
    if (!set.available[i]) continue;
    out.push({
      index: i, ip: set.ip[i], port: set.port[i], weight: set.weight[i],
      active: set.activeConns[i], inactive: set.inactiveConns[i], overloaded: set.overloaded[i] === 1,
    });
  }
  return out;
}

const schedulable = (s: Server) => s.weight > 0 && !s.overloaded;
const overhead = (s: Server) => BigInt(s.active) * 256n + BigInt(s.inactive);

/** a/b < c/d with b, d > 0, exactly */
const lessRatio = (a: bigint, b: bigint, c: bigint, d: bigint) => a * d < c * b;

/** First server (in list order) with the smallest load/weight ratio. */
function argminRatio(servers: Server[], load: (s: Server) => bigint): number {
  let best: Server | undefined;
  for (const s of servers) {
    if (!best || lessRatio(load(s), BigInt(s.weight), load(best), BigInt(best.weight))) best = s;
  }
  return best ? best.index : -1;
}

export class OracleRoundRobin {
  private last = -1;
  pick(set: RealServerSet): number {
    const c = listOf(set).filter(schedulable);
    if (c.length === 0) return -1;
    const next = c.find((s) => s.index > this.last) ?? c[0];
    this.last = next.index;
    return next.index;
  }
}

function gcdBig(a: number, b: number): number {
  return b === 0 ? a : gcdBig(b, a % b);
}

/**
 * wrr as a precomputed cycle: for each level from the max weight down to the gcd in gcd steps,
 * every server whose weight reaches the level, in list order. Overloaded servers are skipped.
 * Valid while weights and flags stay as they were when the oracle was made.
 */
export class OracleWeightedRoundRobin {
  private readonly cycle: number[] = [];
  private position = 0;
  constructor(set: RealServerSet) {
    const list = listOf(set);
    const positive = list.filter((s) => s.weight > 0);
    if (positive.length === 0) return;
    const g = positive.map((s) => s.weight).reduce(gcdBig);
    const max = Math.max(...positive.map((s) => s.weight));
    for (let level = max; level > 0; level -= g) {
      for (const s of list) if (s.weight >= level && !s.overloaded) this.cycle.push(s.index);
    }
  }
  pick(): number {
    if (this.cycle.length === 0) return -1;
    const i = this.cycle[this.position];
    this.position = (this.position + 1) % this.cycle.length;
    return i;
  }
  get cycleLength(): number {
    return this.cycle.length;
  }
}

export function oracleLeastConnection(set: RealServerSet): number {
  const c = listOf(set).filter(schedulable);
  if (c.length === 0) return -1;
  const min = c.reduce((m, s) => (overhead(s) < m ? overhead(s) : m), overhead(c[0]));
  return c.find((s) => overhead(s) === min)!.index;
}

export function oracleWeightedLeastConnection(set: RealServerSet): number {
  return argminRatio(listOf(set).filter(schedulable), overhead);
}

export function oracleShortestExpectedDelay(set: RealServerSet): number {
  return argminRatio(listOf(set).filter(schedulable), (s) => BigInt(s.active) + 1n);
}

export function oracleNeverQueue(set: RealServerSet): number {
  const c = listOf(set).filter(schedulable);
  const idle = c.find((s) => s.active === 0);
  return idle ? idle.index : argminRatio(c, (s) => BigInt(s.active) + 1n);
}

export function oracleFailover(set: RealServerSet): number {
  const c = listOf(set).filter(schedulable);
  if (c.length === 0) return -1;
  const top = Math.max(...c.map((s) => s.weight));
  return c.find((s) => s.weight === top)!.index;
}

export function oracleOverflow(set: RealServerSet): number {
  const c = listOf(set).filter((s) => schedulable(s) && s.active <= s.weight);
  if (c.length === 0) return -1;
  const top = Math.max(...c.map((s) => s.weight));
  return c.find((s) => s.weight === top)!.index;
}

/** twos: the same two draws, mapped through cumulative weights; ties keep the first draw. */
export function oracleTwoChoices(set: RealServerSet, random: () => number): number {
  const c = listOf(set).filter(schedulable);
  if (c.length === 0) return -1;
  const total = c.reduce((t, s) => t + s.weight, 0) + 1;
  const draw = () => {
    const r = Math.floor(random() * total);
    let cumulative = 0;
    for (const s of c) {
      cumulative += s.weight;
      if (cumulative >= r) return s;
    }
    return c[c.length - 1];
  };
  const a = draw();
  const b = draw();
  return BigInt(b.weight) * overhead(a) > BigInt(a.weight) * overhead(b) ? b.index : a.index;
}

// ---- hashing ---------------------------------------------------------------------------------

const U32 = 0xffffffffn;
export function oracleHash32(value: number, bits: number): number {
  return Number(((BigInt(value >>> 0) * 0x61c88647n) & U32) >> BigInt(32 - bits));
}
export function oracleKnuth(value: number, bits: number): number {
  return Number((BigInt(value >>> 0) * 2654435761n) & ((1n << BigInt(bits)) - 1n));
}

/** dh's 256 buckets: member b mod n. */
export function oracleDestinationTable(set: RealServerSet): number[] {
  const list = listOf(set);
  return Array.from({ length: 256 }, (_, b) => (list.length ? list[b % list.length].index : -1));
}

/** sh's 256 buckets: the members repeated max(weight, 1) times each, cycled. */
export function oracleSourceTable(set: RealServerSet): number[] {
  const list = listOf(set);
  if (list.length === 0) return new Array(256).fill(-1);
  const ring = list.flatMap((s) => new Array(Math.max(1, s.weight)).fill(s.index) as number[]);
  return Array.from({ length: 256 }, (_, b) => ring[b % ring.length]);
}

const usable = (set: RealServerSet, i: number) => set.available[i] === 1 && set.weight[i] > 0 && set.overloaded[i] === 0;

export function oracleDestinationHash(set: RealServerSet, dstIp: number): number {
  const i = oracleDestinationTable(set)[oracleKnuth(dstIp, 8)];
  return i >= 0 && usable(set, i) ? i : -1;
}

export function oracleSourceHash(set: RealServerSet, srcIp: number, srcPort: number, usePort: boolean, fallback: boolean): number {
  const table = oracleSourceTable(set);
  const h = oracleHash32((srcIp + (usePort ? srcPort : 0)) >>> 0, 8);
  if (table[h] < 0) return -1;
  if (usable(set, table[h])) return table[h];
  if (!fallback) return -1;
  for (let offset = 0; offset < 256; offset++) {
    const i = table[(((offset + h) % 256) + h) % 256];
    if (usable(set, i)) return i;
  }
  return -1;
}

// SipHash-1-3 with BigInt, straight from the paper's description, for the Maglev oracle.
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M64;
export function oracleHsiphash(value: number, k0: bigint, k1: bigint): number {
  let v0 = 0x736f6d6570736575n ^ k0;
  let v1 = 0x646f72616e646f6dn ^ k1;
  let v2 = 0x6c7967656e657261n ^ k0;
  let v3 = 0x7465646279746573n ^ k1;
  const round = () => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const m = (4n << 56n) | BigInt(value >>> 0);
  v3 ^= m; round(); v0 ^= m;
  v2 ^= 0xffn; round(); round(); round();
  return Number((v0 ^ v1 ^ v2 ^ v3) & U32);
}

const KEY1 = 2654435761n;
const KEY2 = 2654446892n;
const mhHash = (addr: number, port: number, key: bigint, offset: number) =>
  oracleHsiphash((addr + port + offset) >>> 0, key, key);

/**
 * Maglev population as in the paper's pseudo code: each server walks its permutation
 * (offset + j * skip) mod M; in turn, sorted by (ip, port), it takes `turns` free slots.
 * `lastWeight` is indexed by set index.
 */
export function oracleMaglevTable(set: RealServerSet, lastWeight: number[], size: number): number[] {
  const list = listOf(set).sort((a, b) => a.ip - b.ip || a.port - b.port);
  const table: number[] = new Array(size).fill(-1);
  const weights = list.map((s) => lastWeight[s.index]);
  const positive = weights.filter((w) => w > 0);
  if (positive.length === 0) return table;
  const g = positive.reduce(gcdBig);
  const mw = Math.floor(Math.max(...positive) / g);
  const shift = Math.max(0, mw.toString(2).length - 6);
  const turns = weights.map((w) => Math.floor(w / g) >> shift || (w !== 0 ? 1 : 0));
  const offsets = list.map((s) => mhHash(s.ip, s.port, KEY1, 0) % size);
  const skips = list.map((s) => (mhHash(s.ip, s.port, KEY2, 0) % (size - 1)) + 1);
  const j = list.map(() => 0);
  let filled = 0;
  while (filled < size) {
    for (let m = 0; m < list.length && filled < size; m++) {
      for (let t = 0; t < turns[m] && filled < size; t++) {
        let slot = (offsets[m] + j[m] * skips[m]) % size;
        while (table[slot] !== -1) {
          j[m]++;
          slot = (offsets[m] + j[m] * skips[m]) % size;
        }
        table[slot] = list[m].index;
        filled++;
      }
    }
  }
  return table;
}

export function oracleMaglevLookup(set: RealServerSet, table: number[], srcIp: number, srcPort: number, usePort: boolean, fallback: boolean): number {
  const size = table.length;
  const port = usePort ? srcPort : 0;
  const h = mhHash(srcIp, port, KEY1, 0) % size;
  if (table[h] < 0) return -1;
  if (usable(set, table[h])) return table[h];
  if (!fallback) return -1;
  if (![...Array(set.count).keys()].some((i) => usable(set, i))) return -1;
  for (let offset = 0; offset < size; offset++) {
    const i = table[mhHash(srcIp, port, KEY1, (offset + h) % size) % size];
    if (i < 0) return -1;
    if (usable(set, i)) return i;
  }
  return -1;
}

// ---- locality ----------------------------------------------------------------------------------

function localityOverloaded(list: Server[], s: Server): boolean {
  return s.active > s.weight && list.some((d) => d.active * 2 < d.weight);
}

/** lblc with a Map and no bound (tests keep the number of destinations small). */
export class OracleLocality {
  private readonly cache = new Map<number, { server: number; lastUse: number }>();
  constructor(private readonly expiration: number) {}
  pick(set: RealServerSet, dstIp: number, now: number): number {
    const list = listOf(set);
    const entry = this.cache.get(dstIp);
    if (entry && now < entry.lastUse + this.expiration) {
      entry.lastUse = now;
      const s = list.find((x) => x.index === entry.server);
      if (s && s.weight > 0 && !localityOverloaded(list, s)) return s.index;
    }
    const chosen = oracleWeightedLeastConnection(set);
    if (chosen >= 0) this.cache.set(dstIp, { server: chosen, lastUse: now });
    return chosen;
  }
}

/** lblcr with a Map of arrays, newest member first. */
export class OracleLocalityReplicated {
  private readonly cache = new Map<number, { members: number[]; lastUse: number; lastMod: number }>();
  constructor(private readonly expiration: number) {}
  pick(set: RealServerSet, dstIp: number, now: number): number {
    const list = listOf(set);
    const byIndex = (i: number) => list.find((x) => x.index === i);
    const entry = this.cache.get(dstIp);
    if (entry && now < entry.lastUse + this.expiration) {
      entry.lastUse = now;
      // least loaded usable member: first minimum of overhead/weight, in member order
      const usableMembers = entry.members.map(byIndex).filter((s): s is Server => !!s && s.weight > 0 && !s.overloaded);
      const least = usableMembers.length ? argminRatio(usableMembers, overhead) : -1;
      if (entry.members.length > 1 && now > entry.lastMod + this.expiration) {
        // most loaded member with weight: first maximum of overhead/weight
        let most: Server | undefined;
        for (const s of entry.members.map(byIndex)) {
          if (!s || s.weight <= 0) continue;
          if (!most || lessRatio(overhead(most), BigInt(most.weight), overhead(s), BigInt(s.weight))) most = s;
        }
        if (most) {
          entry.members = entry.members.filter((i) => i !== most!.index);
          entry.lastMod = now;
        }
      }
      if (least >= 0 && !localityOverloaded(list, byIndex(least)!)) return least;
      const chosen = oracleWeightedLeastConnection(set);
      if (chosen < 0) return -1;
      if (!entry.members.includes(chosen)) {
        entry.members.unshift(chosen);
        entry.lastMod = now;
      }
      return chosen;
    }
    const chosen = oracleWeightedLeastConnection(set);
    if (chosen >= 0) this.cache.set(dstIp, { members: [chosen], lastUse: now, lastMod: now });
    return chosen;
  }
}

// ---- thresholds -------------------------------------------------------------------------------

/**
 * The overload flag as a hysteresis band: it turns on when a connection arrives and the total
 * reaches the upper threshold, and off when one leaves and the total falls under the lower
 * mark (lthreshold, or ceil(3/4 of uthreshold) when lthreshold is 0; always when no thresholds).
 */
export function oracleOverloadAfter(event: 'bind' | 'unbind', flag: boolean, total: number, upper: number, lower: number): boolean {
  if (event === 'bind') return flag || (upper > 0 && total >= upper);
  const low = lower > 0 ? lower : upper > 0 ? Math.ceil((3 * upper) / 4) : Infinity;
  return flag && !(total < low);
}

// ---- the oracle's own checks, against facts known without src/ (run only as a tap file) ---------

import { pathToFileURL } from 'node:url';

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { default: t } = await import('tap');
  t.test('oracle: SipHash-1-3 matches the kernel self-test vector (lib/siphash_kunit.c, 4 bytes)', async (t) => {
    t.equal(oracleHsiphash(0x03020100, 0x0706050403020100n, 0x0f0e0d0c0b0a0908n), 0x88d38328);
  });
  t.test('oracle: wrr 1:3:3 cycle is B C B C A B C (IPVS levels 3, 2, 1)', async (t) => {
    const set = {
      count: 3, weight: Int32Array.of(1, 3, 3), available: Uint8Array.of(1, 1, 1),
      activeConns: new Uint32Array(3), inactiveConns: new Uint32Array(3), ip: Uint32Array.of(1, 2, 3),
      port: Uint16Array.of(80, 80, 80), uthreshold: new Uint32Array(3), lthreshold: new Uint32Array(3),
      overloaded: new Uint8Array(3),
    };
    const wrr = new OracleWeightedRoundRobin(set);
    t.same(Array.from({ length: 7 }, () => wrr.pick()), [1, 2, 1, 2, 0, 1, 2]);
  });
  t.test('oracle: hash_32 and the threshold band on hand-computed values', async (t) => {
    t.equal(oracleHash32(0xc6120001, 8), 188); // computed with the kernel's macro in C
    t.equal(oracleOverloadAfter('unbind', true, 7, 10, 0), false); // IPVS: 7 * 4 < 10 * 3 clears
    t.equal(oracleOverloadAfter('unbind', true, 8, 10, 0), true); // 8 * 4 >= 30 keeps it
  });
}
