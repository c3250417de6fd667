// The IPv6 path allocates nothing per packet: half a million rounds of NAT66 SYN, ACK and reply
// over a table that keeps evicting (4096 clients x 16 ports into 2048 slots), in a child
// running with --trace-gc, trigger no garbage collection once warmed up; also with V8's
// inlining off (test/support/no-gc.ts says why).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { NO_INLINING, runWithoutGc } from '../support/no-gc.js';

const script = fileURLToPath(new URL('./fixtures/hot-loop6.ts', import.meta.url));

for (const flags of [[], NO_INLINING]) {
  t.test(`no GC on the IPv6 path${flags.length ? ` (${flags.join(' ')})` : ''}`, async (t) => {
    const out = runWithoutGc(t, script, flags);
    t.match(out, /evictions [1-9]/, 'the table churned');
    t.match(out, /offered [1-9]\d{5,}/, 'flows were offered to the sync outbox');
  });
}
