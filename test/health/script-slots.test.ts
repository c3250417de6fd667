// Check scripts run with bounded concurrency (src/health/script-slots.ts): the slot table never
// grants more than its limit and grants every waiter in the end (property test), and real
// hanging misc_check scripts beyond the limit end as timed-out checks instead of piling up.
import fc from 'fast-check';
import t from 'tap';
import { ScriptSlots, MAX_CONCURRENT_SCRIPTS, scriptSlots } from '../../src/health/script-slots.js';
import { runMiscCheck } from '../../src/health/misc.js';

t.test('slots: never more than the limit at once, every waiter granted', async (t) => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(5), { minLength: 1, maxLength: 60 }), async (limit, holds) => {
    const slots = new ScriptSlots(limit);
    let peak = 0;
    await Promise.all(holds.map(async (ticks) => {
      const release = await slots.acquire();
      peak = Math.max(peak, slots.active);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      release();
      release(); // idempotent
    }));
    return peak <= limit && slots.active === 0 && slots.queued === 0;
  }));
});

t.test('hanging misc_check scripts beyond the limit time out, at most the limit run', async (t) => {
  const count = MAX_CONCURRENT_SCRIPTS + 20;
  let peak = 0;
  const watch = setInterval(() => { peak = Math.max(peak, scriptSlots.active); }, 5);
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: count }, () =>
    runMiscCheck({ ip: '198.18.0.10', port: 80 }, { misc_path: '/bin/sleep 30', misc_timeout: 1 })));
  const tookMs = performance.now() - started;
  clearInterval(watch);
  t.ok(results.every((r) => !r.ok && /timed out/.test(r.reason ?? '')), `all ${count} hanging scripts end as timed-out checks`);
  t.ok(peak <= MAX_CONCURRENT_SCRIPTS, `at most ${MAX_CONCURRENT_SCRIPTS} ran at once (peak ${peak})`);
  t.ok(peak > 0, 'scripts did run');
  // misc_timeout 1 s: the queue waits inside the same second, it does not add one per script.
  t.ok(tookMs < 15_000, `the whole batch ended in ${Math.round(tookMs)} ms`);
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(scriptSlots.active, 0, 'every slot is released once the killed scripts exit');
});
