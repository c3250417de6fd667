// The IPv4 path allocates nothing per packet: half a million rounds of NAT SYN, ACK and reply
// plus a DR datagram through persistence, over a table that keeps evicting, in a child running
// with --trace-gc, trigger no garbage collection once warmed up.
// Twice: as V8 compiles it by default, and with inlining off. Which calls V8 inlines depends on
// its budget and on timing, so the default run alone passed or failed by luck (before the fix,
// 2 of 6 NAT bench runs collected garbage); with inlining off a hot call site that passes an
// address above 2^31 fails every time (test/support/no-gc.ts).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NO_INLINING, runWithoutGc } from '../support/no-gc.js';

const script = fileURLToPath(new URL('./fixtures/hot-loop4.ts', import.meta.url));
const stepScript = fileURLToPath(new URL('./fixtures/step-alloc.ts', import.meta.url));

for (const flags of [[], NO_INLINING]) {
  t.test(`no GC on the IPv4 path${flags.length ? ` (${flags.join(' ')})` : ''}`, async (t) => {
    const out = runWithoutGc(t, script, flags);
    const m = /forwarded (\d+) new (\d+) flows (\d+) evictions (\d+) offered (\d+)/.exec(out);
    t.ok(m, 'counts printed');
    const [forwarded, fresh, , evictions, offered] = (m ?? []).slice(1).map(Number);
    // 4 frames a round, all forwarded (SYN, ACK, reply, datagram); the table churned.
    t.equal(forwarded, 4 * 500_000, 'every frame forwarded');
    t.ok(fresh > 100_000, `${fresh} new connections scheduled`);
    t.ok(evictions > 0, `${evictions} evictions`);
    t.ok(offered > 100_000, `${offered} sync offers (queued or refused by the full ring)`);
  });
}

// The bench's step (bench/dataplane-step.ts) over each method's established path: DR, NAT, Full
// NAT and TUN (its outer source and the real server's address go to encapsulateTunnel as | 0).
for (const flags of [[], NO_INLINING]) {
  t.test(`no GC in the bench's step, DR/NAT/FNAT/TUN${flags.length ? ` (${flags.join(' ')})` : ''}`, async (t) => {
    const result = spawnSync(process.execPath, [...process.execArgv, ...flags, stepScript, '1500000'], { encoding: 'utf8', timeout: 300_000 });
    t.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { label: string; gcs: number; packets: number; attempts: number });
    t.same(lines.map((l) => l.label), ['DR', 'NAT', 'FNAT', 'TUN'], 'every method measured');
    for (const l of lines) t.equal(l.gcs, 0, `${l.label}: no collection across ${l.packets} packets (run ${l.attempts} of at most 3)`);
  });
}
