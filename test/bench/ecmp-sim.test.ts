// bench/ecmp-sim.ts: the simulation's invariants on a small run (its figures are the bench's).
import fc from 'fast-check';
import t from 'tap';
import { ecmpPick, nextPrime, simulate } from '../../bench/ecmp-sim.js';

t.test('hash-threshold ECMP spreads evenly and picks only live next hops', async (t) => {
  fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 4294967295 }),
    (live, h) => live.includes(ecmpPick(h, live))));
  const counts = new Map<number, number>();
  for (let i = 0; i < 30_000; i++) { const d = ecmpPick(Math.floor((i / 30_000) * 4294967296), [0, 1, 2]); counts.set(d, (counts.get(d) ?? 0) + 1); }
  for (const n of counts.values()) t.ok(Math.abs(n - 10_000) <= 1, `${n} of 30000 per next hop`);
  t.equal(nextPrime(65536), 65537);
});

t.test('per event: sync breaks only what must break, mh no more than a non-consistent scheduler', async (t) => {
  const s = simulate({ directors: 4, servers: 50, flows: 20_000, events: 24, seed: 7 });
  t.ok(s.worstImbalance <= 1, `Maglev balance bound held (max-min ${s.worstImbalance})`);
  t.ok(Object.keys(s.byKind).length >= 3, Object.keys(s.byKind).join(' '));
  for (const ev of s.events) {
    t.equal(ev.broken.sync, ev.minimal, `${ev.kind}: with sync only the removed server's flows break`);
    t.ok(ev.broken.mh >= ev.minimal && ev.broken.mh <= ev.broken.nonconsistent, `${ev.kind}: minimal <= mh <= wlc`);
    if (ev.kind.startsWith('director')) t.equal(ev.tableChanged, 0, `${ev.kind}: tables do not change`);
    else t.equal(ev.moved, 0, `${ev.kind}: ECMP does not move flows`);
    if (ev.kind === 'server-remove') t.ok(ev.tableChanged >= ev.tableMinimal, 'at least the removed server\'s entries change');
  }
});
