// IPv6 addresses interned as small integer handles, so that the IPv6 connection table is a
// second FlowTable whose address words (client, VIP, real server) hold handles: the same
// records, states, timeouts, eviction and NAT reply index as IPv4, and IPv4 records keep their
// 32 bytes. A handle is counted: each flow holding a client address holds one reference
// (FlowTable.addresses releases it when the flow is freed); VIPs and real servers are pinned
// by the control path for the life of the worker (bounded by the config's addresses).
//
// Per address: 16 bytes of words, a 4-byte count, a 4-byte free-list link and ~8 bytes of
// index (load <= 0.5): 32 bytes per distinct client. Lookups read the 16 bytes straight from
// frame memory (no allocation, no boxing: words stay in locals, the handle is a small integer).
import { mixWord, randomSeed } from './hash.js';

/** Handles are < 2^24 so they fit the flow record's words and stay small integers. */
export const MAX_IPV6_ADDRESSES = 1 << 24;

export class Ipv6Addresses {
  readonly capacity: number;
  /** 4 big-endian words per handle (as int32: compared with the scratch key without conversion). */
  private readonly words: Int32Array;
  /** References per handle; 0 = free. */
  private readonly refs: Uint32Array;
  /** Open addressing: handle + 1, 0 = empty. Backward-shift deletion, no tombstones. */
  private readonly index: Uint32Array;
  private readonly mask: number;
  private readonly nextFree: Int32Array;
  private freeHead = 0;
  private readonly seed: number;
  size = 0;

  constructor(capacity: number, seed: number = randomSeed()) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_IPV6_ADDRESSES) {
      throw new RangeError(`IPv6 address table capacity must be a whole number 1..${MAX_IPV6_ADDRESSES}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.words = new Int32Array(capacity * 4);
    this.refs = new Uint32Array(capacity);
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.index = new Uint32Array(size);
    this.mask = size - 1;
    this.nextFree = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.nextFree[i] = i + 1 < capacity ? i + 1 : -1;
    this.seed = seed | 0;
  }

  byteLength(): number {
    return this.words.byteLength + this.refs.byteLength + this.index.byteLength + this.nextFree.byteLength;
  }

  /**
   * Scratch key the lookups read: words go through it (as FlowTable's tuple) because numbers
   * outside the small-integer range passed to a function V8 did not inline are boxed.
   */
  private readonly key = new Int32Array(4);

  /** Handle of the 16 bytes at dv[at..at+16), or -1 when not held. */
  findAt(dv: DataView, at: number): number {
    const k = this.key;
    k[0] = dv.getInt32(at); k[1] = dv.getInt32(at + 4); k[2] = dv.getInt32(at + 8); k[3] = dv.getInt32(at + 12);
    return this.findKey();
  }

  /** Handle of the address at dv[at..), taking a reference (a new handle when unknown); -1 when full. */
  internAt(dv: DataView, at: number): number {
    const k = this.key;
    k[0] = dv.getInt32(at); k[1] = dv.getInt32(at + 4); k[2] = dv.getInt32(at + 8); k[3] = dv.getInt32(at + 12);
    return this.internKey();
  }

  /** Control path: intern 16 bytes. */
  internBytes(bytes: Uint8Array): number {
    return this.internAt(new DataView(bytes.buffer, bytes.byteOffset, 16), 0);
  }

  private findKey(): number {
    const w = this.words, index = this.index, mask = this.mask, k = this.key;
    const k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3];
    for (let i = this.hashKey() & mask; ; i = (i + 1) & mask) {
      const e = index[i];
      if (e === 0) return -1;
      const b = (e - 1) * 4;
      if (w[b] === k0 && w[b + 1] === k1 && w[b + 2] === k2 && w[b + 3] === k3) return e - 1;
    }
  }

  private internKey(): number {
    const found = this.findKey();
    if (found >= 0) {
      this.refs[found]++;
      return found;
    }
    const h = this.freeHead;
    if (h < 0) return -1;
    this.freeHead = this.nextFree[h];
    const b = h * 4, w = this.words, k = this.key;
    w[b] = k[0]; w[b + 1] = k[1]; w[b + 2] = k[2]; w[b + 3] = k[3];
    this.refs[h] = 1;
    const index = this.index, mask = this.mask;
    let i = this.hashKey() & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = h + 1;
    this.size++;
    return h;
  }

  retain(handle: number): void {
    this.refs[handle]++;
  }

  /** Drop one reference; the last one frees the handle. */
  release(handle: number): void {
    if (this.refs[handle] === 0) return;
    if (--this.refs[handle] !== 0) return;
    this.remove(handle);
    this.nextFree[handle] = this.freeHead;
    this.freeHead = handle;
    this.size--;
  }

  references(handle: number): number {
    return this.refs[handle];
  }

  /** Word i (0..3, big-endian) of a held handle. */
  word(handle: number, i: number): number {
    return this.words[handle * 4 + i] >>> 0;
  }

  /**
   * A held handle's four words into to[at..at+4): the hot path's way (sync offers). word()
   * returns a uint32 that V8 boxes when the call is not inlined; copied, it never is.
   */
  copyWords(handle: number, to: Uint32Array, at: number): void {
    const w = this.words, b = handle * 4;
    for (let i = 0; i < 4; i++) to[at + i] = w[b + i];
  }

  /** Write a held handle's 16 bytes at u8[at..). */
  writeTo(handle: number, u8: Uint8Array, at: number): void {
    const w = this.words, b = handle * 4;
    for (let i = 0; i < 4; i++) {
      const v = w[b + i];
      u8[at + i * 4] = v >>> 24; u8[at + i * 4 + 1] = (v >>> 16) & 0xff;
      u8[at + i * 4 + 2] = (v >>> 8) & 0xff; u8[at + i * 4 + 3] = v & 0xff;
    }
  }

  /** The four words XORed (IPVS's IPv6 fold for the hashing schedulers; schedulers/hash.ts foldIpv6). */
  fold(handle: number): number {
    const w = this.words, b = handle * 4;
    return (w[b] ^ w[b + 1] ^ w[b + 2] ^ w[b + 3]) >>> 0;
  }

  /** Control path: the 16 bytes of a held handle. Allocates. */
  bytesOf(handle: number): Uint8Array {
    const out = new Uint8Array(16);
    this.writeTo(handle, out, 0);
    return out;
  }

  private hashKey(): number {
    const k = this.key;
    let h = mixWord(mixWord(mixWord(mixWord(this.seed, k[0]), k[1]), k[2]), k[3]) ^ 16;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 2;
  }

  private homeOf(h: number): number {
    const w = this.words, k = this.key;
    k[0] = w[h * 4]; k[1] = w[h * 4 + 1]; k[2] = w[h * 4 + 2]; k[3] = w[h * 4 + 3];
    return this.hashKey() & this.mask;
  }

  private remove(handle: number): void {
    const index = this.index, mask = this.mask;
    let hole = this.homeOf(handle);
    while (index[hole] !== handle + 1) {
      if (index[hole] === 0) return;
      hole = (hole + 1) & mask;
    }
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const home = this.homeOf(index[j] - 1);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = index[j];
        hole = j;
      }
    }
    index[hole] = 0;
  }
}
