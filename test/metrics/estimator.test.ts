// IPVS's rate estimator against sequences computed by hand from ip_vs_est.c's arithmetic.
import t from 'tap';
import fc from 'fast-check';
import { RateEstimator } from '../../src/metrics/estimator.js';
import { STAT_FIELDS } from '../../src/dataplane/counters.js';

/** [conns, inPkts, outPkts, inBytes, outBytes] */
const row = (conns: number, inPkts = 0, outPkts = 0, inBytes = 0, outBytes = 0): number[] => [conns, inPkts, outPkts, inBytes, outBytes];

t.test('10 connections every 2 s: cps 1, 2, 3 as the EWMA climbs, 2 after a quiet tick', async (t) => {
  const e = new RateEstimator();
  e.reset(row(0));
  // rate = 10 << 9 = 5120; cps += (5120 - cps) >> 2: 1280, 2240, 2960; read (x + 511) >> 10.
  const expected = [[1280, 1], [2240, 2], [2960, 3]];
  for (const [i, [scaled, cps]] of expected.entries()) {
    e.sample(row(10 * (i + 1)));
    t.equal(e.scaled[0], scaled, `scaled after sample ${i + 1}`);
    t.equal(e.rates().cps, cps);
  }
  e.sample(row(30)); // rate 0: 2960 + (-2960 >> 2) = 2220
  t.equal(e.scaled[0], 2220);
  t.equal(e.rates().cps, 2);
});

t.test('bytes are scaled by 2^5: 1000 bytes in 2 s reads 125 B/s after one tick', async (t) => {
  const e = new RateEstimator();
  e.reset(row(0));
  e.sample(row(0, 4, 2, 1000, 3000));
  // bytes: (1000 << 4) >> 2 = 4000, (4000 + 15) >> 5 = 125; out 12000 -> 375
  // packets: (4 << 9) >> 2 = 512 -> (512 + 511) >> 10 = 0; (2 << 9) >> 2 = 256 -> 0
  t.same(e.rates(), { cps: 0, inPps: 0, outPps: 0, inBps: 125, outBps: 375 });
});

t.test('the decay is an arithmetic shift: it reaches exactly 0 (a truncating one stalls at 3)', async (t) => {
  const e = new RateEstimator();
  e.reset(row(0));
  e.sample(row(10));
  const seen: number[] = [];
  for (let i = 0; i < 30; i++) { e.sample(row(10)); seen.push(e.scaled[0]); }
  t.same(seen.slice(0, 6), [960, 720, 540, 405, 303, 227], '405 + floor(-101.25) = 303');
  t.equal(e.scaled[0], 0);
  t.same(e.rates(), { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
});

t.test('reset (ip_vs_zero_estimator): rates restart at 0 and the next tick measures from there', async (t) => {
  const e = new RateEstimator();
  e.reset(row(0));
  e.sample(row(100, 1000));
  t.ok(e.rates().cps > 0);
  e.reset(row(100, 1000));
  t.equal(e.scaled.reduce((a, b) => a + b, 0), 0);
  e.sample(row(110, 1000));
  t.equal(e.scaled[0], 1280, 'only the 10 new connections count');
  t.equal(e.scaled[1], 0);
});

t.test('property: a steady rate of k per 2 s converges to k/2 per second (within rounding)', async () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), (k) => {
    const e = new RateEstimator();
    const cur = new Float64Array(STAT_FIELDS);
    e.reset(cur);
    for (let i = 0; i < 80; i++) {
      for (let f = 0; f < STAT_FIELDS; f++) cur[f] += k;
      e.sample(cur);
    }
    const r = e.rates();
    return Math.abs(r.cps - k / 2) <= 1 && Math.abs(r.inBps - k / 2) <= 1 && r.cps >= 0;
  }));
});
