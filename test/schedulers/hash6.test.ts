// IPv6 in the hashing schedulers: IPVS folds the address to 32 bits (ip6[0]^ip6[1]^ip6[2]^ip6[3]
// on network-order words, then ntohl) before the IPv4 hash. The oracle below does exactly that
// on the bytes, the way the C code reads memory, against foldIpv6 over ParsedIpv6-style words.
import t from 'tap';
import fc from 'fast-check';
import { foldIpv6 } from '../../src/schedulers/hash.js';
import { ipv6Words, parseIpv6 } from '../../src/packet/addr6.js';

/** ntohl(be32[0] ^ be32[1] ^ be32[2] ^ be32[3]) computed bytewise. */
function cFold(bytes: Uint8Array): number {
  const x = [0, 1, 2, 3].map((k) => bytes[k] ^ bytes[4 + k] ^ bytes[8 + k] ^ bytes[12 + k]);
  return ((x[0] << 24) | (x[1] << 16) | (x[2] << 8) | x[3]) >>> 0;
}

t.test('foldIpv6 equals the kernel fold (property)', async () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
    const [a, b, c, d] = ipv6Words(bytes);
    return foldIpv6(a, b, c, d) === cFold(bytes);
  }), { numRuns: 5000 });
});

t.test('fixtures', async (t) => {
  const fold = (s: string): number => { const [a, b, c, d] = ipv6Words(parseIpv6(s)); return foldIpv6(a, b, c, d); };
  t.equal(fold('2001:2::1'), 0x20010003, '2001:0002 ^ 0 ^ 0 ^ 0000:0001');
  t.equal(fold('::198.18.0.1'), 0xc6120001, 'an IPv4-compatible address folds to the IPv4 value');
  t.equal(fold('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 0, 'pairs cancel');
});
