// The bench's verdict logic (issue 18 part 0), from crafted inputs: the runs the issue quotes
// (a negative added latency, a C reference at 0.267 µs where it measured 2.3-3.6) must come out
// `unreliable`, never as a number that meets its goal.
import t from 'tap';
import fc from 'fast-check';
import {
  appendHistory, claimedEffect, HISTORY_KEEP, historyValues, judge, MIN_TRIALS, outsideHistory, spreadOf,
} from '../../bench/trust.js';
import { meetsGoal, renderMarkdown, renderSvg, resultSchema, trusted } from '../../bench/report.js';
import { processTreeCpuSeconds, processWithChildrenCpuSeconds } from '../../bench/sys.js';
import { fixtureResult } from './fixtures/result.js';

t.test('spread: median (odd and even counts), min, max', async (t) => {
  t.same(spreadOf([3, 1, 2, 5, 4]), { median: 3, min: 1, max: 5, n: 5 });
  t.same(spreadOf([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4, n: 4 });
  t.throws(() => spreadOf([]), RangeError);
  t.throws(() => spreadOf([1, Number.NaN]), RangeError);
  fc.assert(fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }), (xs) => {
    const s = spreadOf(xs);
    return s.min <= s.median && s.median <= s.max && s.n === xs.length;
  }));
});

t.test('steady trials well inside the goal are trusted', async (t) => {
  const v = judge({ samples: [1.05, 1.07, 1.06, 1.04, 1.08], unit: 'ratio', goal: { op: '<=', value: 1.2 } });
  t.equal(v.reliable, true, v.reasons.join('; '));
  t.equal(v.spread.median, 1.06);
});

t.test('fewer than five trials are unreliable', async (t) => {
  t.equal(MIN_TRIALS, 5);
  const v = judge({ samples: [1.05, 1.06, 1.04], unit: 'ratio', goal: { op: '<=', value: 1.2 } });
  t.equal(v.reliable, false);
  t.match(v.reasons[0], /3 trials \(at least 5 needed\)/);
});

t.test('a negative added latency in any trial is unreliable', async (t) => {
  // The runs: 24.9 µs, then -38.6 µs.
  const v = judge({ samples: [24.9, -38.6, 30, 28, 26], unit: 'µs', latency: true, goal: { op: '<=', value: 50 } });
  t.equal(v.reliable, false);
  t.ok(v.reasons.some((r) => /negative added latency \(-38\.6 µs\)/.test(r)), v.reasons.join('; '));
  // Negative numbers that are not latencies are not judged so.
  t.equal(judge({ samples: [-5, -5.1, -4.9, -5, -5], unit: 'ns' }).reliable, true);
});

t.test('a reference far outside its own history is unreliable', async (t) => {
  const history = [2.3, 3.6, 2.9, 3.1];
  const input = (value: number) => ({ samples: [1.3, 1.31, 1.29, 1.3, 1.3], unit: 'ratio', goal: { op: '<=' as const, value: 1.5 },
    reference: { label: 'C reference CPU per packet (µs)', value, history } });
  const broken = judge(input(0.267)); // the 9.0 ratio run
  t.equal(broken.reliable, false);
  t.match(broken.reasons.join('; '), /C reference CPU per packet \(µs\) 0\.267 is far outside its history \(median 3, 4 runs\)/);
  t.equal(judge(input(9)).reliable, false, 'far above too');
  t.equal(judge(input(2.5)).reliable, true, 'inside its history');
  t.equal(judge(input(0)).reliable, false, 'a zero reference is no measurement');
  // A short history judges nothing.
  t.equal(outsideHistory(0.267, [3, 3]), false);
  t.equal(outsideHistory(0.267, [3, 3, 3]), true);
});

t.test('a spread wider than the effect claimed is unreliable', async (t) => {
  // The dr_pps_vs_reference: 0.93 and then 1.10 (both sides sender-bound), goal >= 0.8.
  const v = judge({ samples: [0.93, 1.1, 0.85, 1.05, 0.98], unit: 'ratio', goal: { op: '>=', value: 0.8 } });
  t.equal(v.reliable, false);
  t.match(v.reasons.join('; '), /spread 0\.25 \(0\.85-1\.1\) wider than the margin to the goal \(0\.18\)/);
  // Without a goal the effect is the distance from parity (ratio) or the value itself.
  t.ok(Math.abs(claimedEffect(1.4, 'ratio') - 0.4) < 1e-12);
  t.equal(claimedEffect(250, 'ns'), 250);
  t.ok(Math.abs(claimedEffect(0.9, 'ratio', { op: '>=', value: 0.8 }) - 0.1) < 1e-12);
  t.equal(judge({ samples: [1.4, 1.5, 1.45, 1.42, 1.48], unit: 'ratio' }).reliable, true, 'a clear 1.45x');
  t.equal(judge({ samples: [0.9, 1.1, 1.0, 0.95, 1.05], unit: 'ratio' }).reliable, false, 'parity within noise claims nothing');
});

t.test('fixed-rate trials must reach their offered load and deliver it', async (t) => {
  const base = { samples: [1.2, 1.21, 1.19, 1.2, 1.2], unit: 'ratio', goal: { op: '<=' as const, value: 1.5 } };
  const trial = (offeredPps: number, deliveredPps: number) => ({ offeredPps, deliveredPps, label: 'ulvs trial 1' });
  t.equal(judge({ ...base, load: { rate: 100_000, trials: [trial(99_500, 99_400)] } }).reliable, true);
  const senderBound = judge({ ...base, load: { rate: 100_000, trials: [trial(70_000, 70_000)] } });
  t.match(senderBound.reasons.join(), /sender offered 70000 pps of 100000 \(sender-bound\)/);
  const overLimit = judge({ ...base, load: { rate: 100_000, trials: [trial(100_000, 60_000)] } });
  t.match(overLimit.reasons.join(), /delivered 60000 of 100000 pps offered \(over its limit\)/);
});

t.test('trusted(): median and spread on the figure; unreliable meets no goal and renders as such', async (t) => {
  const good = trusted('dr_cpu', 'dr_cpu_per_packet_vs_reference', { samples: [1.1, 1.12, 1.09, 1.11, 1.1], unit: 'ratio' }, []);
  t.equal(good.status, 'ok');
  t.equal(good.value, 1.1);
  t.same(good.spread, { median: 1.1, min: 1.09, max: 1.12, n: 5 });
  t.equal(meetsGoal(good), true);
  const bad = trusted('latency', 'added_latency_p99_us', { samples: [24.9, -38.6, 20, 22, 21], unit: 'µs', latency: true }, []);
  t.equal(bad.status, 'unreliable');
  t.equal(meetsGoal(bad), null, 'an unreliable 21 µs does not meet <= 50');
  const result = { ...fixtureResult, figures: { ...fixtureResult.figures, added_latency_p99_us: bad, dr_cpu_per_packet_vs_reference: good } };
  t.ok(resultSchema.safeParse(JSON.parse(JSON.stringify(result))).success, 'the schema takes both');
  const md = renderMarkdown(result);
  t.match(md, /\| `added_latency_p99_us` \| 21 µs \| -38\.6-24\.9, 5 \| <= 50 \| unreliable: negative added latency/);
  t.match(md, /\| `dr_cpu_per_packet_vs_reference` \| 1\.1 \| 1\.09-1\.12, 5 \| <= 1\.2 \| ok, meets goal \|/);
  t.match(renderSvg('added_latency_p99_us', bad), /unreliable: 21 µs \(-38\.6-24\.9, 5 trials\)/);
  const unreliableWithoutReason = { ...bad, reason: undefined };
  t.notOk(resultSchema.safeParse({ ...result, figures: { x: unreliableWithoutReason } }).success, 'unreliable needs its reason');
});

t.test('history: appended, newest kept, values read back', async (t) => {
  let h = {};
  for (let i = 0; i < HISTORY_KEEP + 5; i++) h = appendHistory(h, 'ref', i, `d${i}`);
  const values = historyValues(h, 'ref');
  t.equal(values.length, HISTORY_KEEP);
  t.equal(values[values.length - 1], HISTORY_KEEP + 4);
  t.same(historyValues(h, 'other'), []);
});

t.test('process tree CPU: the process with its ended children, plus its live descendants', async (t) => {
  // Fields after "(comm) ": state ppid ... utime(14) stime(15) cutime(16) cstime(17), in ticks.
  const stat = (pid: number, u: number, s: number, cu: number, cs: number) =>
    `${pid} (n (x) y) S 1 ${Array.from({ length: 9 }, () => '0').join(' ')} ${u} ${s} ${cu} ${cs} 20 0 1 0`;
  t.equal(processWithChildrenCpuSeconds(stat(7, 100, 50, 20, 5)), 1.75);
  const stats: Record<number, string> = { 10: stat(10, 100, 0, 0, 0), 11: stat(11, 50, 50, 0, 0), 12: stat(12, 0, 0, 30, 0) };
  const tree: Record<number, number[]> = { 10: [11, 13], 11: [12], 12: [], 13: [] }; // 13 ended between the two reads
  const read = (path: string) => {
    const pid = Number(/\/proc\/(\d+)\/stat/.exec(path)![1]);
    if (!(pid in stats)) throw new Error('ENOENT');
    return stats[pid];
  };
  t.equal(processTreeCpuSeconds(10, read, (p) => tree[p] ?? []), 2.3);
  t.ok(processTreeCpuSeconds(process.pid) > 0, 'reads our own tree');
});
