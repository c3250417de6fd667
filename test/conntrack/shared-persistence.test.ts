// Persistence templates shared by the workers (issue 18 part 3): one table in shared memory,
// seen alike from every worker's instance, consistent under concurrent use from real threads.
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PersistenceTable, SharedPersistenceTable } from '../../src/conntrack/persistence.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
const NOW = 100;

t.test('two workers\' instances over one memory see the same templates', async (t) => {
  const memory = PersistenceTable.allocateShared(1024);
  const a = new SharedPersistenceTable({ capacity: 1024, memory, owner: 1 });
  const b = new SharedPersistenceTable({ capacity: 1024, memory, owner: 2 });
  const tpl = a.insert(1, 0xc6130001, 7, 300, NOW, 6, 0xc6120064, 80, 0xc612000a, 80);
  t.ok(tpl >= 0);
  t.equal(b.lookup(1, 0xc6130001, NOW + 1), tpl, 'a template made on queue 0 is found on queue 1');
  t.equal(b.rsId(tpl), 7);
  b.attach(tpl);
  t.equal(a.controlled(tpl), 1, 'a connection on queue 1 holds it for queue 0 too');
  t.equal(a.expireSome(NOW + 1000, 64), 0, 'held: not expired');
  b.release(tpl, NOW + 1000);
  t.equal(a.expireSome(NOW + 1000 + 301, 64), 1, 'released, then expired once');
  t.equal(b.lookup(1, 0xc6130001, NOW + 1302), -1);
  t.equal(a.stats.size, 0);
  t.same({ ...b.stats }, { ...a.stats }, 'stats are the table\'s, and spread to plain values');
  t.throws(() => new SharedPersistenceTable({ capacity: 2048, memory, owner: 3 }), /not for 2048 templates/);
});

t.test('a restarted worker takes back the lock its dead predecessor held', async (t) => {
  const memory = PersistenceTable.allocateShared(1024);
  const lock = new Int32Array(memory, 0, 16);
  Atomics.store(lock, 1, 2); // queue 1's worker (owner 2) died inside an operation
  const again = new SharedPersistenceTable({ capacity: 1024, memory, owner: 2 });
  t.ok(again.insert(1, 5, 1, 10, NOW, 6, 1, 80, 2, 80) >= 0, 'its replacement is not stuck');
  t.equal(Atomics.load(lock, 1), 0, 'and leaves the lock free');
});

t.test('four threads inserting, looking up, attaching and releasing at once keep the table consistent', async (t) => {
  const memory = PersistenceTable.allocateShared(1 << 16);
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(${JSON.stringify(join(REPO, 'dist/src/conntrack/persistence.js'))}).then(({ SharedPersistenceTable }) => {
      const { memory, owner } = workerData;
      const table = new SharedPersistenceTable({ capacity: 1 << 16, memory, owner });
      let found = 0;
      for (let i = 0; i < 5000; i++) {
        const client = owner * 100000 + i;
        const tpl = table.insert(1, client, owner, 300, 100, 6, 1, 80, 2, 80);
        table.attach(tpl);
        if (table.lookup(1, client, 101) === tpl) found++;
        // Everyone also reads everyone else's keys.
        table.lookup(1, ((i % 4) + 1) * 100000 + i, 101);
        if (i % 2) table.release(tpl, 101);
      }
      parentPort.postMessage(found);
    });`;
  const results = await Promise.all([1, 2, 3, 4].map((owner) => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { memory, owner } });
    w.once('message', resolve);
    w.once('error', reject);
  })));
  t.same(results, [5000, 5000, 5000, 5000], 'every thread finds each of its templates');
  const table = new SharedPersistenceTable({ capacity: 1 << 16, memory, owner: 9 });
  t.equal(table.stats.size, 20000, 'no insert lost');
  t.equal(table.snapshot(101).length, 20000, 'all listed');
  let held = 0;
  for (const e of table.snapshot(101)) held += e.controlled;
  t.equal(held, 10000, 'attach/release counts add up (half released)');
  for (let owner = 1; owner <= 4; owner++) for (let i = 0; i < 5000; i += 997) t.ok(table.lookup(1, owner * 100000 + i, 101) >= 0);
});
