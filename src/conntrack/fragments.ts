// Which connection the later fragments of an IPv4 datagram belong to. The first fragment
// carries the ports: the dataplane looks its connection up (or schedules one) as for any
// packet, then remembers (source, destination, IP ID, protocol) -> flow here; fragments with
// an offset carry no ports and follow that entry. This is neither IPVS (which reassembles
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

export interface FragmentTableOptions { capacity?: number }

export class FragmentTable {
  readonly capacity: number;
  private readonly mask: number;
  private readonly src: Uint32Array;
  private readonly dst: Uint32Array;
  /** IP ID << 8 | protocol. */
  private readonly idProto: Uint32Array;
  /** Second at which the entry lapses; 0 = free. */
  private readonly expires: Uint32Array;
  private readonly flows: Int32Array;
  private readonly seen: Uint16Array;
  /** Payload bytes (after the IP header) forwarded so far. */
  private readonly covered: Uint32Array;
  /** Datagram payload length, known once its last fragment (MF clear) came; 0 before. */
  private readonly end: Uint32Array;
  /** Scratch key [src, dst, idProto]: addresses passed as arguments would be boxed by V8. */
  readonly key = new Uint32Array(3);

  constructor(opts: FragmentTableOptions = {}) {
    let size = 16;
    while (size < (opts.capacity ?? 4096)) size <<= 1;
    this.capacity = size;
    this.mask = size - 1;
    this.src = new Uint32Array(size);
    this.dst = new Uint32Array(size);
    this.idProto = new Uint32Array(size);
    this.expires = new Uint32Array(size);
    this.flows = new Int32Array(size);
    this.seen = new Uint16Array(size);
    this.covered = new Uint32Array(size);
    this.end = new Uint32Array(size);
  }

  /** Bytes the table holds, whatever the traffic: the bound the issue asks for. */
  get byteLength(): number {
    return this.src.byteLength + this.dst.byteLength + this.idProto.byteLength + this.expires.byteLength +
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
    return (Math.imul(k[0] ^ Math.imul(k[1], 0x85ebca6b) ^ Math.imul(k[2], 0xc2b2ae35), 0x9e3779b1) >>> 12) & this.mask;
  }

  /** Slot of the live entry for `key`, or -1. */
  find(now: number): number {
    const k = this.key;
    let i = this.home();
    for (let n = 0; n < FRAGMENT_PROBES; n++, i = (i + 1) & this.mask) {
      if (this.expires[i] > now && this.src[i] === k[0] && this.dst[i] === k[1] && this.idProto[i] === k[2]) return i;
    }
    return -1;
  }

  /**
   * The first fragment of the datagram `key` went to `flow`, carrying `length` payload bytes.
   * Returns the slot, or -1 when every probed slot holds a live entry of another datagram.
   */
  insert(flow: number, length: number, now: number): number {
    const k = this.key;
    let i = this.home();
    let free = -1;
    for (let n = 0; n < FRAGMENT_PROBES; n++, i = (i + 1) & this.mask) {
      const live = this.expires[i] > now;
      if (live && this.src[i] === k[0] && this.dst[i] === k[1] && this.idProto[i] === k[2]) { free = i; break; }
      if (!live && free < 0) free = i;
    }
    if (free < 0) return -1;
    this.src[free] = k[0];
    this.dst[free] = k[1];
    this.idProto[free] = k[2];
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
