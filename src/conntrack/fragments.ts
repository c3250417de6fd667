// Which connection the later fragments of a datagram belong to. The first fragment carries the
// ports: the dataplane looks its connection up (or schedules one) as for any packet, then
// remembers (source, destination, IP ID, protocol) -> flow here; fragments with an offset
// carry no ports and follow that entry. One table class serves both families, by key width:
// IPv4's key is 3 words (FRAGMENT_KEY_WORDS4), IPv6's 10 (128-bit addresses, the 32-bit
// identification, direction and next header: FRAGMENT_KEY_WORDS6). This is neither IPVS (which reassembles
// before it looks: a copy of every datagram and the kernel's 4 MiB of fragment memory) nor
// Katran/GLB (which hash fragments on L3 only and so give up per-port scheduling and
// persistence for them): a director that forwards packets in place keeps IPVS's per-connection
// choice at the cost of one small entry per datagram in flight.
//
// Bounded in memory (a fixed number of slots, typed arrays, no allocation after construction)
// and in time (an entry lives FRAGMENT_TIMEOUT seconds; a datagram seen whole frees it at once).
// Lookups probe a fixed number of slots, so a flood costs a bounded amount per packet and, once
// the table is full, new datagrams' later fragments are dropped (counted), never misrouted.
// A fragment that comes before its first fragment finds no entry and is dropped (counted): to
// hold it, the batch API would need frames to send later, and Linux senders emit fragments in
// order, so reordering is rare and costs the datagram (the sender's protocol retries).
//
// Forged fragments are refused within the same bounds: more than MAX_FRAGMENTS for one
// datagram, a datagram past 65,535 bytes, or bytes beyond what the last fragment said the
// datagram holds (an overlap or a duplicate), each its own verdict for the caller to count.

/** Seconds an entry waits for the rest of its datagram (Linux's ipfrag_time is 30 s; fragments of one datagram come within milliseconds). */
export const FRAGMENT_TIMEOUT = 5;
/** Slots probed per lookup or insert. */
export const FRAGMENT_PROBES = 8;
/** Fragments accepted for one datagram (64 KiB in 1,000-byte fragments fits). */
export const MAX_FRAGMENTS = 64;
const MAX_DATAGRAM = 65535;

export const FragmentVerdict = { OK: 0, COMPLETE: 1, OVERLAP: 2, TOO_MANY: 3, TOO_LARGE: 4 } as const;
export type FragmentVerdict = (typeof FragmentVerdict)[keyof typeof FragmentVerdict];

/** Key words: IPv4 [src, dst, direction | IP ID << 8 | protocol]. */
export const FRAGMENT_KEY_WORDS4 = 3;
/** Key words: IPv6 [src 4 words, dst 4 words, identification, direction | next header]. */
export const FRAGMENT_KEY_WORDS6 = 10;

export interface FragmentTableOptions {
  capacity?: number;
  /** Words of a key (FRAGMENT_KEY_WORDS4, the default, or FRAGMENT_KEY_WORDS6). */
  keyWords?: number;
}

export class FragmentTable {
  readonly capacity: number;
  readonly keyWords: number;
  private readonly mask: number;
  /** Each slot's key, keyWords words from slot * keyWords (one array: IPv4 stays 12 bytes a slot). */
  private readonly keys: Uint32Array;
  /** Second at which the entry lapses; 0 = free. */
  private readonly expires: Uint32Array;
  private readonly flows: Int32Array;
  private readonly seen: Uint16Array;
  /** Payload bytes (after the IP header) forwarded so far. */
  private readonly covered: Uint32Array;
  /** Datagram payload length, known once its last fragment (MF clear) came; 0 before. */
  private readonly end: Uint32Array;
  /** Scratch key (keyWords words): addresses passed as arguments would be boxed by V8. */
  readonly key: Uint32Array;

  constructor(opts: FragmentTableOptions = {}) {
    let size = 16;
    while (size < (opts.capacity ?? 4096)) size <<= 1;
    const words = opts.keyWords ?? FRAGMENT_KEY_WORDS4;
    if (words < FRAGMENT_KEY_WORDS4) throw new RangeError(`a fragment key has at least ${FRAGMENT_KEY_WORDS4} words, not ${words}`);
    this.capacity = size;
    this.keyWords = words;
    this.mask = size - 1;
    this.keys = new Uint32Array(size * words);
    this.key = new Uint32Array(words);
    this.expires = new Uint32Array(size);
    this.flows = new Int32Array(size);
    this.seen = new Uint16Array(size);
    this.covered = new Uint32Array(size);
    this.end = new Uint32Array(size);
  }

  /** Bytes the table holds, whatever the traffic: the bound the issue asks for. */
  get byteLength(): number {
    return this.keys.byteLength + this.expires.byteLength +
      this.flows.byteLength + this.seen.byteLength + this.covered.byteLength + this.end.byteLength + this.key.byteLength;
  }

  /** Entries alive at `now` (control path and tests: walks the table). */
  liveCount(now: number): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) if (this.expires[i] > now) n++;
    return n;
  }

  private home(): number {
    const k = this.key;
    let h = k[0] ^ Math.imul(k[1], 0x85ebca6b) ^ Math.imul(k[2], 0xc2b2ae35);
    // IPv6's further words (none for IPv4): each mixed in before the next.
    for (let w = FRAGMENT_KEY_WORDS4; w < this.keyWords; w++) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ k[w];
    return (Math.imul(h, 0x9e3779b1) >>> 12) & this.mask;
  }

  /** Whether slot `i` holds `key` (IPv4's three words compared first: its loop never runs). */
  private holds(i: number): boolean {
    const k = this.key, keys = this.keys, words = this.keyWords, at = i * words;
    if (keys[at] !== k[0] || keys[at + 1] !== k[1] || keys[at + 2] !== k[2]) return false;
    for (let w = FRAGMENT_KEY_WORDS4; w < words; w++) if (keys[at + w] !== k[w]) return false;
    return true;
  }

  /** Slot of the live entry for `key`, or -1. */
  find(now: number): number {
    let i = this.home();
    for (let n = 0; n < FRAGMENT_PROBES; n++, i = (i + 1) & this.mask) {
      if (this.expires[i] > now && this.holds(i)) return i;
    }
    return -1;
  }

  /**
   * The first fragment of the datagram `key` went to `flow`, carrying `length` payload bytes.
   * Returns the slot, or -1 when every probed slot holds a live entry of another datagram.
   */
  insert(flow: number, length: number, now: number): number {
    let i = this.home();
    let free = -1;
    for (let n = 0; n < FRAGMENT_PROBES; n++, i = (i + 1) & this.mask) {
      const live = this.expires[i] > now;
      if (live && this.holds(i)) { free = i; break; }
      if (!live && free < 0) free = i;
    }
    if (free < 0) return -1;
    this.keys.set(this.key, free * this.keyWords);
    this.expires[free] = now + FRAGMENT_TIMEOUT;
    this.flows[free] = flow;
    this.seen[free] = 1;
    this.covered[free] = length;
    this.end[free] = 0;
    return free;
  }

  flow(slot: number): number {
    return this.flows[slot];
  }

  /**
   * A later fragment of the slot's datagram: `offset` and `length` in payload bytes, `more` its
   * MF flag. OK: forward it; COMPLETE: forward it, the datagram is whole and the slot is freed;
   * anything else: drop it (the entry stays, so the datagram's other fragments still follow).
   */
  account(slot: number, offset: number, length: number, more: boolean): FragmentVerdict {
    const last = offset + length;
    if (last > MAX_DATAGRAM) return FragmentVerdict.TOO_LARGE;
    if (this.seen[slot] >= MAX_FRAGMENTS) return FragmentVerdict.TOO_MANY;
    const end = this.end[slot];
    if (!more) {
      // A second last fragment: a repeat or a forgery.
      if (end !== 0) return FragmentVerdict.OVERLAP;
      this.end[slot] = last;
    } else if (end !== 0 && last > end) {
      return FragmentVerdict.OVERLAP;
    }
    const covered = this.covered[slot] + length;
    const known = this.end[slot];
    // More bytes than the datagram holds: some fragment overlapped or repeated another.
    if (covered > (known !== 0 ? known : MAX_DATAGRAM)) return FragmentVerdict.OVERLAP;
    this.covered[slot] = covered;
    this.seen[slot]++;
    if (known !== 0 && covered === known) {
      this.expires[slot] = 0;
      return FragmentVerdict.COMPLETE;
    }
    return FragmentVerdict.OK;
  }
}
