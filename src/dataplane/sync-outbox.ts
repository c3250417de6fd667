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
}

export class SyncOutbox {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly words: Uint32Array;
  private readonly mask: number;
  /** Scratch the producer fills before push(): addresses above 2^30 passed as arguments would be boxed. */
  readonly scratch = new Uint32Array(OUTBOX_RECORD_WORDS);

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

  /** Consumer: hands every waiting record to `visit`, oldest first. Returns how many. */
  drain(visit: (record: OutboxRecord) => void, max = Infinity): number {
    const h = this.header, w = this.words;
    let tail = Atomics.load(h, H_TAIL);
    const head = Atomics.load(h, H_HEAD);
    let n = 0;
    while (tail !== head && n < max) {
      visit(decodeRecord(w, (tail & this.mask) * OUTBOX_RECORD_WORDS));
      tail = (tail + 1) | 0;
      n++;
    }
    Atomics.store(h, H_TAIL, tail);
    return n;
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
  rsId(flow: number): number; service(flow: number): number;
  expiresAt(flow: number): number;
}

/** Producer: copies a live flow into the scratch record (the caller then calls push()). */
export function writeFlowRecord(s: Uint32Array, flows: FlowFields, flow: number, now: number): void {
  const proto = flows.proto(flow);
  s[0] = ((OUTBOX_CONNECTION << 24) | (proto << 16) | (proto === 6 ? flows.state(flow) : 0)) >>> 0;
  s[1] = flows.clientIp(flow);
  s[2] = flows.vip(flow);
  s[3] = ((flows.clientPort(flow) << 16) | flows.vport(flow)) >>> 0;
  s[4] = flows.rsIp(flow);
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
}

/**
 * Producer: copies a persistence template into the scratch record (client port 0). Seconds
 * left: a template kept past its time by live connections is sent with its full timeout.
 */
export function writeTemplateRecord(s: Uint32Array, templates: TemplateFields, t: number, now: number): void {
  s[0] = ((OUTBOX_TEMPLATE << 24) | (templates.proto(t) << 16)) >>> 0;
  s[1] = templates.maskedClient(t);
  s[2] = templates.vip(t);
  s[3] = templates.vport(t);
  s[4] = templates.rsIp(t);
  s[5] = ((templates.rsPort(t) << 16) | templates.rsId(t)) >>> 0;
  s[6] = templates.service(t);
  const left = templates.expiresAt(t) - now;
  s[7] = left > 0 ? left : templates.timeout(t);
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
