// The hash functions IPVS's schedulers use, bit for bit, without allocation.

const GOLDEN_RATIO_32 = 0x61c88647;

/** Linux hash_32(val, bits): multiplicative hash, top `bits` bits. */
export function hash32(value: number, bits: number): number {
  return Math.imul(value, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** ip_vs_dh/lblc hashkey: Knuth's multiplicative hash of the address, low bits (mask = size - 1). */
export function knuthHash(addr: number, mask: number): number {
  return Math.imul(addr, 2654435761 | 0) & mask;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * Linux hsiphash(&v, 4, key) on 64-bit kernels, which is SipHash-1-3 over one u32 returning the
 * low 32 bits (lib/siphash.c). Keys are two 64-bit words, each given as (hi, lo) uint32 halves.
 * 64-bit lanes are kept as pairs of uint32 in locals so that nothing is allocated.
 */
export function hsiphash32(value: number, k0hi: number, k0lo: number, k1hi: number, k1lo: number): number {
  // v0..v3 = "somepseudorandomlygeneratedbytes" ^ key
  let v0h = (0x736f6d65 ^ k0hi) >>> 0, v0l = (0x70736575 ^ k0lo) >>> 0;
  let v1h = (0x646f7261 ^ k1hi) >>> 0, v1l = (0x6e646f6d ^ k1lo) >>> 0;
  let v2h = (0x6c796765 ^ k0hi) >>> 0, v2l = (0x6e657261 ^ k0lo) >>> 0;
  let v3h = (0x74656462 ^ k1hi) >>> 0, v3l = (0x79746573 ^ k1lo) >>> 0;
  // b = len << 56 | value
  const bh = 0x04000000, bl = value >>> 0;
  v3h = (v3h ^ bh) >>> 0; v3l = (v3l ^ bl) >>> 0;
  let th: number, tl: number;
  for (let round = 0; round < 4; round++) {
    // v0 += v1; v1 = rol(v1, 13); v1 ^= v0; v0 = rol(v0, 32)
    tl = (v0l + v1l) >>> 0; v0h = (v0h + v1h + (tl < v0l ? 1 : 0)) >>> 0; v0l = tl;
    th = ((v1h << 13) | (v1l >>> 19)) >>> 0; tl = ((v1l << 13) | (v1h >>> 19)) >>> 0;
    v1h = (th ^ v0h) >>> 0; v1l = (tl ^ v0l) >>> 0;
    th = v0h; v0h = v0l; v0l = th;
    // v2 += v3; v3 = rol(v3, 16); v3 ^= v2
    tl = (v2l + v3l) >>> 0; v2h = (v2h + v3h + (tl < v2l ? 1 : 0)) >>> 0; v2l = tl;
    th = ((v3h << 16) | (v3l >>> 16)) >>> 0; tl = ((v3l << 16) | (v3h >>> 16)) >>> 0;
    v3h = (th ^ v2h) >>> 0; v3l = (tl ^ v2l) >>> 0;
    // v0 += v3; v3 = rol(v3, 21); v3 ^= v0
    tl = (v0l + v3l) >>> 0; v0h = (v0h + v3h + (tl < v0l ? 1 : 0)) >>> 0; v0l = tl;
    th = ((v3h << 21) | (v3l >>> 11)) >>> 0; tl = ((v3l << 21) | (v3h >>> 11)) >>> 0;
    v3h = (th ^ v0h) >>> 0; v3l = (tl ^ v0l) >>> 0;
    // v2 += v1; v1 = rol(v1, 17); v1 ^= v2; v2 = rol(v2, 32)
    tl = (v2l + v1l) >>> 0; v2h = (v2h + v1h + (tl < v2l ? 1 : 0)) >>> 0; v2l = tl;
    th = ((v1h << 17) | (v1l >>> 15)) >>> 0; tl = ((v1l << 17) | (v1h >>> 15)) >>> 0;
    v1h = (th ^ v2h) >>> 0; v1l = (tl ^ v2l) >>> 0;
    th = v2h; v2h = v2l; v2l = th;
    if (round === 0) {
      // one compression round done: finalise (v0 ^= b; v2 ^= 0xff) then three more rounds
      v0h = (v0h ^ bh) >>> 0; v0l = (v0l ^ bl) >>> 0;
      v2l = (v2l ^ 0xff) >>> 0;
    }
  }
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/** ip_vs_mh.c's fixed keys (generate_hash_secret): the same on every director, by design. */
export const MH_KEY1 = 2654435761;
export const MH_KEY2 = 2654446892;

/** ip_vs_mh_hashkey: hsiphash of (offset + port + addr) as a u32 under key (k, k). */
export function maglevHash(addr: number, port: number, key: number, offset: number): number {
  return hsiphash32((offset + port + addr) >>> 0, 0, key, 0, key);
}

/**
 * How every IPVS hashing scheduler (sh, dh, lblc, lblcr, mh) and its service/real-server tables
 * see an IPv6 address: the four 32-bit words XORed into one (`addr->ip6[0]^...^ip6[3]`, then
 * ntohl), which then goes through the IPv4 hash unchanged. Words are big-endian as on the wire.
 */
export function foldIpv6(w0: number, w1: number, w2: number, w3: number): number {
  return (w0 ^ w1 ^ w2 ^ w3) >>> 0;
}
