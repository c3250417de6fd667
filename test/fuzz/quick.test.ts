// The quick fuzz run CI does (issue 15): every target under Jazzer.js (libFuzzer) for a few
// seconds from test/fuzz/corpus/. Fails on any crash or broken invariant, and when a target
// runs no input or reaches no coverage (the harness or the instrumentation would be broken).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SECONDS = 2;

t.test('every fuzz target runs its corpus and mutations without a finding', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-fuzz-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'fuzz.json');
  const run = spawnSync(process.execPath, ['dist/fuzz/run.js', '--seconds', String(SECONDS), '--json', json], { encoding: 'utf8', timeout: 240_000 });
  t.equal(run.status, 0, `npm run fuzz exits 0\n${run.stdout}\n${run.stderr.slice(-4000)}`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as { results: { target: string; executions: number; coverage: number; crashed: boolean }[] };
  t.equal(report.results.length, 9, 'nine targets');
  for (const r of report.results) {
    t.notOk(r.crashed, `${r.target}: no crash`);
    t.ok(r.executions > 0, `${r.target}: ran ${r.executions} inputs`);
    t.ok(r.coverage > 5, `${r.target}: reached ${r.coverage} edges`);
  }
  t.end();
});
