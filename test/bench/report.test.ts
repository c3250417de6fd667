// The bench's result schema, ratio arithmetic and renderings, driven from a fixture result.
import t from 'tap';
import fc from 'fast-check';
import {
  FIGURE_KEYS, addedCpuPerPacketUs, failed, formatNumber, meetsGoal, ok, pending, ratio, renderMarkdown, renderSvg, resultSchema,
} from '../../bench/report.js';
import { processCpuPerPacketUs, EXPERIMENTS, selectExperiments } from '../../bench/experiments.js';
import type { TrafficResult } from '../../bench/lab.js';
import { fixtureResult } from './fixtures/result.js';

t.test('the fixture result passes the schema and survives a JSON round trip', async (t) => {
  const parsed = resultSchema.parse(JSON.parse(JSON.stringify(fixtureResult)));
  t.same(parsed, fixtureResult);
});

t.test('the schema rejects what a reader could not use', async (t) => {
  const bad = (mutate: (r: any) => void): boolean => {
    const r = structuredClone(fixtureResult) as any;
    mutate(r);
    return resultSchema.safeParse(r).success;
  };
  t.equal(bad(() => undefined), true, 'unchanged is fine');
  t.equal(bad((r) => { delete r.figures.bytes_per_flow.value; }), false, 'ok without a value');
  t.equal(bad((r) => { delete r.figures.http_rps_vs_haproxy.reason; }), false, 'failed without a reason');
  t.equal(bad((r) => { r.figures.failover_gap_ms.status = 'skipped'; }), false, 'unknown status');
  t.equal(bad((r) => { r.version = 2; }), false, 'unknown version');
  t.equal(bad((r) => { delete r.machine.kernel; }), false, 'machine info without a kernel');
  t.equal(bad((r) => { r.machine.cores = 0; }), false, 'zero cores');
  t.equal(bad((r) => { r.figures.dr_pps_vs_reference.bars[0].value = 'many'; }), false, 'a bar that is not a number');
});

t.test('ratio is ulvs / alternative and refuses meaningless denominators', async (t) => {
  t.equal(ratio(300_000, 400_000), 0.75);
  t.equal(ratio(0, 5), 0);
  t.throws(() => ratio(1, 0), RangeError);
  t.throws(() => ratio(1, -2), RangeError);
  t.throws(() => ratio(-1, 2), RangeError);
  t.throws(() => ratio(Number.NaN, 2), RangeError);
  t.throws(() => ratio(1, Number.POSITIVE_INFINITY), RangeError);
  fc.assert(fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (u, a) => {
    const r = ratio(u, a);
    return r >= 0 && Math.abs(r * a - u) <= 1e-9 * Math.max(1, u);
  }));
  // Swapping the roles inverts the ratio.
  fc.assert(fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
    (u, a) => Math.abs(ratio(u, a) * ratio(a, u) - 1) < 1e-9));
});

t.test('added CPU per packet subtracts the baseline and never goes negative', async (t) => {
  t.equal(addedCpuPerPacketUs(3.0, 1.0, 1_000_000), 2);
  t.equal(addedCpuPerPacketUs(1.0, 1.5, 1000), 0, 'a run cheaper than its baseline adds nothing');
  t.throws(() => addedCpuPerPacketUs(1, 0, 0), RangeError);
});

const run = (over: Partial<TrafficResult>): TrafficResult =>
  ({ sent: 300_000, delivered: 300_000, seconds: 3, pps: 100_000, busySeconds: 1.5, processSeconds: 0.3, ...over });

t.test('CPU per packet is the forwarder process tree\'s own CPU over the packets it delivered', async (t) => {
  t.ok(Math.abs(processCpuPerPacketUs(run({ processSeconds: 0.6 })) - 2) < 1e-9, '0.6 s / 300k packets = 2 µs');
  t.throws(() => processCpuPerPacketUs(run({ delivered: 0 })), RangeError);
});

t.test('goals: met, missed, or not applicable', async (t) => {
  t.equal(meetsGoal(fixtureResult.figures.dr_pps_vs_reference), false);
  t.equal(meetsGoal(fixtureResult.figures.bytes_per_flow), true);
  t.equal(meetsGoal(fixtureResult.figures.http_rps_vs_haproxy), null, 'failed figures have no verdict');
  t.equal(meetsGoal(fixtureResult.figures.failover_gap_ms), null);
  t.same(ok('x', 1.4, 'ratio', [], 'http_rps_vs_haproxy').goal, { op: '>=', value: 1.3 }, 'goals come from the issue');
  t.equal(failed('x', 'bytes_per_flow', 'boom').status, 'failed');
  t.equal(pending('x', 'check_detect_ms', 'later').reason, 'later');
});

t.test('Markdown: a row per figure, machine line, statuses and escaped cells', async (t) => {
  const md = renderMarkdown(fixtureResult);
  const rows = md.split('\n').filter((l) => l.startsWith('| `'));
  t.equal(rows.length, Object.keys(fixtureResult.figures).length);
  t.match(md, /Test CPU <fast> & cheap, 2 cores, Linux 6\.18\.0, Node v20\.20\.2/);
  t.match(md, /\| `dr_pps_vs_reference` \| 0\.75 \|  \| >= 0\.8 \| ok, misses goal \| C reference 400,000 pps; ulvs AF_XDP 300,000 pps \|/);
  t.match(md, /\| `bytes_per_flow` \| 61\.9 bytes \|  \| <= 64 \| ok, meets goal \|/);
  t.match(md, /failed: haproxy did not answer \\\| exit 1/, 'a | inside a cell is escaped');
  t.match(md, /pending: needs issue 5 \(VRRP\)/);
  // Known keys come in the order.
  t.ok(rows[0].includes('dr_pps_vs_reference') && rows[rows.length - 1].includes('failover_gap_ms'));
});

t.test('SVG: one bar per absolute number, scaled to the largest, text escaped', async (t) => {
  const svg = renderSvg('dr_pps_vs_reference', fixtureResult.figures.dr_pps_vs_reference);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.match(svg, /<\/svg>\n$/);
  const widths = [...svg.matchAll(/<rect x="190" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
  t.equal(widths.length, 2);
  t.ok(Math.abs(widths[1] / widths[0] - 0.75) < 0.01, 'bar lengths are proportional to the values');
  t.match(svg, /0\.75 \(goal &gt;= 0\.8\)/);
  const failedSvg = renderSvg('http_rps_vs_haproxy', fixtureResult.figures.http_rps_vs_haproxy);
  t.match(failedSvg, /failed: haproxy did not answer/);
  t.notMatch(failedSvg, /<rect x="190"/, 'no bars for a failed figure');
  t.notMatch(renderSvg('x', { ...fixtureResult.figures.bytes_per_flow, bars: [{ label: 'a<b', value: 1, unit: '&' }] }), /a<b|"&"/);
});

t.test('formatNumber: grouped thousands, three significant digits', async (t) => {
  t.equal(formatNumber(1234567.8), '1,234,568');
  t.equal(formatNumber(0.123456), '0.123');
  t.equal(formatNumber(61.8959), '61.9');
  t.equal(formatNumber(0), '0');
});

t.test('every issue 7 key is produced by exactly one experiment; --only selects by either name', async (t) => {
  const produced = EXPERIMENTS.flatMap((e) => e.figures);
  for (const key of FIGURE_KEYS) t.equal(produced.filter((k) => k === key).length, 1, key);
  t.same(selectExperiments(['nat_pps_vs_kernel']).map((e) => e.name), ['nat_pps']);
  t.same(selectExperiments(['dataplane', 'http_p99_ms']).map((e) => e.name), ['dataplane', 'http']);
  t.equal(selectExperiments(undefined).length, EXPERIMENTS.length);
  t.throws(() => selectExperiments(['dr_ppz']), /unknown figure or experiment: dr_ppz/);
});
