// A snapshot swap hands the previous RuntimeTables to the new one (schedulers of surviving
// services carry on), and then the previous one must be garbage: nothing of the new tables
// may reach it. A closure made in the constructor once did (it held the constructor's scope,
// `previous` in it), so every table ever built stayed alive: ~384 kB a reload, found by
// test/e2e-faults/reload-leaks.test.ts as RSS growing linearly with reloads.
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RuntimeTables } from '../../src/dataplane/tables.js';
import { caseSnapshot } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { FORWARD_DR } from '../../src/dataplane/snapshot.js';
import type { SchedulerName } from '../../src/schedulers/types.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return ref.deref() === undefined;
}

for (const scheduler of ['rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'lblc'] as SchedulerName[]) {
  t.test(`${scheduler}: tables replaced by later snapshots are collected`, async (t) => {
    const snapshot = (version: number) => {
      const s = caseSnapshot({ forward: FORWARD_DR, weights: [1 + (version % 2), 1, 1] });
      s.version = version;
      s.services[0].scheduler = scheduler;
      return s;
    };
    let tables = new RuntimeTables(snapshot(1));
    const first = new WeakRef(tables);
    for (let v = 2; v < 50; v++) tables = new RuntimeTables(snapshot(v), tables);
    t.ok(await collected(first), 'the first tables are gone after 48 swaps');
    t.equal(tables.services.length, 1, 'the latest tables are in use');
  });
}
