// The batch pre-pass (Dataplane.prefetch, FlowTable.hintForward/hintReply/touchHinted) only
// warms the cache and stashes hashes: with it forced on (prefetchMinFlows 0, the rigs' tables
// are small) every pipeline case gives the same verdict and frame as without it, one frame or
// a whole batch of them, and a hinted lookup answers as an unhinted one whatever the hint.
import t from 'tap';
import fc from 'fast-check';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PIPELINE_CASES, PipelineRig, RIG_NOW, RIG_SLOTS, type PipelineCase } from '../../src/dataplane/fixtures/pipeline-cases.js';
import { TokenBucket } from '../../src/dataplane/rate-limit.js';

function rig(c: PipelineCase, prefetch: boolean): PipelineRig {
  const r = new PipelineRig(c.snapshot);
  if (prefetch) r.dataplane.prefetchMinFlows = 0;
  for (const f of c.before) r.send(f);
  if (c.reload) r.dataplane.setSnapshot(c.reload, RIG_NOW);
  if (c.answered) r.dataplane.icmp.sendLimit = new TokenBucket(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return r;
}

t.test('pipeline cases with the pre-pass on: the same verdicts and frames as without', async (t) => {
  for (const c of PIPELINE_CASES) {
    t.test(c.description, async (t) => {
      const on = rig(c, true);
      const { verdict, out } = on.send(c.input);
      t.equal(verdict, c.verdict, 'one frame: verdict');
      if (c.output) t.same([...out], [...c.output], 'one frame: output');
      const off = rig(c, false);
      off.send(c.input);
      for (const r of [on, off]) {
        r.load(c.input.frame, c.input.side, RIG_SLOTS);
        r.process(c.input.side, RIG_SLOTS);
      }
      t.same([...on.descs], [...off.descs], 'a batch: the same descriptors and verdicts');
      const frames = c.input.side === 'inside' ? [on.inside.frames, off.inside.frames] : [on.outside.frames, off.outside.frames];
      t.ok(Buffer.compare(frames[0], frames[1]) === 0, 'a batch: the same frames');
      t.same([...on.counters], [...off.counters], 'the same counters');
    });
  }
});

t.test('a hinted lookup answers as an unhinted one, whatever the hint', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.constantFrom(6, 17), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1024, max: 1031 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
    fc.array(fc.tuple(fc.constantFrom(6, 17), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1024, max: 1031 })), { minLength: 1, maxLength: 40 }),
    fc.array(fc.integer({ min: -1, max: 40 }), { minLength: 1, maxLength: 40 }),
    (inserts, probes, slots) => {
      const table = new FlowTable({ capacity: 16, seed: 7 });
      const a = table.tuple;
      const put = (proto: number, c: number, port: number): void => {
        a[0] = proto; a[1] = (0xc0000000 + c) >>> 0; a[2] = port; a[3] = 0xc6120064; a[4] = 80; a[5] = 0x0a000001 + c; a[6] = 8080;
      };
      for (const [proto, c, port, nat] of inserts) { put(proto, c, port); table.insertTuple(1, 2, 100, nat); }
      // Hints for the probes, in batch slots 0..n-1, forward and reply alike.
      probes.forEach(([proto, c, port], j) => { put(proto, c, port); if (j % 2 === 0) table.hintForward(j); else table.hintReply(j); });
      const listed = Uint8Array.from(probes.map((_, j) => j));
      table.touchHinted(listed, listed.length);
      probes.forEach(([proto, c, port], i) => {
        const slot = slots[i % slots.length];
        put(proto, c, port);
        table.hintSlot = -1;
        const forward = table.lookupTuple(100), reply = table.lookupReplyTuple(100);
        put(proto, c, port);
        table.hintSlot = slot < probes.length ? slot : -1;
        if (table.lookupTuple(100) !== forward || table.lookupReplyTuple(100) !== reply) throw new Error(`slot ${slot} changed an answer`);
      });
      table.hintSlot = -1;
    },
  ), { numRuns: 300 });
  t.pass('300 random tables, hints and slots');
});
