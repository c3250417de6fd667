// The per-packet methods allocate nothing: a million rounds of lookup/insert/state/sweep in a
// child running with --trace-gc trigger no garbage collection at all once warmed up; also with
// V8's inlining off (test/support/no-gc.ts says why).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { NO_INLINING, runWithoutGc } from '../support/no-gc.js';

const script = fileURLToPath(new URL('./fixtures/hot-loop.ts', import.meta.url));

for (const flags of [[], NO_INLINING]) {
  t.test(`no GC during a million hot-path rounds${flags.length ? ` (${flags.join(' ')})` : ''}`, async (t) => {
    runWithoutGc(t, script, flags, 120_000);
  });
}
