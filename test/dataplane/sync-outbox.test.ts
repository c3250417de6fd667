import t from 'tap';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { OUTBOX_CONNECTION, SyncOutbox, fillRecord, type OutboxRecord } from '../../src/dataplane/sync-outbox.js';

function record(i: number): OutboxRecord {
  return {
    kind: OUTBOX_CONNECTION, proto: 6, state: 1, clientIp: (0xc6120000 + i) >>> 0, clientPort: i & 0xffff,
    vip: 0xc6120064, vport: 80, rsIp: 0xc612000b, rsPort: 8080, rsId: (i % 7) + 1, service: 3, timeout: 900,
  };
}

t.test('records come out in order, whole, and a full ring counts what it refused', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.constant('drain' as const), fc.integer({ min: 1, max: 40 })), { maxLength: 60 }),
    (ops) => {
      const box = new SyncOutbox(16);
      const model: number[] = [];
      let next = 0, refused = 0;
      for (const op of ops) {
        if (op === 'drain') {
          const got: number[] = [];
          box.drain((r) => { got.push(r.clientPort); });
          if (JSON.stringify(got) !== JSON.stringify(model.splice(0).map((i) => i & 0xffff))) return false;
          continue;
        }
        for (let k = 0; k < op; k++) {
          fillRecord(box.scratch, record(next));
          if (box.push()) model.push(next); else refused++;
          next++;
        }
        if (box.pending !== model.length || model.length > 16) return false;
      }
      return box.overflows === refused;
    },
  ));
});

t.test('every field survives the ring', async (t) => {
  const box = new SyncOutbox(4);
  const r = record(0xfffe);
  r.clientIp = 0xffffffff; r.rsPort = 65535; r.rsId = 65535; r.timeout = 123456;
  fillRecord(box.scratch, r);
  t.ok(box.push());
  const out: OutboxRecord[] = [];
  box.drain((x) => out.push(x));
  t.same(out, [r]);
});

t.test('a worker thread produces, this thread consumes, nothing is lost or duplicated', async (t) => {
  const box = new SyncOutbox(64);
  const total = 20_000;
  const src = `
    const { workerData, parentPort } = require('node:worker_threads');
    const h = new Int32Array(workerData.buffer, 0, 4);
    const w = new Uint32Array(workerData.buffer, 16);
    const mask = w.length / 8 - 1;
    let sent = 0;
    while (sent < ${total}) {
      const head = h[0];
      if (((head - Atomics.load(h, 1)) | 0) > mask) continue;
      const b = (head & mask) * 8;
      w[b] = (1 << 24) | (6 << 16) | 1; w[b + 3] = sent;
      Atomics.store(h, 0, (head + 1) | 0);
      sent++;
    }
    parentPort.postMessage('done');`;
  const worker = new Worker(src, { eval: true, workerData: { buffer: box.buffer } });
  const seen: number[] = [];
  let done = false;
  worker.once('message', () => { done = true; });
  const deadline = Date.now() + 30_000;
  while (seen.length < total && Date.now() < deadline) {
    box.drain((r) => { seen.push((r.clientPort << 16) | r.vport); });
    if (done && box.pending === 0) break;
    await new Promise((r) => setImmediate(r));
  }
  await worker.terminate();
  t.equal(seen.length, total);
  t.ok(seen.every((v, i) => v === i), 'in order, each once');
});
