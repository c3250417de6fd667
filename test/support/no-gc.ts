// The no-allocation tests' child run: a hot-loop script that prints BEGIN and END around its
// measured rounds (bench/warm-up.ts's measureSteady: up to three attempts, the last judged), run
// with --trace-gc (and any V8 flags given) under the same TypeScript loader as the test. Returns
// the child's stdout after checking it exited 0, printed both markers and logged no collection
// between the last pair.
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';

/**
 * V8 flags a hot loop must pass under as well as by default: with inlining off, every call that
 * passes or returns a uint32 above 2^31 boxes it, every time, so a hot call site that does it
 * fails deterministically instead of when V8's inlining budget happens to run out.
 */
export const NO_INLINING = ['--no-turbo-inlining'];

export function runWithoutGc(t: Test, script: string, v8Flags: readonly string[] = [], timeoutMs = 300_000): string {
  const result = spawnSync(process.execPath, [...process.execArgv, ...v8Flags, '--trace-gc', script], { encoding: 'utf8', timeout: timeoutMs });
  t.equal(result.status, 0, result.stderr);
  const out = result.stdout;
  const begin = out.lastIndexOf('BEGIN\n'), end = out.lastIndexOf('END\n');
  t.ok(begin >= 0 && end > begin, 'markers printed');
  const attempts = out.split('\n').filter((line) => /^attempt \d+: warm after \d+ chunks$/.test(line));
  t.ok(attempts.length >= 1, 'the warm-up said how long it took');
  const during = out.slice(begin, end).split('\n').filter((line) => /Scavenge|Mark-Compact|Mark-sweep/i.test(line));
  t.same(during, [], `no collection between the markers (${attempts.join('; ')})`);
  return out;
}
