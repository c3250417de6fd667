// The dataplane-step bench times the pipeline fixture cases: it refuses a case whose path is
// not the one the tests check.
import t from 'tap';
import { measurePipelineCases } from '../../bench/dataplane-step.js';
import { PIPELINE_CASES } from '../../src/dataplane/fixtures/pipeline-cases.js';

t.test('every fixture case is measured, in order', async (t) => {
  const results = measurePipelineCases(640);
  t.same(results.map((r) => r.description), PIPELINE_CASES.map((c) => c.description));
  for (const r of results) t.ok(r.packets === 640 && Number.isFinite(r.nsPerPacket) && r.nsPerPacket >= 0, r.description);
});

t.test('a case whose expected frame the step does not produce is not measured', async (t) => {
  const c = PIPELINE_CASES[0];
  const wrong = { ...c, output: Uint8Array.from(c.output!, (b, i) => (i === 0 ? b ^ 1 : b)) };
  t.throws(() => measurePipelineCases(64, [wrong]), /does not give the tested verdict and frame/);
});
