// The idle strategy of each busy_poll mode, and the residence histogram's buckets and percentiles.
import t from 'tap';
import fc from 'fast-check';
import { IDLE_POLL_MS, IdleStrategy, SPIN_SLICE_US } from '../../src/dataplane/idle-strategy.js';
import { allocateResidence, bucketBounds, recordResidence, residenceBucket, summarizeResidence, RESIDENCE_BUCKETS } from '../../src/dataplane/residence.js';

t.test('false sleeps, true spins without end, adaptive spins only after packets', async (t) => {
  const off = new IdleStrategy(false);
  for (const had of [true, false]) { off.next(had); t.same([off.spinUs, off.timeoutMs], [0, IDLE_POLL_MS], `false after ${had ? 'packets' : 'none'}`); }
  const on = new IdleStrategy(true);
  for (const had of [true, false]) { on.next(had); t.same([on.spinUs, on.timeoutMs], [SPIN_SLICE_US, 0], `true after ${had ? 'packets' : 'none'}`); }
  const adaptive = new IdleStrategy('adaptive', 300);
  t.same([adaptive.spinUs, adaptive.timeoutMs], [0, IDLE_POLL_MS], 'adaptive starts asleep');
  adaptive.next(true);
  t.same([adaptive.spinUs, adaptive.timeoutMs], [300, IDLE_POLL_MS], 'adaptive spins 300 us after packets, then sleeps');
  adaptive.next(false);
  t.same([adaptive.spinUs, adaptive.timeoutMs], [0, IDLE_POLL_MS], 'adaptive sleeps once a wait found nothing');
});

t.test('every residence falls in the bucket whose bounds hold it, within 1/8', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 32 - 1 }), (ns) => {
    const b = residenceBucket(ns);
    const [low, high] = bucketBounds(b);
    return b >= 0 && b < RESIDENCE_BUCKETS && low <= ns && ns < high && (high - low) <= Math.max(1, low / 8);
  }), { numRuns: 20_000 });
  t.equal(residenceBucket(2 ** 40), RESIDENCE_BUCKETS - 1, 'beyond 4.3 s: the last bucket');
  t.equal(residenceBucket(0), 0, 'zero');
  t.equal(residenceBucket(Number.NaN), 0, 'NaN (a clock that went nowhere)');
});

t.test('percentiles over two workers are those of the packets, weighted by batch size', async (t) => {
  const a = allocateResidence();
  const b = allocateResidence();
  t.same(summarizeResidence([a, b]), { packets: 0, p50Us: null, p99Us: null, p999Us: null, meanUs: null }, 'no packets yet');
  recordResidence(a, 2_000, 9_000);     // 9,000 packets at 2 us
  recordResidence(b, 50_000, 900);      // 900 at 50 us
  recordResidence(b, 1_000_000, 100);   // 100 at 1 ms
  const s = summarizeResidence([a, b]);
  t.equal(s.packets, 10_000, 'packets of both workers');
  const near = (got: number | null, want: number): boolean => got !== null && Math.abs(got - want) <= want / 8;
  t.ok(near(s.p50Us, 2), `p50 ~2 us (${s.p50Us})`);
  t.ok(near(s.p99Us, 50), `p99 ~50 us (${s.p99Us})`);
  t.ok(near(s.p999Us, 1000), `p99.9 ~1 ms (${s.p999Us})`);
  t.ok(near(s.meanUs, (9_000 * 2 + 900 * 50 + 100 * 1000) / 10_000), `mean (${s.meanUs})`);
});
