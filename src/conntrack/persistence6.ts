// IPv6 persistence templates (issue 16): IPVS's ip_vs_sched_persist for an IPv6 service, whose
// persistence_granularity is a prefix length (ipvsadm -M 64 puts a /64 of clients on one real
// server). The templates are a PersistenceTable in its wide form: the 32-bit key is the fold of
// the masked client (hash and first compare), the four masked words are the key itself, so two
// clients whose folds collide still get their own templates. Same lifetimes, eviction, sharing
// across workers (SharedPersistenceTable over allocateShared(..., wide)) and controlled-flow
// counting as IPv4; FlowTable6 attaches and releases them as FlowTable does.
import { A_WIDE, PersistenceTable, SharedPersistenceTable, templateCapacityFor, type TemplateEntry } from './persistence.js';
import { formatIpv6 } from '../packet/addr6.js';

/** Word `i` (0..3) of an IPv6 prefix-length mask. */
export function prefixMaskWord(prefixLength: number, i: number): number {
  const bits = prefixLength - 32 * i;
  if (bits >= 32) return 0xffffffff;
  if (bits <= 0) return 0;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * The IPv6 template table of a worker: its own, or the one every worker shares (queues > 1).
 * `capacity` is the IPv4 table's (templateCapacityFor the connection table).
 */
export function createPersistenceTable6(capacity: number, shared?: SharedArrayBuffer, owner = 0): PersistenceTable {
  if (shared !== undefined && owner > 0) return new SharedPersistenceTable({ capacity, memory: shared, owner, wide: true });
  return new PersistenceTable({ capacity, wide: true });
}

/** Shared memory for the workers' IPv6 templates (director, queues > 1). */
export function allocateSharedTemplates6(connTableSize: number): SharedArrayBuffer {
  return PersistenceTable.allocateShared(templateCapacityFor(connTableSize), undefined, true);
}

/**
 * Fills the table's args with the key of client (s0..s3) under `prefixLength` and the VIP
 * (d0..d3) for the listing; lookupArgs/insertArgs then act on it. No allocation.
 */
export function setClientKey6(table: PersistenceTable, prefixLength: number,
  s0: number, s1: number, s2: number, s3: number, d0: number, d1: number, d2: number, d3: number): void {
  const a = table.args;
  const c0 = (s0 & prefixMaskWord(prefixLength, 0)) >>> 0, c1 = (s1 & prefixMaskWord(prefixLength, 1)) >>> 0;
  const c2 = (s2 & prefixMaskWord(prefixLength, 2)) >>> 0, c3 = (s3 & prefixMaskWord(prefixLength, 3)) >>> 0;
  a[0] = (c0 ^ c1 ^ c2 ^ c3) >>> 0;
  a[A_WIDE] = c0; a[A_WIDE + 1] = c1; a[A_WIDE + 2] = c2; a[A_WIDE + 3] = c3;
  a[A_WIDE + 4] = d0; a[A_WIDE + 5] = d1; a[A_WIDE + 6] = d2; a[A_WIDE + 7] = d3;
}

function wordsToText(words: Uint32Array, from: number): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = words[from + i];
    bytes[i * 4] = w >>> 24; bytes[i * 4 + 1] = (w >>> 16) & 0xff; bytes[i * 4 + 2] = (w >>> 8) & 0xff; bytes[i * 4 + 3] = w & 0xff;
  }
  return formatIpv6(bytes);
}

export interface TemplateEntry6 extends Omit<TemplateEntry, 'clientIp' | 'vip' | 'rsIp' | 'wide'> {
  client: string; vip: string;
}

/** Live IPv6 templates with their addresses as text (`ulvs conns`; the real server by rsId is the caller's). Allocates. */
export function snapshotTemplates6(table: PersistenceTable, now: number): TemplateEntry6[] {
  return table.snapshot(now).map(({ clientIp, vip, rsIp, wide, ...rest }) => {
    void clientIp; void vip; void rsIp;
    return { ...rest, client: wordsToText(wide!, 0), vip: wordsToText(wide!, 4) };
  });
}
