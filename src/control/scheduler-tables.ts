/**
 * The control plane publishes the hash schedulers' tables (issue 18 part 2): Maglev (mh), sh and
 * dh tables are built here, on the main thread, once per snapshot, in SharedArrayBuffer memory
 * that the snapshot carries to every worker (posting a snapshot shares the memory, it does not
 * copy it). Before, each worker rebuilt the 65,537-slot Maglev table on every snapshot swap.
 * A table is never changed once published: a change builds a new one.
 *
 * Maglev's state lives here across snapshots: IPVS's last_weight (a quiesced server keeps its
 * slots) is per service, so one MaglevScheduler per service id is kept while the service keeps
 * the scheduler and its flags. The table depends only on the set of servers and their weights
 * (maglev.ts sorts them), so every director with the same config publishes the same table.
 */
import { buildDestinationHashTable, buildSourceHashTable, MaglevScheduler } from '../schedulers/index.js';
import { realServerSetFrom, type RealServerSet } from '../schedulers/types.js';
import type { Snapshot, SnapshotService } from '../dataplane/snapshot.js';

/** The schedulers whose table the control plane builds. */
export const PUBLISHED_TABLE_SCHEDULERS: ReadonlySet<string> = new Set(['mh', 'sh', 'dh']);

/** The set the worker's RuntimeTables builds from the same spec (tables.ts): same order, same fields. */
export function setOfService(spec: SnapshotService): RealServerSet {
  return realServerSetFrom(spec.realServers.map((rs) => ({ ip: rs.ip, port: rs.port, weight: rs.weight, available: rs.available,
    uthreshold: rs.uthreshold, lthreshold: rs.lthreshold })));
}

/** Copies a table into shared memory (sh/dh build theirs in ordinary memory). */
function shared(table: Int32Array): Int32Array {
  if (table.buffer instanceof SharedArrayBuffer) return table;
  const out = new Int32Array(new SharedArrayBuffer(table.length * 4));
  out.set(table);
  return out;
}

/** What decides a table: the servers (in set order), their weights and availability, the flags. */
function tableKey(spec: SnapshotService): string {
  return `${spec.scheduler} ${JSON.stringify(spec.schedulerFlags)} ${spec.realServers.map((rs) => `${rs.ip}:${rs.port}/${rs.weight}/${rs.available ? 1 : 0}`).join(',')}`;
}

export class SchedulerTablePublisher {
  private readonly maglev = new Map<number, { flags: string; scheduler: MaglevScheduler }>();
  private readonly published = new Map<number, { key: string; table: Int32Array }>();
  /** Tables built so far (a snapshot whose servers did not change builds none). */
  built = 0;

  /** Sets `schedulerTable` on every mh/sh/dh service of the snapshot (in place) and returns it. */
  publish(snapshot: Snapshot): Snapshot {
    const live = new Set<number>();
    for (const spec of snapshot.services) {
      if (!PUBLISHED_TABLE_SCHEDULERS.has(spec.scheduler)) continue;
      live.add(spec.id);
      const key = tableKey(spec);
      const prior = this.published.get(spec.id);
      if (prior && prior.key === key) {
        spec.schedulerTable = prior.table;
        continue;
      }
      const table = this.build(spec);
      this.built++;
      this.published.set(spec.id, { key, table });
      spec.schedulerTable = table;
    }
    for (const id of [...this.published.keys()]) if (!live.has(id)) this.published.delete(id);
    for (const id of [...this.maglev.keys()]) if (!live.has(id) || snapshot.services.find((s) => s.id === id)?.scheduler !== 'mh') this.maglev.delete(id);
    return snapshot;
  }

  private build(spec: SnapshotService): Int32Array {
    const set = setOfService(spec);
    if (spec.scheduler === 'sh') return shared(buildSourceHashTable(set));
    if (spec.scheduler === 'dh') return shared(buildDestinationHashTable(set));
    const flags = JSON.stringify(spec.schedulerFlags);
    const kept = this.maglev.get(spec.id);
    if (kept && kept.flags === flags) {
      kept.scheduler.rebuild(set);
      return kept.scheduler.lookupTable;
    }
    const scheduler = new MaglevScheduler(set, spec.schedulerFlags);
    this.maglev.set(spec.id, { flags, scheduler });
    return scheduler.lookupTable;
  }
}
