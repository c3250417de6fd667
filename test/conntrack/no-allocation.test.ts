// The per-packet methods allocate nothing: a million rounds of lookup/insert/state/sweep in a
// child running with --trace-gc trigger no garbage collection at all once warmed up.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

t.test('no GC during a million hot-path rounds', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/hot-loop.ts', import.meta.url));
  // Same TypeScript loader as this test runs under.
  const result = spawnSync(process.execPath, [...process.execArgv, '--trace-gc', script], { encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 0, result.stderr);
  const out = result.stdout;
  const begin = out.indexOf('BEGIN\n'), end = out.indexOf('END\n');
  t.ok(begin >= 0 && end > begin, 'markers printed');
  const during = out.slice(begin, end).split('\n').filter((line) => /Scavenge|Mark-Compact|Mark-sweep/i.test(line));
  t.same(during, [], 'no collection between the markers');
});
