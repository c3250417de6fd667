// fast-check generators for real-server sets (shared by the scheduler tests; not a test itself).

import fc from 'fast-check';
import { realServerSetFrom, type RealServerSet, type RealServerSpec } from '../../src/schedulers/index.js';

export interface SetOptions {
  minServers?: number;
  maxServers?: number;
  maxWeight?: number;
  /** allow available = 0 and overloaded = 1 servers */
  flags?: boolean;
}

/** 198.18.0.0/15 addresses, distinct (ip, port) per server. */
export function serverSpecs(o: SetOptions = {}): fc.Arbitrary<RealServerSpec[]> {
  const spec = fc.record({
    ipLow: fc.integer({ min: 1, max: 0x1ffff }),
    port: fc.constantFrom(80, 443, 8080),
    weight: fc.oneof(fc.integer({ min: 0, max: o.maxWeight ?? 10 }), fc.constant(0)),
    activeConns: fc.integer({ min: 0, max: 40 }),
    inactiveConns: fc.integer({ min: 0, max: 300 }),
    available: o.flags ? fc.oneof(fc.constant(true), fc.constant(true), fc.constant(true), fc.constant(false)) : fc.constant(true),
    overloaded: o.flags ? fc.oneof(fc.constant(false), fc.constant(false), fc.constant(false), fc.constant(true)) : fc.constant(false),
  });
  return fc
    .uniqueArray(spec, { minLength: o.minServers ?? 1, maxLength: o.maxServers ?? 10, selector: (s) => `${s.ipLow}:${s.port}` })
    .map((list) => list.map((s) => ({ ...s, ip: (0xc6120000 + s.ipLow) >>> 0 })));
}

export function serverSets(o: SetOptions = {}): fc.Arbitrary<RealServerSet> {
  return serverSpecs(o).map((specs) => realServerSetFrom(specs));
}

/** A client: source ip/port, destination ip/port. */
export const clients = fc.record({
  srcIp: fc.integer({ min: 0, max: 0xffffffff }),
  srcPort: fc.integer({ min: 1024, max: 65535 }),
  dstIp: fc.integer({ min: 0xc6120000, max: 0xc613ffff }),
  dstPort: fc.constantFrom(80, 443),
});

/** Deterministic [0, 1) generator (mulberry32) for twos. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function cloneSet(set: RealServerSet): RealServerSet {
  return {
    count: set.count, weight: set.weight.slice(), available: set.available.slice(), activeConns: set.activeConns.slice(),
    inactiveConns: set.inactiveConns.slice(), ip: set.ip.slice(), port: set.port.slice(), uthreshold: set.uthreshold.slice(),
    lthreshold: set.lthreshold.slice(), overloaded: set.overloaded.slice(),
  };
}

// ---- the generators' own checks (run only as a tap file) ---------------------------------------

import { pathToFileURL } from 'node:url';

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { default: t } = await import('tap');
  t.test('generated sets: distinct ip:port, lab addresses, counts within bounds', async (t) => {
    fc.assert(
      fc.property(serverSets({ minServers: 2, maxServers: 6, flags: true }), (set) => {
        const keys = new Set<string>();
        for (let i = 0; i < set.count; i++) {
          keys.add(`${set.ip[i]}:${set.port[i]}`);
          if (set.ip[i] >>> 17 !== 0xc612 >>> 1) return false;
        }
        return keys.size === set.count && set.count >= 2 && set.count <= 6;
      }),
    );
    const r1 = seededRandom(7);
    const r2 = seededRandom(7);
    t.same([r1(), r1(), r1()], [r2(), r2(), r2()]);
  });
}
