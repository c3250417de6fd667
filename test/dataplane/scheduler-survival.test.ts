// Scheduler state across snapshot swaps (issue 18 part 2): a surviving service keeps its
// scheduler instance (rr/wrr their position, lblc its table), as IPVS's survive `ipvsadm -e`;
// a published mh/sh/dh table is adopted, not rebuilt; only connection-reading schedulers (or
// thresholds) get the counts copied.
import t from 'tap';
import { RuntimeTables, CONNECTION_READERS } from '../../src/dataplane/tables.js';
import { caseSnapshot } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { FORWARD_DR, type Snapshot } from '../../src/dataplane/snapshot.js';
import type { SchedulerName } from '../../src/schedulers/types.js';
import { SchedulerTablePublisher } from '../../src/control/scheduler-tables.js';

function snapshotWith(scheduler: SchedulerName, version: number, weights = [1, 1, 1], mutate?: (s: Snapshot) => void): Snapshot {
  const s = caseSnapshot({ forward: FORWARD_DR, weights });
  s.version = version;
  s.services[0].scheduler = scheduler;
  mutate?.(s);
  return s;
}

/** Picks (set indexes) of n new flows from distinct clients. */
function picks(tables: RuntimeTables, n: number, dst = 0xc6120064): number[] {
  const svc = tables.services[0];
  return Array.from({ length: n }, (_, i) => svc.scheduler.schedule(svc.set, 0xc6130000 + i, 40000 + i, dst, 80));
}

t.test('rr keeps its position across a swap that leaves the service alone', async (t) => {
  const first = new RuntimeTables(snapshotWith('rr', 1));
  t.same(picks(first, 2), [0, 1]);
  const second = new RuntimeTables(snapshotWith('rr', 2), first);
  t.equal(second.services[0].scheduler, first.services[0].scheduler, 'the same instance');
  t.same(picks(second, 2), [2, 0], 'it goes on where it was (a fresh rr would start at 0)');
  const fresh = new RuntimeTables(snapshotWith('rr', 2));
  t.same(picks(fresh, 1), [0]);
});

t.test('wrr keeps its position when its servers are unchanged, restarts (IPVS upd_dest) when they change', async (t) => {
  const w = [3, 2, 1];
  const first = new RuntimeTables(snapshotWith('wrr', 1, w));
  const whole = picks(new RuntimeTables(snapshotWith('wrr', 1, w)), 6);
  t.same(picks(first, 3), whole.slice(0, 3));
  const second = new RuntimeTables(snapshotWith('wrr', 2, w), first);
  t.same(picks(second, 3), whole.slice(3, 6), 'the sequence continues across the swap');
  const reweighted = new RuntimeTables(snapshotWith('wrr', 3, [1, 1, 1]), second);
  t.equal(reweighted.services[0].scheduler, first.services[0].scheduler, 'still the same instance, rebuilt');
  t.same(picks(reweighted, 3), [0, 1, 2], 'new weights apply');
});

t.test('lblc keeps its destination table across a swap', async (t) => {
  const first = new RuntimeTables(snapshotWith('lblc', 1, [4, 4, 4]));
  const svc = first.services[0];
  const chosen = svc.scheduler.schedule(svc.set, 1, 1, 0x0a000001, 80);
  const second = new RuntimeTables(snapshotWith('lblc', 2, [4, 4, 4]), first);
  const s2 = second.services[0];
  // Make another server look emptier: a fresh lblc would pick it, the kept table does not.
  s2.set.activeConns[chosen] = 2; // within lblc's own overload rule (active <= weight)
  t.equal(s2.scheduler.schedule(s2.set, 2, 2, 0x0a000001, 80), chosen, 'the destination stays on its server');
  const fresh = new RuntimeTables(snapshotWith('lblc', 2, [4, 4, 4]));
  fresh.services[0].set.activeConns[chosen] = 2;
  t.not(fresh.services[0].scheduler.schedule(fresh.services[0].set, 2, 2, 0x0a000001, 80), chosen, 'a fresh one would move it');
});

t.test('a service whose scheduler or flags changed, or a new service, gets a new instance', async (t) => {
  const first = new RuntimeTables(snapshotWith('rr', 1));
  t.not(new RuntimeTables(snapshotWith('wrr', 2), first).services[0].scheduler, first.services[0].scheduler);
  const renumbered = new RuntimeTables(snapshotWith('rr', 2, [1, 1, 1], (s) => { s.services[0].id = 7; }), first);
  t.not(renumbered.services[0].scheduler, first.services[0].scheduler, 'another service id');
  const sh1 = new RuntimeTables(snapshotWith('sh', 1));
  const sh2 = new RuntimeTables(snapshotWith('sh', 2, [1, 1, 1], (s) => { s.services[0].schedulerFlags = { shPort: true }; }), sh1);
  t.not(sh2.services[0].scheduler, sh1.services[0].scheduler, 'flags changed');
});

t.test('mh, sh, dh adopt the table the control plane published', async (t) => {
  const publisher = new SchedulerTablePublisher();
  for (const name of ['mh', 'sh', 'dh'] as const) {
    const snap = publisher.publish(snapshotWith(name, 1));
    const table = snap.services[0].schedulerTable!;
    t.ok(table.buffer instanceof SharedArrayBuffer, `${name}: shared memory`);
    const tables = new RuntimeTables(snap);
    t.equal((tables.services[0].scheduler as unknown as { lookupTable: Int32Array }).lookupTable, table, `${name}: adopted, not rebuilt`);
    // It schedules as a worker-built one does.
    const own = new RuntimeTables(snapshotWith(name, 1));
    t.same(picks(tables, 50), picks(own, 50), `${name}: same choices as a table built in the worker`);
  }
});

t.test('only schedulers that read connection counts (or thresholds) get them copied', async (t) => {
  for (const name of ['rr', 'wrr', 'sh', 'dh', 'mh'] as const) t.equal(new RuntimeTables(snapshotWith(name, 1)).services[0].readsConns, false, name);
  for (const name of ['lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'fo', 'ovf', 'twos'] as const) {
    t.equal(new RuntimeTables(snapshotWith(name, 1)).services[0].readsConns, true, name);
    t.ok(CONNECTION_READERS.has(name));
  }
  const thresholds = snapshotWith('rr', 1, [1, 1, 1], (s) => { s.services[0].realServers[1].uthreshold = 10; });
  t.equal(new RuntimeTables(thresholds).services[0].readsConns, true, 'rr with a threshold: overload marking needs the counts');
});
