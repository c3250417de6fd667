// Keyed hash of a connection tuple (murmur3's mixing steps). The seed is random per table so a
// flood of chosen source addresses cannot aim at one probe run.
//
// Inputs go through a scratch Int32Array and the result is 30 bits, so that calling it never
// boxes a number: V8 passes and returns values outside the 31-bit small-integer range as heap
// objects when a call is not inlined, and addresses above 128.0.0.0 are such values.
import { randomBytes } from 'node:crypto';

/** [seed, proto, addrA, portA, addrB, portB]; write, then call hashTupleInput(). */
export const TUPLE_INPUT = new Int32Array(6);

/** One murmur3 round: `k` mixed into the running hash `h` (the tuple hash, IPv6 address keys). */
export function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;   // 30 bits: always a small integer
}

/** Hash of TUPLE_INPUT: (proto, addrA:portA, addrB:portB) under seed; 0 .. 2^30-1. */
export function hashTupleInput(): number {
  const k = TUPLE_INPUT;
  let h = k[0] ^ k[1];
  h = mixWord(h, k[2]);
  h = mixWord(h, k[4]);
  h = mixWord(h, (k[3] << 16) | (k[5] & 0xffff));
  return finish(h ^ 13);
}

/** [seed, a, b] for hashPairInput(). */
export const PAIR_INPUT = new Int32Array(3);

export function hashPairInput(): number {
  const k = PAIR_INPUT;
  return finish(mixWord(mixWord(k[0], k[1]), k[2]) ^ 8);
}

export function randomSeed(): number {
  return randomBytes(4).readInt32LE(0);
}
