import fc from 'fast-check';
import t from 'tap';
import {
  buildMaglevTable, createScheduler, isPrime, MAGLEV_DEFAULT_TABLE_SIZE, MaglevScheduler, realServerSetFrom, type RealServerSpec,
} from '../../src/schedulers/index.js';
import { clients, serverSets, serverSpecs } from './arbitraries.js';
import { oracleMaglevLookup, oracleMaglevTable } from './oracle.js';

const ip = (n: number) => 0xc6120000 + n;
const servers = (n: number, weight = (_i: number) => 1): RealServerSpec[] =>
  Array.from({ length: n }, (_, i) => ({ ip: ip(10 + i), port: 80, weight: weight(i) }));

t.test('the table equals the paper-style oracle (small primes, any weights, with the IPVS shift)', async () => {
  fc.assert(
    fc.property(
      serverSets({ maxServers: 8, maxWeight: 300, flags: true }),
      fc.constantFrom(251, 509, 1021, 2039),
      (set, size) => {
        const weights = Array.from(set.weight);
        const fast = Array.from(buildMaglevTable(set, weights, size));
        return JSON.stringify(fast) === JSON.stringify(oracleMaglevTable(set, weights, size));
      },
    ),
    { numRuns: 300 },
  );
});

for (const flags of [{}, { mhPort: true }, { mhFallback: true }, { mhPort: true, mhFallback: true }]) {
  t.test(`mh ${JSON.stringify(flags)} lookups equal the oracle`, async () => {
    fc.assert(
      fc.property(serverSets({ maxServers: 6, maxWeight: 5, flags: true }), fc.array(clients, { minLength: 1, maxLength: 20 }), (set, cs) => {
        const mh = new MaglevScheduler(set, flags, 1021);
        const table = oracleMaglevTable(set, Array.from(set.weight), 1021);
        return cs.every((c) => mh.schedule(set, c.srcIp, c.srcPort, c.dstIp, c.dstPort) ===
          oracleMaglevLookup(set, table, c.srcIp, c.srcPort, flags.mhPort === true, flags.mhFallback === true));
      }),
      { numRuns: 200 },
    );
  });
}

t.test('default table: 65537 slots, a prime, every slot filled, shares within 1% of weight', async (t) => {
  t.equal(MAGLEV_DEFAULT_TABLE_SIZE, 65537);
  t.ok(isPrime(MAGLEV_DEFAULT_TABLE_SIZE));
  const weights = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5];
  const set = realServerSetFrom(servers(10, (i) => weights[i]));
  const mh = createScheduler('mh', {}, set) as MaglevScheduler;
  const table = mh.lookupTable;
  t.equal(table.length, 65537);
  t.equal(table.indexOf(-1), -1, 'no holes');
  const total = weights.reduce((a, b) => a + b, 0);
  weights.forEach((w, i) => {
    const share = table.filter((x) => x === i).length / table.length;
    t.ok(Math.abs(share - w / total) < 0.01, `server ${i}: share ${share.toFixed(4)} vs ${(w / total).toFixed(4)}`);
  });
});

t.test('slot shares follow weights for any set (property, 4093 slots)', async () => {
  fc.assert(
    fc.property(serverSpecs({ minServers: 1, maxServers: 12, maxWeight: 8 }), (specs) => {
      const set = realServerSetFrom(specs.map((s) => ({ ...s, weight: Math.max(1, s.weight) })));
      const table = buildMaglevTable(set, Array.from(set.weight), 4093);
      if (table.indexOf(-1) !== -1) return false;
      const total = Array.from(set.weight).reduce((a, b) => a + b, 0);
      for (let i = 0; i < set.count; i++) {
        const share = table.filter((x) => x === i).length / 4093;
        if (Math.abs(share - set.weight[i] / total) > 0.02) return false;
      }
      return true;
    }),
    { numRuns: 100 },
  );
});

t.test('removing one of N servers moves about 1/N of the slots', async (t) => {
  for (const n of [3, 5, 10, 20]) {
    const before = realServerSetFrom(servers(n));
    const tableBefore = buildMaglevTable(before, Array.from(before.weight), 65537);
    const removed = n - 2;
    const after = realServerSetFrom(servers(n).map((s, i) => (i === removed ? { ...s, available: false } : s)));
    const tableAfter = buildMaglevTable(after, Array.from(after.weight), 65537);
    let moved = 0;
    let movedFromOthers = 0;
    for (let s = 0; s < 65537; s++) {
      if (tableBefore[s] === tableAfter[s]) continue;
      moved++;
      if (tableBefore[s] !== removed) movedFromOthers++;
    }
    const fraction = moved / 65537;
    t.ok(fraction >= 0.9 / n && fraction <= 1 / n + 0.03, `N=${n}: ${(fraction * 100).toFixed(2)}% moved (1/N = ${(100 / n).toFixed(2)}%)`);
    t.ok(movedFromOthers / 65537 < 0.03, `N=${n}: ${((movedFromOthers / 65537) * 100).toFixed(2)}% moved between surviving servers`);
  }
});

t.test('two directors build identical tables, whatever order they list the servers in', async () => {
  fc.assert(
    fc.property(serverSpecs({ minServers: 1, maxServers: 10, maxWeight: 6 }), fc.integer(), (specs, seed) => {
      const shuffled = [...specs].sort((a, b) => ((a.ip * 31 + a.port + seed) % 97) - ((b.ip * 31 + b.port + seed) % 97));
      const a = realServerSetFrom(specs);
      const b = realServerSetFrom(shuffled);
      const ta = createScheduler('mh', {}, a, { maglevTableSize: 4093 }) as MaglevScheduler;
      const tb = createScheduler('mh', {}, b, { maglevTableSize: 4093 }) as MaglevScheduler;
      // same real server for every slot (indices differ, addresses must not)
      for (let s = 0; s < 4093; s++) {
        const ia = ta.lookupTable[s];
        const ib = tb.lookupTable[s];
        if ((ia < 0) !== (ib < 0)) return false;
        if (ia >= 0 && (a.ip[ia] !== b.ip[ib] || a.port[ia] !== b.port[ib])) return false;
      }
      return true;
    }),
    { numRuns: 100 },
  );
});

t.test('two directors send the same flow to the same real server', async (t) => {
  const d1 = realServerSetFrom(servers(5));
  const d2 = realServerSetFrom(servers(5).reverse());
  const mh1 = createScheduler('mh', { mhPort: true }, d1);
  const mh2 = createScheduler('mh', { mhPort: true }, d2);
  let same = 0;
  for (let k = 0; k < 5000; k++) {
    const src = (0xc6130000 + k * 7919) >>> 0;
    const a = mh1.schedule(d1, src, 1024 + k, ip(100), 80);
    const b = mh2.schedule(d2, src, 1024 + k, ip(100), 80);
    if (d1.ip[a] === d2.ip[b]) same++;
  }
  t.equal(same, 5000);
});

t.test('quiescing keeps the table (IPVS last_weight); fallback moves only that server\'s clients', async (t) => {
  const set = realServerSetFrom(servers(4));
  const mh = createScheduler('mh', {}, set) as MaglevScheduler;
  const fallback = createScheduler('mh', { mhFallback: true }, set) as MaglevScheduler;
  const before = mh.lookupTable.slice();
  set.weight[1] = 0;
  mh.rebuild(set);
  fallback.rebuild(set);
  t.same(mh.lookupTable, before, 'same slots after weight 0');
  t.same(fallback.lookupTable, before);
  let toQuiesced = 0;
  for (let k = 0; k < 3000; k++) {
    const src = (0xc6130000 + k * 104729) >>> 0;
    const plain = mh.schedule(set, src, 0, 0, 0);
    const fb = fallback.schedule(set, src, 0, 0, 0);
    if (plain === -1) {
      toQuiesced++;
      t.ok(fb >= 0 && fb !== 1, 'fallback finds another server');
    } else {
      t.equal(fb, plain, 'clients of other servers stay');
      t.not(plain, 1);
    }
  }
  t.ok(toQuiesced > 400 && toQuiesced < 1100, `${toQuiesced} of 3000 clients were on the quiesced server`);
  // weight back: the same table again
  set.weight[1] = 1;
  mh.rebuild(set);
  t.same(mh.lookupTable, before);
  // a server first seen with weight 0 has no slots (last_weight 0), as in IPVS
  const fresh = createScheduler('mh', {}, realServerSetFrom(servers(4).map((s, i) => (i === 1 ? { ...s, weight: 0 } : s)))) as MaglevScheduler;
  t.equal(fresh.lookupTable.indexOf(1), -1);
});

t.test('a published table can be adopted by a worker; sizes must be prime', async (t) => {
  const set = realServerSetFrom(servers(3));
  const control = createScheduler('mh', {}, set) as MaglevScheduler;
  t.ok(control.lookupTable.buffer instanceof SharedArrayBuffer);
  const worker = createScheduler('mh', {}, set, { maglevTable: control.lookupTable });
  for (let k = 0; k < 100; k++) t.equal(worker.schedule(set, ip(1000 + k), 0, 0, 0), control.schedule(set, ip(1000 + k), 0, 0, 0));
  t.throws(() => createScheduler('mh', {}, set, { maglevTableSize: 65536 }), /not a prime/);
});

t.test('no servers with weight: every lookup is -1, even with fallback', async (t) => {
  const set = realServerSetFrom(servers(3, () => 0));
  const mh = createScheduler('mh', { mhFallback: true }, set) as MaglevScheduler;
  t.equal(mh.lookupTable.indexOf(-1), 0);
  t.equal(mh.schedule(set, ip(5), 1, 0, 0), -1);
});
