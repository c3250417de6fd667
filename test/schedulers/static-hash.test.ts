import fc from 'fast-check';
import t from 'tap';
import { buildDestinationHashTable, buildSourceHashTable, createScheduler, realServerSetFrom } from '../../src/schedulers/index.js';
import { clients, serverSets } from './arbitraries.js';
import { oracleDestinationHash, oracleDestinationTable, oracleSourceHash, oracleSourceTable } from './oracle.js';

const ip = (n: number) => 0xc6120000 + n;

t.test('dh and sh tables equal the oracle tables', async () => {
  fc.assert(
    fc.property(serverSets({ maxServers: 12, maxWeight: 40, flags: true }), (set) => {
      const dh = Array.from(buildDestinationHashTable(set));
      const sh = Array.from(buildSourceHashTable(set));
      return JSON.stringify(dh) === JSON.stringify(oracleDestinationTable(set)) && JSON.stringify(sh) === JSON.stringify(oracleSourceTable(set));
    }),
    { numRuns: 500 },
  );
});

for (const flags of [{}, { shPort: true }, { shFallback: true }, { shPort: true, shFallback: true }]) {
  t.test(`sh ${JSON.stringify(flags)} equals the oracle for any client`, async () => {
    fc.assert(
      fc.property(serverSets({ maxServers: 8, maxWeight: 6, flags: true }), fc.array(clients, { minLength: 1, maxLength: 20 }), (set, cs) => {
        const sh = createScheduler('sh', flags, set);
        return cs.every((c) => sh.schedule(set, c.srcIp, c.srcPort, c.dstIp, c.dstPort) ===
          oracleSourceHash(set, c.srcIp, c.srcPort, flags.shPort === true, flags.shFallback === true));
      }),
      { numRuns: 300 },
    );
  });
}

t.test('dh equals the oracle for any destination', async () => {
  fc.assert(
    fc.property(serverSets({ maxServers: 8, flags: true }), fc.array(clients, { minLength: 1, maxLength: 20 }), (set, cs) => {
      const dh = createScheduler('dh', {}, set);
      return cs.every((c) => dh.schedule(set, c.srcIp, c.srcPort, c.dstIp, c.dstPort) === oracleDestinationHash(set, c.dstIp));
    }),
    { numRuns: 300 },
  );
});

t.test('sh bucket shares equal the weights when they fill the 256 buckets', async (t) => {
  const set = realServerSetFrom([
    { ip: ip(1), port: 80, weight: 64 },
    { ip: ip(2), port: 80, weight: 128 },
    { ip: ip(3), port: 80, weight: 64 },
  ]);
  const table = buildSourceHashTable(set);
  t.same([0, 1, 2].map((i) => table.filter((x) => x === i).length), [64, 128, 64]);
});

t.test('sh keeps a client on one server; sh-port spreads its ports; sh-fallback moves only when needed', async (t) => {
  const set = realServerSetFrom([1, 2, 3, 4].map((n) => ({ ip: ip(n), port: 80, weight: 1 })));
  const sh = createScheduler('sh', {}, set);
  const client = ip(500);
  const first = sh.schedule(set, client, 40000, ip(100), 80);
  for (let p = 40001; p < 40100; p++) t.equal(sh.schedule(set, client, p, ip(100), 80), first);
  const shPort = createScheduler('sh', { shPort: true }, set);
  const seen = new Set<number>();
  for (let p = 40000; p < 40100; p++) seen.add(shPort.schedule(set, client, p, ip(100), 80));
  t.ok(seen.size > 1, 'with sh-port, ports of one client reach several servers');

  // the chosen server becomes unavailable: plain sh gives up, sh-fallback picks another
  set.weight[first] = 0;
  t.equal(sh.schedule(set, client, 40000, ip(100), 80), -1);
  const fallback = createScheduler('sh', { shFallback: true }, set);
  const other = fallback.schedule(set, client, 40000, ip(100), 80);
  t.ok(other >= 0 && other !== first, 'fallback picks a usable server');
  t.equal(fallback.schedule(set, client, 40000, ip(100), 80), other, 'and keeps picking it');
  // clients of other servers do not move
  const pristine = realServerSetFrom([1, 2, 3, 4].map((n) => ({ ip: ip(n), port: 80, weight: 1 })));
  const plain = createScheduler('sh', {}, pristine);
  let kept = 0;
  for (let c = 0; c < 200; c++) {
    const before = plain.schedule(pristine, ip(1000 + c), 1, 0, 0);
    if (before === first) continue;
    t.equal(fallback.schedule(set, ip(1000 + c), 1, 0, 0), before);
    kept++;
  }
  t.ok(kept > 100, `${kept} clients of the other servers checked`);
});

t.test('dh: same destination -> same server; quiesced destination server -> -1', async (t) => {
  const set = realServerSetFrom([1, 2, 3].map((n) => ({ ip: ip(n), port: 80, weight: 1 })));
  const dh = createScheduler('dh', {}, set);
  const chosen = dh.schedule(set, ip(7), 1, ip(200), 80);
  for (let k = 0; k < 50; k++) t.equal(dh.schedule(set, ip(8 + k), 1000 + k, ip(200), 80), chosen);
  set.weight[chosen] = 0;
  t.equal(dh.schedule(set, ip(7), 1, ip(200), 80), -1);
});
