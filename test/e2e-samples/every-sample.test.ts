// Every sample in configs/ and every director fixture of the migrate tests is run by one of the
// lab tests in this folder: a new sample or seed fixture without a lab run fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CONFIGS, FIXTURES } from './support.js';

const HERE = join(CONFIGS, '../test/e2e-samples');
const tests = readdirSync(HERE).filter((f) => f.endsWith('.test.ts') && f !== 'every-sample.test.ts')
  .map((f) => readFileSync(join(HERE, f), 'utf8')).join('\n');

t.test('every configs/*.yaml sample is run in the lab', async (t) => {
  const samples = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml'));
  t.ok(samples.length >= 11, `found the samples (${samples.length})`);
  for (const s of samples) t.ok(tests.includes(`'${s}'`), `${s} is run by a test in test/e2e-samples/`);
});

// Director configs among the fixtures: the seeds' keepalived.conf / ldirectord.cf blocks
// (features.conf is a keyword catalogue and broken/ holds parse errors: not directors).
t.test('every seed fixture is migrated and run in the lab', async (t) => {
  const fixtures = readdirSync(FIXTURES).filter((f) => /^seed.*\.(conf|cf)$/.test(f) && f !== 'seed000-fwmark-norule.conf');
  fixtures.push('seed004/keepalived.conf');
  for (const f of fixtures) t.ok(tests.includes(`'${f}'`), `${f} is migrated and run by a test in test/e2e-samples/`);
});
