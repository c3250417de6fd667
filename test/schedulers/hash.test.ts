import fc from 'fast-check';
import t from 'tap';
import { gcd, hash32, hsiphash32, knuthHash, maglevHash, MH_KEY1, MH_KEY2 } from '../../src/schedulers/hash.js';
import { oracleHash32, oracleHsiphash, oracleKnuth } from './oracle.js';

// hsiphash(&v, 4, key) with IPVS mh's keys, computed by a C program using lib/siphash.c's macros
// (the same program reproduces the kernel's self-test vector 0x88d38328).
const MH_VECTORS: Array<[number, number, number]> = [
  [0x00000000, 0x1d5a77c2, 0xf882433f],
  [0x00000001, 0x16ec66b2, 0x8210aad1],
  [0x00000050, 0x060b3a06, 0x2956c0e5],
  [0xc6120001, 0xe00db0de, 0x80b62a1e],
  [0xc612005a, 0x1b556474, 0xc01a9b40],
  [0xffffffff, 0x22c5d719, 0xf75a0f5d],
  [0x00bc614e, 0x277d37a1, 0x682f0178],
  [0xc6120064, 0xda976713, 0x5f9f0398],
];

t.test('hsiphash32 matches the kernel self-test vector', async (t) => {
  t.equal(hsiphash32(0x03020100, 0x07060504, 0x03020100, 0x0f0e0d0c, 0x0b0a0908), 0x88d38328);
});

t.test('maglevHash matches the C reference with IPVS mh keys', async (t) => {
  for (const [value, h1, h2] of MH_VECTORS) {
    t.equal(maglevHash(value, 0, MH_KEY1, 0), h1, `key1 ${value.toString(16)}`);
    t.equal(maglevHash(value, 0, MH_KEY2, 0), h2, `key2 ${value.toString(16)}`);
  }
  // addr + port + offset are summed as a u32 before hashing, as ip_vs_mh_hashkey does
  t.equal(maglevHash(0xc612000a, 80, MH_KEY1, 0), MH_VECTORS[4][1]);
});

t.test('hsiphash32 equals the BigInt SipHash-1-3 for any value and key', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v, k0, k1) => {
      const hi = (k: bigint) => Number(k >> 32n);
      const lo = (k: bigint) => Number(k & 0xffffffffn);
      return hsiphash32(v, hi(k0), lo(k0), hi(k1), lo(k1)) === oracleHsiphash(v, k0, k1);
    }),
    { numRuns: 2000 },
  );
});

t.test('hash32 and the Knuth hash equal their BigInt definitions', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 16 }), (v, bits) =>
      hash32(v, bits) === oracleHash32(v, bits) && knuthHash(v, (1 << bits) - 1) === oracleKnuth(v, bits)),
    { numRuns: 2000 },
  );
});

t.test('gcd', async (t) => {
  t.equal(gcd(12, 18), 6);
  t.equal(gcd(7, 3), 1);
  t.equal(gcd(5, 0), 5);
});
