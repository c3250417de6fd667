// dh and sh (ip_vs_dh.c, ip_vs_sh.c): 256-bucket tables built on the control plane over the
// servers in the list (available), in index order; the dataplane only looks a bucket up.

import { hash32, knuthHash } from './hash.js';
import type { RealServerSet, Scheduler, SchedulerFlags } from './types.js';

/** IP_VS_DH_TAB_BITS / IP_VS_SH_TAB_BITS */
export const HASH_TABLE_BITS = 8;
export const HASH_TABLE_SIZE = 1 << HASH_TABLE_BITS;
const MASK = HASH_TABLE_SIZE - 1;

/** dh's table: buckets dealt round-robin over the members, ignoring weight (ip_vs_dh_reassign). */
export function buildDestinationHashTable(set: RealServerSet): Int32Array {
  const table = new Int32Array(HASH_TABLE_SIZE).fill(-1);
  const members: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.available[i] !== 0) members.push(i);
  if (members.length === 0) return table;
  for (let b = 0; b < HASH_TABLE_SIZE; b++) table[b] = members[b % members.length];
  return table;
}

/** sh's table: each member fills `weight` consecutive buckets (at least one), cycling (ip_vs_sh_reassign). */
export function buildSourceHashTable(set: RealServerSet): Int32Array {
  const table = new Int32Array(HASH_TABLE_SIZE).fill(-1);
  const members: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.available[i] !== 0) members.push(i);
  if (members.length === 0) return table;
  let m = 0;
  let filled = 0;
  for (let b = 0; b < HASH_TABLE_SIZE; b++) {
    const server = members[m];
    table[b] = server;
    if (++filled >= set.weight[server]) {
      m = m + 1 < members.length ? m + 1 : 0;
      filled = 0;
    }
  }
  return table;
}

function checkedTable(table: Int32Array): Int32Array {
  if (table.length !== HASH_TABLE_SIZE) throw new RangeError(`a dh/sh table has ${HASH_TABLE_SIZE} buckets, not ${table.length}`);
  return table;
}

/** sh/mh's is_unavailable, plus ulvs's available flag for a set not yet rebuilt. */
export function isUsable(set: RealServerSet, i: number): boolean {
  return set.weight[i] > 0 && set.overloaded[i] === 0 && set.available[i] !== 0;
}

export class DestinationHashScheduler implements Scheduler {
  readonly name = 'dh' as const;
  private table: Int32Array;
  /** `adoptTable`: a table the control plane published for this set (never built here then). */
  constructor(set: RealServerSet, adoptTable?: Int32Array) {
    this.table = adoptTable ? checkedTable(adoptTable) : buildDestinationHashTable(set);
  }
  get lookupTable(): Int32Array {
    return this.table;
  }
  rebuild(set: RealServerSet): void {
    this.table = buildDestinationHashTable(set);
  }
  schedule(set: RealServerSet, _srcIp: number, _srcPort: number, dstIp: number): number {
    const server = this.table[knuthHash(dstIp, MASK)];
    return server >= 0 && server < set.count && isUsable(set, server) ? server : -1;
  }
}

export class SourceHashScheduler implements Scheduler {
  readonly name = 'sh' as const;
  private table: Int32Array;
  private readonly usePort: boolean;
  private readonly fallback: boolean;
  constructor(set: RealServerSet, flags: SchedulerFlags, adoptTable?: Int32Array) {
    this.table = adoptTable ? checkedTable(adoptTable) : buildSourceHashTable(set);
    this.usePort = flags.shPort === true;
    this.fallback = flags.shFallback === true;
  }
  get lookupTable(): Int32Array {
    return this.table;
  }
  rebuild(set: RealServerSet): void {
    this.table = buildSourceHashTable(set);
  }
  schedule(set: RealServerSet, srcIp: number, srcPort: number): number {
    const table = this.table;
    const initial = hash32((srcIp + (this.usePort ? srcPort : 0)) >>> 0, HASH_TABLE_BITS);
    const server = table[initial];
    if (server < 0 || server >= set.count) return -1;
    if (isUsable(set, server)) return server;
    if (!this.fallback) return -1;
    // ip_vs_sh_get_fallback: walk the table from a point derived from the hash (deterministic)
    for (let offset = 0; offset < HASH_TABLE_SIZE; offset++) {
      const roffset = (offset + initial) & MASK;
      const candidate = table[(roffset + initial) & MASK];
      if (candidate < 0 || candidate >= set.count) return -1;
      if (isUsable(set, candidate)) return candidate;
    }
    return -1;
  }
}
