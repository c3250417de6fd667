// Next-hop look-ups are bounded and shared (src/control/neighbours.ts): with hundreds of
// services the director once ran 217 `ip` children at once. Real `ip` against the kernel's own
// routes (127/8 is local: one read-only `ip route get` each, nothing is changed).
import pino from 'pino';
import t from 'tap';
import { MAX_CONCURRENT_LOOKUPS, NextHopCache, lookupSlots } from '../../src/control/neighbours.js';
import { Slots } from '../../src/os/slots.js';

const log = pino({ level: 'silent' });

t.test('Slots.run: at most the limit at once, released when the work throws', async (t) => {
  const slots = new Slots(3);
  let peak = 0;
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => slots.run(async () => {
    peak = Math.max(peak, slots.active);
    await new Promise((r) => setTimeout(r, 2));
    if (i % 4 === 0) throw new Error('boom');
    return i;
  })));
  t.equal(peak, 3, 'three ran at once, never more');
  t.equal(results.filter((r) => r.status === 'rejected').length, 5, 'failures reach the caller');
  t.equal(slots.active, 0, 'every slot released');
  t.equal(slots.granted, 20, 'each run took one slot');
});

t.test(`200 addresses: at most ${MAX_CONCURRENT_LOOKUPS} ip look-ups at once`, async (t) => {
  const cache = new NextHopCache(log);
  const ips = Array.from({ length: 200 }, (_, i) => `127.0.${i >> 8}.${(i & 255) + 1}`);
  let peak = 0;
  const watch = setInterval(() => { peak = Math.max(peak, lookupSlots.active); }, 1);
  const started = lookupSlots.granted;
  try {
    await cache.refresh(ips, 2000);
  } finally {
    clearInterval(watch);
  }
  t.ok(peak >= 1 && peak <= MAX_CONCURRENT_LOOKUPS, `peak ${peak} look-ups at once (bound ${MAX_CONCURRENT_LOOKUPS})`);
  t.equal(lookupSlots.granted - started, ips.length, 'one ip route get per address');
  t.ok(ips.every((ip) => cache.isLocal(ip)), 'every one found local');
  t.equal(lookupSlots.active + lookupSlots.queued, 0, 'nothing left running or queued');
});

t.test('one address asked for 50 times at once: one look-up', async (t) => {
  const cache = new NextHopCache(log);
  const started = lookupSlots.granted;
  const changed = await Promise.all(Array.from({ length: 50 }, () => cache.refresh(['127.0.0.7'], 2000)));
  t.equal(lookupSlots.granted - started, 1, 'the 50 shared one ip route get');
  t.ok(changed.every((c) => c), 'each caller learned of the change');
  t.equal(await cache.refresh(['127.0.0.7'], 2000), false, 'a later refresh runs again and finds nothing new');
  t.equal(lookupSlots.granted - started, 2, 'and took its own look-up');
});
