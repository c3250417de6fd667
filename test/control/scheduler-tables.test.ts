// The control plane's mh/sh/dh tables (issue 18 part 2): built once per snapshot on the main
// thread in shared memory, rebuilt only when the servers change, Maglev's last_weight kept, and
// the same on every director for the same config: two separate processes publish identical
// tables (mh whatever order the servers are listed in, as ARCHITECTURE's "Many directors" says).
import t from 'tap';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SchedulerTablePublisher, setOfService } from '../../src/control/scheduler-tables.js';
import { caseSnapshot } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { FORWARD_DR, type Snapshot } from '../../src/dataplane/snapshot.js';
import { buildSourceHashTable, MaglevScheduler } from '../../src/schedulers/index.js';
import type { SchedulerName } from '../../src/schedulers/types.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/publish-tables.ts');

function snap(scheduler: SchedulerName, weights: number[], version = 1): Snapshot {
  const s = caseSnapshot({ forward: FORWARD_DR, weights });
  s.version = version;
  s.services[0].scheduler = scheduler;
  return s;
}

t.test('mh, sh, dh services get a shared table; others none', async (t) => {
  const p = new SchedulerTablePublisher();
  for (const name of ['mh', 'sh', 'dh'] as const) {
    const table = p.publish(snap(name, [1, 2, 3])).services[0].schedulerTable;
    t.ok(table && table.buffer instanceof SharedArrayBuffer, name);
  }
  t.equal(p.publish(snap('rr', [1, 1, 1])).services[0].schedulerTable, undefined, 'rr has no table');
  const mh = p.publish(snap('mh', [1, 2, 3])).services[0];
  t.same(Array.from(mh.schedulerTable!), Array.from(new MaglevScheduler(setOfService(mh), {}).lookupTable), 'mh: the table a worker would build');
  const sh = p.publish(snap('sh', [1, 2, 3])).services[0];
  t.same(Array.from(sh.schedulerTable!), Array.from(buildSourceHashTable(setOfService(sh))), 'sh: likewise');
});

t.test('built once per change: a snapshot with the same servers reuses the published table', async (t) => {
  const p = new SchedulerTablePublisher();
  const a = p.publish(snap('mh', [1, 1, 1], 1)).services[0].schedulerTable;
  const built = p.built;
  const b = p.publish(snap('mh', [1, 1, 1], 2)).services[0].schedulerTable;
  t.equal(b, a, 'the same memory');
  t.equal(p.built, built, 'nothing built');
  const c = p.publish(snap('mh', [1, 1, 2], 3)).services[0].schedulerTable;
  t.not(c, a, 'a weight change builds a new table (the old one is never changed in place)');
  t.equal(p.built, built + 1);
});

t.test('mh keeps last_weight across snapshots: a quiesced server keeps its slots', async (t) => {
  const p = new SchedulerTablePublisher();
  const before = Array.from(p.publish(snap('mh', [1, 1, 1], 1)).services[0].schedulerTable!);
  const quiesced = Array.from(p.publish(snap('mh', [1, 0, 1], 2)).services[0].schedulerTable!);
  t.same(quiesced, before, 'weight 0 keeps the table (IPVS last_weight)');
  const fresh = Array.from(new SchedulerTablePublisher().publish(snap('mh', [1, 0, 1], 1)).services[0].schedulerTable!);
  t.not(fresh.filter((i) => i === 1).length, before.filter((i) => i === 1).length, 'a publisher without that history would give its slots away');
});

t.test('two processes publish identical tables for the same config', async (t) => {
  const run = async (order: number[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, FIXTURE, ...order.map(String)], { timeout: 120_000 });
    return JSON.parse(stdout) as Record<string, string>;
  };
  const [one, two, reordered] = await Promise.all([run([1, 2, 3, 4]), run([1, 2, 3, 4]), run([4, 2, 1, 3])]);
  t.same(Object.keys(one).sort(), ['dh', 'mh', 'sh']);
  t.same(two, one, 'same config, two processes: same mh, sh and dh tables');
  t.equal(reordered.mh, one.mh, 'mh: the same table whatever order the servers are listed in');
});
