// lblc and lblcr (ip_vs_lblc.c, ip_vs_lblcr.c): a cache from destination IP to real server(s).
//
// IPVS keeps the cache in a chained hash table that grows without bound between garbage
// collections (entries idle for lblc(r)_expiration, 24 h by default, are dropped; over 16384
// entries, those idle for 6 minutes). ulvs keeps it in fixed typed arrays: open addressing with
// a bounded probe window; an entry idle past the expiration counts as absent and its slot is
// reused; when a window is full of live entries, the least recently used one is evicted
// (counted in `evictions`). lblcr's per-destination server set holds at most
// LBLCR_MAX_SET_SIZE servers; further inserts are dropped as IPVS drops them when kmalloc fails.

import { hash32 } from './hash.js';
import { pickWeightedLeastConnection } from './least-connection.js';
import { connectionOverhead, type RealServerSet, type Scheduler } from './types.js';

export const LOCALITY_DEFAULT_CACHE_SIZE = 16384; // IPVS's max_size: IP_VS_LBLC_TAB_SIZE * 16
export const LOCALITY_DEFAULT_EXPIRATION = 24 * 60 * 60; // seconds, sysctl lblc(r)_expiration
export const LBLCR_MAX_SET_SIZE = 16;
const PROBE_WINDOW = 16;

function defaultClock(): number {
  return performance.now() / 1000;
}

/** lblc/lblcr is_overloaded: busier than its weight while some server is below half of its own. */
function isLocalityOverloaded(set: RealServerSet, server: number): boolean {
  if (set.activeConns[server] <= set.weight[server]) return false;
  for (let i = 0; i < set.count; i++) {
    if (set.available[i] !== 0 && set.activeConns[i] * 2 < set.weight[i]) return true;
  }
  return false;
}

/** Fixed-size map from destination IP to a slot; the schedulers keep their values per slot. */
class DestinationCache {
  readonly slots: number;
  private readonly bits: number;
  readonly key: Uint32Array;
  readonly used: Uint8Array; // 0 = never used: a probe stops here
  readonly lastUse: Float64Array;
  evictions = 0;

  constructor(size: number, readonly expiration: number) {
    this.bits = Math.max(4, Math.ceil(Math.log2(Math.max(16, size))));
    this.slots = 1 << this.bits;
    this.key = new Uint32Array(this.slots);
    this.used = new Uint8Array(this.slots);
    this.lastUse = new Float64Array(this.slots);
  }

  private live(slot: number, now: number): boolean {
    return now < this.lastUse[slot] + this.expiration;
  }

  /** The live entry for `ip`, or -1. */
  find(ip: number, now: number): number {
    const mask = this.slots - 1;
    let slot = hash32(ip, this.bits);
    for (let probe = 0; probe < PROBE_WINDOW; probe++, slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) return -1;
      if ((this.key[slot] | 0) === (ip | 0)) return this.live(slot, now) ? slot : -1;
    }
    return -1;
  }

  /** A slot for `ip`: its own (live or not), else a free or expired one, else the LRU in the window. */
  claim(ip: number, now: number): number {
    const mask = this.slots - 1;
    let slot = hash32(ip, this.bits);
    let reusable = -1;
    let oldest = slot;
    for (let probe = 0; probe < PROBE_WINDOW; probe++, slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) {
        if (reusable < 0) reusable = slot;
        break;
      }
      if ((this.key[slot] | 0) === (ip | 0)) return slot;
      if (reusable < 0 && !this.live(slot, now)) reusable = slot;
      if (this.lastUse[slot] < this.lastUse[oldest]) oldest = slot;
    }
    if (reusable < 0) {
      reusable = oldest;
      this.evictions++;
    }
    this.used[reusable] = 1;
    this.key[reusable] = ip;
    return reusable;
  }

  /** Make an entry absent without breaking probe chains. */
  expire(slot: number): void {
    this.lastUse[slot] = -Infinity;
  }
}

/** Old index -> new index by (ip, port), -1 where the server is gone or unavailable. */
function remapIndices(oldIp: Uint32Array, oldPort: Uint16Array, set: RealServerSet): Int32Array {
  const byServer = new Map<number, number>();
  for (let i = 0; i < set.count; i++) {
    if (set.available[i] !== 0) byServer.set(set.ip[i] * 65536 + set.port[i], i);
  }
  const map = new Int32Array(oldIp.length).fill(-1);
  for (let i = 0; i < oldIp.length; i++) map[i] = byServer.get(oldIp[i] * 65536 + oldPort[i]) ?? -1;
  return map;
}

export interface LocalityOptions {
  clock?: () => number;
  cacheSize?: number;
  expiration?: number;
}

export class LocalityLeastConnectionScheduler implements Scheduler {
  readonly name = 'lblc' as const;
  private readonly cache: DestinationCache;
  private readonly server: Int32Array;
  private readonly clock: () => number;
  private knownIp: Uint32Array;
  private knownPort: Uint16Array;

  constructor(set: RealServerSet, options: LocalityOptions = {}) {
    this.cache = new DestinationCache(options.cacheSize ?? LOCALITY_DEFAULT_CACHE_SIZE, options.expiration ?? LOCALITY_DEFAULT_EXPIRATION);
    this.server = new Int32Array(this.cache.slots).fill(-1);
    this.clock = options.clock ?? defaultClock;
    this.knownIp = set.ip.slice(0, set.count);
    this.knownPort = set.port.slice(0, set.count);
  }

  get evictions(): number {
    return this.cache.evictions;
  }

  schedule(set: RealServerSet, _srcIp: number, _srcPort: number, dstIp: number): number {
    const now = this.clock();
    const slot = this.cache.find(dstIp, now);
    if (slot >= 0) {
      this.cache.lastUse[slot] = now;
      const cached = this.server[slot];
      // IPVS checks only "in the list", weight and its own overload rule here, not the threshold flag
      if (cached >= 0 && cached < set.count && set.available[cached] !== 0 && set.weight[cached] > 0 &&
          !isLocalityOverloaded(set, cached)) {
        return cached;
      }
    }
    const chosen = pickWeightedLeastConnection(set);
    if (chosen < 0) return -1;
    const entry = this.cache.claim(dstIp, now);
    // ip_vs_lblc_new: the entry now points at the chosen server, last used now
    this.cache.lastUse[entry] = now;
    this.server[entry] = chosen;
    return chosen;
  }

  rebuild(set: RealServerSet): void {
    const map = remapIndices(this.knownIp, this.knownPort, set);
    for (let s = 0; s < this.cache.slots; s++) {
      if (this.cache.used[s] === 0 || this.server[s] < 0) continue;
      const moved = this.server[s] < map.length ? map[this.server[s]] : -1;
      this.server[s] = moved;
      if (moved < 0) this.cache.expire(s);
    }
    this.knownIp = set.ip.slice(0, set.count);
    this.knownPort = set.port.slice(0, set.count);
  }
}

export class LocalityReplicatedScheduler implements Scheduler {
  readonly name = 'lblcr' as const;
  private readonly cache: DestinationCache;
  private readonly members: Int32Array; // slot * LBLCR_MAX_SET_SIZE + k, newest first
  private readonly memberCount: Uint8Array;
  private readonly lastModified: Float64Array;
  private readonly clock: () => number;
  private knownIp: Uint32Array;
  private knownPort: Uint16Array;

  constructor(set: RealServerSet, options: LocalityOptions = {}) {
    this.cache = new DestinationCache(options.cacheSize ?? LOCALITY_DEFAULT_CACHE_SIZE, options.expiration ?? LOCALITY_DEFAULT_EXPIRATION);
    this.members = new Int32Array(this.cache.slots * LBLCR_MAX_SET_SIZE);
    this.memberCount = new Uint8Array(this.cache.slots);
    this.lastModified = new Float64Array(this.cache.slots);
    this.clock = options.clock ?? defaultClock;
    this.knownIp = set.ip.slice(0, set.count);
    this.knownPort = set.port.slice(0, set.count);
  }

  get evictions(): number {
    return this.cache.evictions;
  }

  /** The servers cached for a destination IP, newest first (for tests and `ulvs` listings). */
  serversFor(dstIp: number, now = this.clock()): number[] {
    const slot = this.cache.find(dstIp, now);
    if (slot < 0) return [];
    return Array.from(this.members.subarray(slot * LBLCR_MAX_SET_SIZE, slot * LBLCR_MAX_SET_SIZE + this.memberCount[slot]));
  }

  /** ip_vs_dest_set_min: weighted least connection among the set's usable servers. */
  private leastInSet(set: RealServerSet, slot: number): number {
    const base = slot * LBLCR_MAX_SET_SIZE;
    const n = this.memberCount[slot];
    let k = 0;
    let least = -1;
    for (; k < n; k++) {
      const d = this.members[base + k];
      if (set.overloaded[d] !== 0) continue;
      if (set.weight[d] > 0 && set.available[d] !== 0) {
        least = d;
        break;
      }
    }
    if (least < 0) return -1;
    let leastOverhead = connectionOverhead(set, least);
    for (k++; k < n; k++) {
      const d = this.members[base + k];
      if (set.overloaded[d] !== 0) continue;
      const overhead = connectionOverhead(set, d);
      if (leastOverhead * set.weight[d] > overhead * set.weight[least] && set.available[d] !== 0) {
        least = d;
        leastOverhead = overhead;
      }
    }
    return least;
  }

  /** ip_vs_dest_set_max: weighted most connection among the set's servers with weight. */
  private mostInSet(set: RealServerSet, slot: number): number {
    const base = slot * LBLCR_MAX_SET_SIZE;
    const n = this.memberCount[slot];
    let k = 0;
    let most = -1;
    for (; k < n; k++) {
      if (set.weight[this.members[base + k]] > 0) {
        most = this.members[base + k];
        break;
      }
    }
    if (most < 0) return -1;
    let mostOverhead = connectionOverhead(set, most);
    for (k++; k < n; k++) {
      const d = this.members[base + k];
      const overhead = connectionOverhead(set, d);
      if (mostOverhead * set.weight[d] < overhead * set.weight[most] && set.weight[d] > 0) {
        most = d;
        mostOverhead = overhead;
      }
    }
    return most;
  }

  private insert(slot: number, server: number, now: number): void {
    const base = slot * LBLCR_MAX_SET_SIZE;
    const n = this.memberCount[slot];
    for (let k = 0; k < n; k++) if (this.members[base + k] === server) return;
    if (n === LBLCR_MAX_SET_SIZE) return;
    this.members.copyWithin(base + 1, base, base + n); // list_add_rcu: newest at the front
    this.members[base] = server;
    this.memberCount[slot] = n + 1;
    this.lastModified[slot] = now;
  }

  private erase(slot: number, server: number, now: number): void {
    const base = slot * LBLCR_MAX_SET_SIZE;
    const n = this.memberCount[slot];
    for (let k = 0; k < n; k++) {
      if (this.members[base + k] === server) {
        this.members.copyWithin(base + k, base + k + 1, base + n);
        this.memberCount[slot] = n - 1;
        this.lastModified[slot] = now;
        return;
      }
    }
  }

  schedule(set: RealServerSet, _srcIp: number, _srcPort: number, dstIp: number): number {
    const now = this.clock();
    const slot = this.cache.find(dstIp, now);
    if (slot >= 0) {
      this.cache.lastUse[slot] = now;
      const least = this.leastInSet(set, slot);
      // a set of several that has not changed for the expiration time drops its busiest server
      if (this.memberCount[slot] > 1 && now > this.lastModified[slot] + this.cache.expiration) {
        const most = this.mostInSet(set, slot);
        if (most >= 0) this.erase(slot, most, now);
      }
      if (least >= 0 && !isLocalityOverloaded(set, least)) return least;
      const chosen = pickWeightedLeastConnection(set);
      if (chosen < 0) return -1;
      this.insert(slot, chosen, now);
      return chosen;
    }
    const chosen = pickWeightedLeastConnection(set);
    if (chosen < 0) return -1;
    const entry = this.cache.claim(dstIp, now);
    this.cache.lastUse[entry] = now;
    this.memberCount[entry] = 0; // a new or reused slot starts an empty set
    this.insert(entry, chosen, now);
    return chosen;
  }

  rebuild(set: RealServerSet): void {
    const map = remapIndices(this.knownIp, this.knownPort, set);
    for (let s = 0; s < this.cache.slots; s++) {
      const n = this.memberCount[s];
      if (this.cache.used[s] === 0 || n === 0) continue;
      const base = s * LBLCR_MAX_SET_SIZE;
      let kept = 0;
      for (let k = 0; k < n; k++) {
        const old = this.members[base + k];
        const moved = old < map.length ? map[old] : -1;
        if (moved >= 0) this.members[base + kept++] = moved;
      }
      this.memberCount[s] = kept;
      if (kept === 0) this.cache.expire(s);
    }
    this.knownIp = set.ip.slice(0, set.count);
    this.knownPort = set.port.slice(0, set.count);
  }
}
