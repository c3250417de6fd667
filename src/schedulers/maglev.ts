// mh: Maglev hashing (ip_vs_mh.c; Eisenbud et al., NSDI'16, section 3.4).
//
// Determinism across directors: the permutation of each real server comes from IPVS's own hash,
// hsiphash (SipHash-1-3 on 64-bit Linux) of ip + port under IPVS's fixed keys 2654435761 and
// 2654446892, so it is the same on every director. One deliberate difference from IPVS: IPVS
// fills the table walking its destination list (newest first), so two directors that added the
// same servers in a different order build different tables; ulvs walks the servers sorted by
// (ip, port), so the table depends only on the set of servers and their weights.
//
// The table is built on the control plane (rebuild) into fresh SharedArrayBuffer memory, never
// changed in place, so a snapshot can hand it to workers (`lookupTable`, option maglevTable).

import { gcd, maglevHash, MH_KEY1, MH_KEY2 } from './hash.js';
import { isUsable } from './static-hash.js';
import type { RealServerSet, Scheduler, SchedulerFlags } from './types.js';

/** Default table size: a prime well above 100 x the real servers of a service (Maglev's advice). */
export const MAGLEV_DEFAULT_TABLE_SIZE = 65537;
/** IP_VS_MH_TAB_BITS with IPVS's default config: weights/gcd above 2^6 are shifted down. */
const MH_TAB_BITS = 6;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

function serverKey(set: RealServerSet, i: number): number {
  return set.ip[i] * 65536 + set.port[i]; // exact: < 2^48
}

function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * Build a Maglev lookup table (slot -> set index, -1 if there is no server with weight).
 * `lastWeight[i]` is IPVS's last_weight: the latest non-zero weight, so quiescing a server
 * (weight 0) keeps its slots and its clients go nowhere / fall back, instead of moving the rest.
 */
export function buildMaglevTable(set: RealServerSet, lastWeight: ArrayLike<number>, size: number): Int32Array {
  if (!isPrime(size)) throw new RangeError(`Maglev table size ${size} is not a prime`);
  const table = new Int32Array(new SharedArrayBuffer(size * 4)).fill(-1);
  const members: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.available[i] !== 0) members.push(i);
  members.sort((a, b) => serverKey(set, a) - serverKey(set, b));

  let g = 0;
  let maxWeight = 0;
  for (const i of members) {
    const w = lastWeight[i];
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
    if (w > maxWeight) maxWeight = w;
  }
  if (g < 1) return table;
  const shift = Math.max(0, fls(Math.trunc(maxWeight / g)) - MH_TAB_BITS);

  const count = members.length;
  const next = new Float64Array(count); // ds->perm
  const skip = new Float64Array(count);
  const turns = new Int32Array(count);
  members.forEach((server, m) => {
    const ip = set.ip[server];
    const port = set.port[server];
    next[m] = maglevHash(ip, port, MH_KEY1, 0) % size;
    skip[m] = (maglevHash(ip, port, MH_KEY2, 0) % (size - 1)) + 1;
    const w = lastWeight[server];
    turns[m] = (Math.trunc(w / g) >> shift) || (w !== 0 ? 1 : 0);
  });

  // ip_vs_mh_populate: members take turns claiming their next preferred free slot; a member
  // with weight w (after gcd and shift) claims w slots per turn.
  const taken = new Uint8Array(size);
  let filled = 0;
  let turnCount = 0;
  for (;;) {
    for (let m = 0; m < count; ) {
      if (turns[m] < 1) {
        m++;
        continue;
      }
      let slot = next[m];
      while (taken[slot] !== 0) {
        slot += skip[m];
        if (slot >= size) slot -= size;
      }
      next[m] = slot;
      taken[slot] = 1;
      table[slot] = members[m];
      if (++filled === size) return table;
      if (++turnCount >= turns[m]) {
        turnCount = 0;
        m++;
      }
    }
  }
}

export class MaglevScheduler implements Scheduler {
  readonly name = 'mh' as const;
  private table: Int32Array;
  private size: number;
  private readonly usePort: boolean;
  private readonly fallback: boolean;
  /** ip:port -> latest non-zero weight (IPVS dest->last_weight), kept across rebuilds. */
  private lastWeightByServer = new Map<number, number>();

  constructor(set: RealServerSet, flags: SchedulerFlags, size = MAGLEV_DEFAULT_TABLE_SIZE, adoptTable?: Int32Array) {
    this.usePort = flags.mhPort === true;
    this.fallback = flags.mhFallback === true;
    if (adoptTable) {
      if (!isPrime(adoptTable.length)) throw new RangeError(`Maglev table size ${adoptTable.length} is not a prime`);
      this.table = adoptTable;
      this.size = adoptTable.length;
    } else {
      this.size = size;
      this.table = new Int32Array(0);
      this.rebuild(set);
    }
  }

  /** Published in snapshots; never modified after it is built. */
  get lookupTable(): Int32Array {
    return this.table;
  }

  rebuild(set: RealServerSet): void {
    const previous = this.lastWeightByServer;
    const current = new Map<number, number>();
    const lastWeight = new Int32Array(set.count);
    for (let i = 0; i < set.count; i++) {
      if (set.available[i] === 0) continue; // removed: forgotten, as IPVS frees the dest
      const key = serverKey(set, i);
      const w = set.weight[i] !== 0 ? set.weight[i] : (previous.get(key) ?? 0);
      current.set(key, w);
      lastWeight[i] = w;
    }
    this.lastWeightByServer = current;
    this.table = buildMaglevTable(set, lastWeight, this.size);
  }

  schedule(set: RealServerSet, srcIp: number, srcPort: number): number {
    const table = this.table;
    const size = this.size;
    const port = this.usePort ? srcPort : 0;
    const initial = maglevHash(srcIp, port, MH_KEY1, 0) % size;
    const server = table[initial];
    if (server < 0 || server >= set.count) return -1;
    if (isUsable(set, server)) return server;
    if (!this.fallback) return -1;
    // The walk below (ip_vs_mh_get_fallback) costs a hash per slot; when nothing is usable
    // it would cost `size` hashes, so answer that case from the server list first.
    let anyUsable = false;
    for (let i = 0; i < set.count; i++) {
      if (isUsable(set, i)) {
        anyUsable = true;
        break;
      }
    }
    if (!anyUsable) return -1;
    for (let offset = 0; offset < size; offset++) {
      const roffset = (offset + initial) % size;
      const candidate = table[maglevHash(srcIp, port, MH_KEY1, roffset) % size];
      if (candidate < 0 || candidate >= set.count) return -1;
      if (isUsable(set, candidate)) return candidate;
    }
    return -1;
  }
}
