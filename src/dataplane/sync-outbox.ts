/**
 * The dataplane's outbox for connection sync: a single-producer (the worker), single-consumer
 * (the main thread) ring of fixed records over a SharedArrayBuffer. The worker copies a flow's
 * fields into the ring with no allocation and no native call; the main thread drains it on a
 * timer, encodes IPVS sync messages and sends them. A full ring drops the record and counts it:
 * the flow is offered again at its next state change or refresh, so nothing waits on the
 * control plane.
 */

/** Words (uint32) per record. */
export const OUTBOX_RECORD_WORDS = 8;
/** Records the ring holds by default: 20 ms of 10,000 new connections a second, times 25. */
export const OUTBOX_DEFAULT_CAPACITY = 1 << 13;

const H_HEAD = 0;      // next slot the producer writes (only the producer stores it)
const H_TAIL = 1;      // next slot the consumer reads (only the consumer stores it)
const H_OVERFLOW = 2;  // records dropped because the ring was full (producer)
const HEADER_WORDS = 4;

/** What a record describes. */
export const OUTBOX_CONNECTION = 1;
export const OUTBOX_TEMPLATE = 2;
/** In the ring only: an IPv6 connection or template, over OUTBOX6_SLOTS slots (sync-outbox6.ts). */
export const RING_CONNECTION6 = 3;
export const RING_TEMPLATE6 = 4;
/** Slots one IPv6 record takes: three 16-byte addresses do not fit one 8-word slot. */
export const OUTBOX6_SLOTS = 3;

/** One record as the main thread sees it (control path: allocation is fine there). */
export interface OutboxRecord {
  kind: number;
  proto: number;
  /** IPVS/ulvs TCP state number (the numbering is the same); 0 for UDP and templates. */
  state: number;
  clientIp: number; clientPort: number;
  vip: number; vport: number;
  rsIp: number; rsPort: number;
  rsId: number;
  service: number;
  /** Seconds the entry has left. */
  timeout: number;
  /** Absent: IPv4 (OutboxRecord6 says 6). */
  family?: 4;
}

/** An IPv6 connection or template as the main thread sees it: the same fields, 16-byte addresses. */
export interface OutboxRecord6 extends Omit<OutboxRecord, 'clientIp' | 'vip' | 'rsIp' | 'family'> {
  family: 6;
  clientIp: Uint8Array; vip: Uint8Array; rsIp: Uint8Array;
}

export class SyncOutbox {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly words: Uint32Array;
  private readonly mask: number;
  /** Scratch the producer fills before push(): addresses above 2^30 passed as arguments would be boxed. */
  readonly scratch = new Uint32Array(OUTBOX_RECORD_WORDS);
  /** The IPv6 producer's scratch (layout: sync-outbox6.ts), appended by push6(). */
  readonly scratch6 = new Uint32Array(OUTBOX6_SLOTS * OUTBOX_RECORD_WORDS);

  /** A new ring (`capacity` a power of two), or a view on one made elsewhere (`buffer`). */
  constructor(capacityOrBuffer: number | SharedArrayBuffer = OUTBOX_DEFAULT_CAPACITY) {
    if (typeof capacityOrBuffer === 'number') {
      const capacity = capacityOrBuffer;
      if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0) {
        throw new RangeError(`outbox capacity must be a power of two >= 2, got ${capacity}`);
      }
      this.buffer = new SharedArrayBuffer((HEADER_WORDS + capacity * OUTBOX_RECORD_WORDS) * 4);
    } else {
      this.buffer = capacityOrBuffer;
    }
    this.header = new Int32Array(this.buffer, 0, HEADER_WORDS);
    this.words = new Uint32Array(this.buffer, HEADER_WORDS * 4);
    this.mask = this.words.length / OUTBOX_RECORD_WORDS - 1;
  }

  get capacity(): number { return this.mask + 1; }
  get overflows(): number { return Atomics.load(this.header, H_OVERFLOW); }
  /** Records waiting to be drained. */
  get pending(): number { return (Atomics.load(this.header, H_HEAD) - Atomics.load(this.header, H_TAIL)) | 0; }

  /**
   * Producer: appends the record in `scratch` (layout: see setConnection/setTemplate).
   * Returns false (counted) when the ring is full.
   */
  push(): boolean {
    const h = this.header;
    const head = h[H_HEAD];
    if (((head - Atomics.load(h, H_TAIL)) | 0) > this.mask) {
      h[H_OVERFLOW]++;
      return false;
    }
    const b = (head & this.mask) * OUTBOX_RECORD_WORDS, w = this.words, s = this.scratch;
    for (let i = 0; i < OUTBOX_RECORD_WORDS; i++) w[b + i] = s[i];
    Atomics.store(h, H_HEAD, (head + 1) | 0);
    return true;
  }

  /**
   * Producer: appends the IPv6 record in `scratch6` as OUTBOX6_SLOTS slots, all or none (the
   * head moves once, after every word is written). Returns false (counted) when they do not fit.
   */
  push6(): boolean {
    const h = this.header;
    const head = h[H_HEAD];
    if (((head - Atomics.load(h, H_TAIL)) | 0) + OUTBOX6_SLOTS > this.mask + 1) {
      h[H_OVERFLOW]++;
      return false;
    }
    const w = this.words, s = this.scratch6;
    for (let k = 0; k < OUTBOX6_SLOTS; k++) {
      const b = ((head + k) & this.mask) * OUTBOX_RECORD_WORDS;
      for (let i = 0; i < OUTBOX_RECORD_WORDS; i++) w[b + i] = s[k * OUTBOX_RECORD_WORDS + i];
    }
    Atomics.store(h, H_HEAD, (head + OUTBOX6_SLOTS) | 0);
    return true;
  }

  /** Consumer: hands every waiting record to `visit`, oldest first. Returns how many. */
  drain(visit: (record: OutboxRecord | OutboxRecord6) => void, max = Infinity): number {
    const h = this.header, w = this.words;
    let tail = Atomics.load(h, H_TAIL);
    const head = Atomics.load(h, H_HEAD);
    let n = 0;
    while (tail !== head && n < max) {
      const b = (tail & this.mask) * OUTBOX_RECORD_WORDS;
      const kind = w[b] >>> 24;
      if (kind === RING_CONNECTION6 || kind === RING_TEMPLATE6) {
        visit(decodeRecord6(this.gather6(tail)));
        tail = (tail + OUTBOX6_SLOTS) | 0;
      } else {
        visit(decodeRecord(w, b));
        tail = (tail + 1) | 0;
      }
      n++;
    }
    Atomics.store(h, H_TAIL, tail);
    return n;
  }

  /** The OUTBOX6_SLOTS slots from `tail` as one run of words (they may wrap the ring). */
  private gather6(tail: number): Uint32Array {
    const out = new Uint32Array(OUTBOX6_SLOTS * OUTBOX_RECORD_WORDS);
    for (let k = 0; k < OUTBOX6_SLOTS; k++) {
      const b = ((tail + k) & this.mask) * OUTBOX_RECORD_WORDS;
      out.set(this.words.subarray(b, b + OUTBOX_RECORD_WORDS), k * OUTBOX_RECORD_WORDS);
    }
    return out;
  }
}

// Record layout (uint32 words):
//   0: kind << 24 | proto << 16 | state
//   1: client ip            2: virtual ip
//   3: client port << 16 | virtual port
//   4: real server ip       5: real server port << 16 | rsId
//   6: service id           7: seconds left

/** What writeFlowRecord reads of a flow (FlowTable's accessors; structural so tests can fake it). */
export interface FlowFields {
  proto(flow: number): number; state(flow: number): number;
  clientIp(flow: number): number; clientPort(flow: number): number;
  vip(flow: number): number; vport(flow: number): number;
  rsIp(flow: number): number; rsPort(flow: number): number;
  /** The addresses as `ip | 0` (FlowRecords.rsIp32 says why): what writeFlowRecord reads. */
  clientIp32(flow: number): number; vip32(flow: number): number; rsIp32(flow: number): number;
  rsId(flow: number): number; service(flow: number): number;
  expiresAt(flow: number): number;
}

/** Producer: copies a live flow into the scratch record (the caller then calls push()). */
export function writeFlowRecord(s: Uint32Array, flows: FlowFields, flow: number, now: number): void {
  const proto = flows.proto(flow);
  s[0] = ((OUTBOX_CONNECTION << 24) | (proto << 16) | (proto === 6 ? flows.state(flow) : 0)) >>> 0;
  s[1] = flows.clientIp32(flow);   // | 0 forms: the same bits in s, never a boxed heap number
  s[2] = flows.vip32(flow);
  s[3] = ((flows.clientPort(flow) << 16) | flows.vport(flow)) >>> 0;
  s[4] = flows.rsIp32(flow);
  s[5] = ((flows.rsPort(flow) << 16) | flows.rsId(flow)) >>> 0;
  s[6] = flows.service(flow);
  const left = flows.expiresAt(flow) - now;
  s[7] = left > 0 ? left : 0;
}

/** What writeTemplateRecord reads of a persistence template (PersistenceTable's accessors). */
export interface TemplateFields {
  proto(t: number): number; maskedClient(t: number): number;
  vip(t: number): number; vport(t: number): number;
  rsIp(t: number): number; rsPort(t: number): number;
  rsId(t: number): number; service(t: number): number;
  expiresAt(t: number): number; timeout(t: number): number;
  /** The addresses as `ip | 0`: what writeTemplateRecord reads (FlowFields says why). */
  maskedClient32(t: number): number; vip32(t: number): number; rsIp32(t: number): number;
}

/**
 * Producer: copies a persistence template into the scratch record (client port 0). Seconds
 * left: a template kept past its time by live connections is sent with its full timeout.
 */
export function writeTemplateRecord(s: Uint32Array, templates: TemplateFields, t: number, now: number): void {
  s[0] = ((OUTBOX_TEMPLATE << 24) | (templates.proto(t) << 16)) >>> 0;
  s[1] = templates.maskedClient32(t);
  s[2] = templates.vip32(t);
  s[3] = templates.vport(t);
  s[4] = templates.rsIp32(t);
  s[5] = ((templates.rsPort(t) << 16) | templates.rsId(t)) >>> 0;
  s[6] = templates.service(t);
  const left = templates.expiresAt(t) - now;
  s[7] = left > 0 ? left : templates.timeout(t);
}

// IPv6 record layout (OUTBOX6_SLOTS x 8 words; filled by sync-outbox6.ts):
//   0: ring kind (RING_*6) << 24 | proto << 16 | state
//   1-4: client ip          5-8: virtual ip        9: client port << 16 | virtual port
//   10-13: real server ip   14: real server port << 16 | rsId
//   15: service id          16: seconds left       17-23: unused
export const R6_CLIENT = 1, R6_VIP = 5, R6_PORTS = 9, R6_RS_IP = 10, R6_RS = 14, R6_SERVICE = 15, R6_TIMEOUT = 16;

function bytesOfWords(w: Uint32Array, at: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const v = w[at + i];
    out[i * 4] = v >>> 24; out[i * 4 + 1] = (v >>> 16) & 0xff; out[i * 4 + 2] = (v >>> 8) & 0xff; out[i * 4 + 3] = v & 0xff;
  }
  return out;
}

function decodeRecord6(w: Uint32Array): OutboxRecord6 {
  const w0 = w[0];
  return {
    family: 6,
    kind: (w0 >>> 24) === RING_TEMPLATE6 ? OUTBOX_TEMPLATE : OUTBOX_CONNECTION,
    proto: (w0 >>> 16) & 0xff,
    state: w0 & 0xff,
    clientIp: bytesOfWords(w, R6_CLIENT),
    vip: bytesOfWords(w, R6_VIP),
    clientPort: w[R6_PORTS] >>> 16,
    vport: w[R6_PORTS] & 0xffff,
    rsIp: bytesOfWords(w, R6_RS_IP),
    rsPort: w[R6_RS] >>> 16,
    rsId: w[R6_RS] & 0xffff,
    service: w[R6_SERVICE],
    timeout: w[R6_TIMEOUT],
  };
}

function decodeRecord(w: Uint32Array, b: number): OutboxRecord {
  const w0 = w[b];
  return {
    kind: w0 >>> 24,
    proto: (w0 >>> 16) & 0xff,
    state: w0 & 0xff,
    clientIp: w[b + 1],
    vip: w[b + 2],
    clientPort: w[b + 3] >>> 16,
    vport: w[b + 3] & 0xffff,
    rsIp: w[b + 4],
    rsPort: w[b + 5] >>> 16,
    rsId: w[b + 5] & 0xffff,
    service: w[b + 6],
    timeout: w[b + 7],
  };
}

/** Writes a whole record into `s` from named fields (tests, templates, the control path). */
export function fillRecord(s: Uint32Array, r: OutboxRecord): void {
  s[0] = ((r.kind << 24) | ((r.proto & 0xff) << 16) | (r.state & 0xff)) >>> 0;
  s[1] = r.clientIp >>> 0;
  s[2] = r.vip >>> 0;
  s[3] = ((r.clientPort << 16) | (r.vport & 0xffff)) >>> 0;
  s[4] = r.rsIp >>> 0;
  s[5] = ((r.rsPort << 16) | (r.rsId & 0xffff)) >>> 0;
  s[6] = r.service >>> 0;
  s[7] = r.timeout >>> 0;
}
