// IPVS persistence templates (ip_vs_sched_persist): the key is the client address masked by
// persistence_granularity plus the service; the value is the real server chosen for that
// client. A template lives persistence_timeout seconds from its last use, and never expires
// while connections it created (its "controlled" connections, IPVS's n_control) are alive;
// when the last one goes it lives persistence_timeout more (the upper bound of IPVS, whose
// template timer re-checks every persistence_timeout).
//
// Typed arrays, open addressing with backward-shift deletion, bounded: inserting into a full
// table evicts the least recently inserted template that controls no connection; when every
// template controls live connections, insert returns -1 and the caller schedules without
// persistence (the connection still gets through). No allocation on lookup/insert/attach/release.

import { PAIR_INPUT, hashPairInput, randomSeed } from './hash.js';
import { DUMP_CLIENT, DUMP_EXPIRES_IN, DUMP_META, DUMP_PORTS, DUMP_RS_IP, DUMP_RS_PORT, DUMP_STATE_NONE, DUMP_VIP, DUMP_WORDS } from './dump-layout.js';

export const MAX_TEMPLATE_CAPACITY = 1 << 24;

/** Templates are IPVS connection entries too: a quarter of the flow table bounds them. */
export function templateCapacityFor(connTableSize: number): number {
  return Math.max(1024, connTableSize >>> 2);
}
const MAX_INDEX_LOAD = 0.75;
const REF_MASK = (1 << 25) - 1;
const NIL = -1;
// Positions in PersistenceTable.args.
const A_CLIENT = 0, A_PROTO = 1, A_VIP = 2, A_VPORT = 3, A_RS_IP = 4, A_RS_PORT = 5;

const T_IN_USE = 1;
const T_HASHED = 2;   // findable; an invalidated template that still controls flows is not

export interface PersistenceTableOptions {
  capacity: number;
  seed?: number;
  /**
   * Memory shared with other workers (PersistenceTable.allocateShared; dataplane.queues > 1):
   * the table lives in it, so a client's templates are the same on every queue. Use it through
   * SharedPersistenceTable, which takes the table's lock around each operation.
   */
  memory?: SharedArrayBuffer;
  /**
   * IPv6 templates (persistence6.ts): each template also keeps its masked client and VIP as
   * four words each (WIDE_WORDS), compared after the 32-bit key (their fold) matches.
   */
  wide?: boolean;
}

/**
 * Words an IPv6 template keeps beside the fold: its masked client (4, the key, compared) and
 * the VIP of its first connection (4, for the listing only, as IPv4's vip).
 */
export const WIDE_WORDS = 8;
const WIDE_KEY_WORDS = 4;
/** Where the full key goes in PersistenceTable.args for a wide table. */
export const A_WIDE = 6;

// The table's scalars, in the first words of its memory (so workers sharing it share them).
const S_MAGIC = 0, S_LOCK = 1, S_IDLE_HEAD = 2, S_IDLE_TAIL = 3, S_FREE_HEAD = 4, S_HIGH_WATER = 5, S_SEED = 6;
const S_INSERTS = 7, S_EVICTIONS = 8, S_EXPIRED = 9, S_FULL = 10, S_SIZE = 11;
const STATE_WORDS = 16;
const MAGIC = 0x706d7431; // "pmt1": initialised memory

function indexSizeFor(capacity: number): number {
  let size = 16;
  while (size * MAX_INDEX_LOAD < capacity) size *= 2;
  return size;
}

/** Bytes of a table's memory: the scalars, then 4-, 2- and 1-byte arrays (each view aligned). */
function bytesFor(capacity: number, wide = false): number {
  return STATE_WORDS * 4 + capacity * ((wide ? 8 + WIDE_WORDS : 8) * 4 + 4 * 2 + 2) + indexSizeFor(capacity) * 4;
}

/** stats as enumerable accessors over the shared scalars (a spread copies the values). */
function statsView(state: Int32Array): TemplateStats {
  const field = (at: number) => ({ enumerable: true, get: () => state[at], set: (v: number) => { state[at] = v; } });
  return Object.defineProperties({}, {
    inserts: field(S_INSERTS), evictions: field(S_EVICTIONS), expired: field(S_EXPIRED), full: field(S_FULL), size: field(S_SIZE),
  }) as TemplateStats;
}

export interface TemplateEntry {
  /** 6 TCP, 17 UDP, 0 for a multi-port (virtual_server_group) service: ipvsadm prints "IP". */
  proto: number;
  state: 'NONE';
  expiresIn: number;
  clientIp: number; clientPort: 0;
  vip: number; vport: number;
  rsIp: number; rsPort: number;
  service: number; rsId: number;
  controlled: number;
  /** A wide (IPv6) table's WIDE_WORDS: masked client, VIP; absent for IPv4. */
  wide?: Uint32Array;
}

export interface TemplateStats { inserts: number; evictions: number; expired: number; full: number; size: number }

export class PersistenceTable {
  readonly capacity: number;
  readonly stats: TemplateStats;
  /** The scalars (S_*), in the table's memory. */
  protected readonly state: Int32Array;

  private readonly clientKey: Uint32Array;
  private readonly serviceOf: Uint16Array;
  private readonly rsIdOf: Uint16Array;
  private readonly expires: Uint32Array;
  private readonly timeoutOf: Uint32Array;
  private readonly controlledCount: Uint32Array;
  private readonly flags: Uint8Array;
  private readonly protoOf: Uint8Array;
  private readonly vipOf: Uint32Array;
  private readonly vportOf: Uint16Array;
  private readonly rsIpOf: Uint32Array;
  private readonly rsPortOf: Uint16Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;    // idle list (controls nothing) in insertion order; free list
  private readonly index: Uint32Array;
  private readonly indexMask: number;
  /** IPv6 tables: WIDE_WORDS per template (see PersistenceTableOptions.wide); null for IPv4. */
  protected readonly wideKey: Uint32Array | null;
  private get idleHead(): number { return this.state[S_IDLE_HEAD]; }
  private set idleHead(v: number) { this.state[S_IDLE_HEAD] = v; }
  private get idleTail(): number { return this.state[S_IDLE_TAIL]; }
  private set idleTail(v: number) { this.state[S_IDLE_TAIL] = v; }
  private get freeHead(): number { return this.state[S_FREE_HEAD]; }
  private set freeHead(v: number) { this.state[S_FREE_HEAD] = v; }
  private get highWater(): number { return this.state[S_HIGH_WATER]; }
  private set highWater(v: number) { this.state[S_HIGH_WATER] = v; }
  /** Per instance: each worker sharing the table sweeps from its own place. */
  private sweepCursor = 0;
  private readonly seed: number;

  /** Shared memory for a table of `capacity` templates, initialised (hand it to every worker). */
  static allocateShared(capacity: number, seed?: number, wide = false): SharedArrayBuffer {
    const memory = new SharedArrayBuffer(bytesFor(capacity, wide));
    new PersistenceTable({ capacity, seed, memory, wide });
    return memory;
  }

  constructor(opts: PersistenceTableOptions) {
    const capacity = opts.capacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_TEMPLATE_CAPACITY) {
      throw new RangeError(`persistence table capacity must be a whole number 1..${MAX_TEMPLATE_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    const size = indexSizeFor(capacity);
    const wide = opts.wide === true;
    this.bytes = bytesFor(capacity, wide);
    const memory = opts.memory ?? new ArrayBuffer(this.bytes);
    if (memory.byteLength !== this.bytes) throw new RangeError(`persistence memory of ${memory.byteLength} bytes is not for ${capacity} templates`);
    let at = 0;
    const take = <T>(make: (buffer: ArrayBufferLike, offset: number, length: number) => T, length: number, width: number): T => {
      const view = make(memory, at, length);
      at += length * width;
      return view;
    };
    const u32 = (n: number) => take((b, o, l) => new Uint32Array(b, o, l), n, 4);
    const i32 = (n: number) => take((b, o, l) => new Int32Array(b, o, l), n, 4);
    const u16 = (n: number) => take((b, o, l) => new Uint16Array(b, o, l), n, 2);
    const u8 = (n: number) => take((b, o, l) => new Uint8Array(b, o, l), n, 1);
    this.state = i32(STATE_WORDS);
    this.clientKey = u32(capacity);
    this.expires = u32(capacity);
    this.timeoutOf = u32(capacity);
    this.controlledCount = u32(capacity);
    this.vipOf = u32(capacity);
    this.rsIpOf = u32(capacity);
    this.prev = i32(capacity);
    this.next = i32(capacity);
    this.index = u32(size);
    this.wideKey = wide ? u32(capacity * WIDE_WORDS) : null;
    this.serviceOf = u16(capacity);
    this.rsIdOf = u16(capacity);
    this.vportOf = u16(capacity);
    this.rsPortOf = u16(capacity);
    this.flags = u8(capacity);
    this.protoOf = u8(capacity);
    this.indexMask = size - 1;
    this.stats = statsView(this.state);
    if (this.state[S_MAGIC] !== MAGIC) {
      this.state[S_IDLE_HEAD] = NIL;
      this.state[S_IDLE_TAIL] = NIL;
      this.state[S_FREE_HEAD] = NIL;
      this.state[S_SEED] = (opts.seed ?? randomSeed()) | 0;
      this.state[S_MAGIC] = MAGIC;
    }
    this.seed = this.state[S_SEED];
  }

  /** persistence_granularity: 255.255.255.0 groups a /24 of clients on one real server. */
  static maskClient(clientIp: number, granularityMask: number): number {
    return (clientIp & granularityMask) >>> 0;
  }

  /**
   * Scratch for the allocation-proof forms (see FlowTable.tuple for why):
   * [maskedClient, proto, vip, vport, rsIp, rsPort].
   */
  readonly args = new Uint32Array(A_WIDE + WIDE_WORDS);
  private readonly bytes: number;

  /** The live template for (service, masked client), or -1. */
  lookup(service: number, maskedClient: number, now: number): number {
    this.args[A_CLIENT] = maskedClient;
    return this.lookupArgs(service, now);
  }

  /**
   * A new template: `rsId` was scheduled for this client. proto/vip/vport/rsIp/rsPort are only
   * for the listing. Replaces a template with the same key. Returns the template or -1 (full of
   * templates that all control live connections; counted in stats.full).
   */
  insert(service: number, maskedClient: number, rsId: number, timeout: number, now: number,
    proto: number, vip: number, vport: number, rsIp: number, rsPort: number): number {
    const a = this.args;
    a[A_CLIENT] = maskedClient; a[A_PROTO] = proto; a[A_VIP] = vip; a[A_VPORT] = vport; a[A_RS_IP] = rsIp; a[A_RS_PORT] = rsPort;
    return this.insertArgs(service, rsId, timeout, now);
  }

  /** lookup() with the masked client in args[0]. */
  lookupArgs(service: number, now: number): number {
    const maskedClient = this.args[A_CLIENT];
    PAIR_INPUT[0] = this.seed; PAIR_INPUT[1] = maskedClient; PAIR_INPUT[2] = service;
    const h = hashPairInput();
    const tag = tagOf(h), mask = this.indexMask, index = this.index;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === 0) return -1;
      if ((entry >>> 25) !== tag) continue;
      const t = entry & REF_MASK;
      if (this.clientKey[t] === maskedClient && this.serviceOf[t] === service && (this.wideKey === null || this.wideMatches(t))) {
        return this.controlledCount[t] > 0 || this.expires[t] > now ? t : -1;
      }
    }
  }

  /** insert() with args filled. */
  insertArgs(service: number, rsId: number, timeout: number, now: number): number {
    const a = this.args, maskedClient = a[A_CLIENT];
    PAIR_INPUT[0] = this.seed; PAIR_INPUT[1] = maskedClient; PAIR_INPUT[2] = service;
    const h = hashPairInput();
    const tag = tagOf(h), mask = this.indexMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {   // same key present: replace it
      const entry = this.index[i];
      if (entry === 0) break;
      const t = entry & REF_MASK;
      if ((entry >>> 25) === tag && this.clientKey[t] === maskedClient && this.serviceOf[t] === service &&
          (this.wideKey === null || this.wideMatches(t))) {
        this.invalidate(t);
        break;
      }
    }
    if (this.stats.size >= this.capacity) {
      const victim = this.idleHead;
      if (victim === NIL) {
        this.stats.full++;
        return -1;
      }
      if (this.expires[victim] <= now) this.stats.expired++;
      else this.stats.evictions++;
      this.free(victim);
    }
    let t = this.freeHead;
    if (t !== NIL) this.freeHead = this.next[t];
    else t = this.highWater++;
    this.clientKey[t] = maskedClient;
    this.serviceOf[t] = service;
    this.rsIdOf[t] = rsId;
    this.timeoutOf[t] = timeout;
    this.expires[t] = now + timeout;
    this.controlledCount[t] = 0;
    this.flags[t] = T_IN_USE | T_HASHED;
    this.protoOf[t] = a[A_PROTO];
    this.vipOf[t] = a[A_VIP];
    this.vportOf[t] = a[A_VPORT];
    this.rsIpOf[t] = a[A_RS_IP];
    this.rsPortOf[t] = a[A_RS_PORT];
    if (this.wideKey !== null) for (let i = 0; i < WIDE_WORDS; i++) this.wideKey[t * WIDE_WORDS + i] = a[A_WIDE + i];
    this.linkIdle(t);
    let i = h & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = ((tagOf(h) << 25) | t) >>> 0;
    this.stats.size++;
    this.stats.inserts++;
    return t;
  }

  rsId(t: number): number { return this.rsIdOf[t]; }
  expiresAt(t: number): number { return this.expires[t]; }
  controlled(t: number): number { return this.controlledCount[t]; }
  // The rest of the key and the listing fields, for connection sync (its outbox copies them).
  service(t: number): number { return this.serviceOf[t]; }
  maskedClient(t: number): number { return this.clientKey[t]; }
  proto(t: number): number { return this.protoOf[t]; }
  vip(t: number): number { return this.vipOf[t]; }
  vport(t: number): number { return this.vportOf[t]; }
  rsIp(t: number): number { return this.rsIpOf[t]; }
  /** The addresses as `ip | 0`, for the hot path (FlowRecords.rsIp32 says why). */
  maskedClient32(t: number): number { return this.clientKey[t] | 0; }
  vip32(t: number): number { return this.vipOf[t] | 0; }
  rsIp32(t: number): number { return this.rsIpOf[t] | 0; }
  rsPort(t: number): number { return this.rsPortOf[t]; }
  timeout(t: number): number { return this.timeoutOf[t]; }
  /** A wide (IPv6) table's word i of template t: 0..3 its masked client, 4..7 its VIP. */
  wideWord(t: number, i: number): number { return this.wideKey![t * WIDE_WORDS + i]; }

  /** A new connection used the template: like ip_vs_conn_put(ct), the timer restarts. */
  refresh(t: number, now: number): void {
    this.expires[t] = now + this.timeoutOf[t];
  }

  /** A connection now depends on this template (the flow table calls this). */
  attach(t: number): void {
    if (this.controlledCount[t]++ === 0) this.unlinkIdle(t);
  }

  /** A connection the template controlled is gone (the flow table calls this). */
  release(t: number, now: number): void {
    if (this.controlledCount[t] === 0) return;
    if (--this.controlledCount[t] !== 0) return;
    if ((this.flags[t] & T_HASHED) === 0) {
      // Invalidated while it still had connections: nothing can find it, so it goes now.
      this.linkIdle(t);
      this.free(t);
      this.stats.expired++;
      return;
    }
    const later = now + this.timeoutOf[t];
    if (later > this.expires[t]) this.expires[t] = later;
    this.linkIdle(t);
  }

  /** Unhashes the template so the next connection is scheduled afresh (freed when idle). */
  invalidate(t: number): void {
    if ((this.flags[t] & T_IN_USE) === 0) return;
    if (this.controlledCount[t] === 0) {
      this.free(t);
      return;
    }
    if ((this.flags[t] & T_HASHED) !== 0) {
      this.indexRemove(t);
      this.flags[t] &= ~T_HASHED;
    }
  }

  /** Incremental sweep: frees expired templates that control nothing. */
  expireSome(now: number, maxVisits: number): number {
    const limit = Math.min(maxVisits, this.highWater);
    let cursor = this.sweepCursor, freed = 0;
    for (let visited = 0; visited < limit; visited++) {
      if (cursor >= this.highWater) cursor = 0;
      if ((this.flags[cursor] & T_IN_USE) !== 0 && this.controlledCount[cursor] === 0 && this.expires[cursor] <= now) {
        this.free(cursor);
        this.stats.expired++;
        freed++;
      }
      cursor++;
    }
    this.sweepCursor = cursor;
    return freed;
  }

  /**
   * The real server is gone: its templates stop steering new connections (IPVS's
   * check_template finds the destination unavailable and expires the template).
   */
  dropRealServer(rsId: number, now: number): number {
    void now;
    let dropped = 0;
    for (let t = 0; t < this.highWater; t++) {
      if ((this.flags[t] & T_HASHED) !== 0 && this.rsIdOf[t] === (rsId & 0xffff)) {
        this.invalidate(t);
        dropped++;
      }
    }
    return dropped;
  }

  /** snapshot()'s templates from slot `from` into `out` (conn-dump.ts's layout; see FlowRecords.dumpInto). */
  dumpInto(now: number, from: number, out: Uint32Array, maxVisits: number): { count: number; next: number } {
    const max = Math.floor(out.length / DUMP_WORDS);
    const end = Math.min(this.highWater, from + maxVisits);
    let count = 0;
    let t = from;
    for (; t < end && count < max; t++) {
      if ((this.flags[t] & T_HASHED) === 0) continue;
      if (this.controlledCount[t] === 0 && this.expires[t] <= now) continue;
      const timeout = Math.max(1, this.timeoutOf[t]);
      const o = count++ * DUMP_WORDS;
      out[o + DUMP_META] = (this.protoOf[t] << 8) | DUMP_STATE_NONE;
      out[o + DUMP_EXPIRES_IN] = this.expires[t] > now ? this.expires[t] - now : timeout - ((now - this.expires[t]) % timeout);
      out[o + DUMP_CLIENT] = this.clientKey[t];
      out[o + DUMP_PORTS] = this.vportOf[t];
      out[o + DUMP_VIP] = this.vipOf[t];
      out[o + DUMP_RS_IP] = this.rsIpOf[t];
      out[o + DUMP_RS_PORT] = this.rsPortOf[t];
    }
    return { count, next: t >= this.highWater ? -1 : t };
  }

  /** Live templates as `ipvsadm -Lnc` lists them (state NONE, client port 0). Allocates. */
  snapshot(now: number): TemplateEntry[] {
    const out: TemplateEntry[] = [];
    for (let t = 0; t < this.highWater; t++) {
      if ((this.flags[t] & T_HASHED) === 0) continue;
      if (this.controlledCount[t] === 0 && this.expires[t] <= now) continue;
      // A template kept by its connections past its time shows, as IPVS's re-armed timer does,
      // a countdown restarting at persistence_timeout.
      const timeout = Math.max(1, this.timeoutOf[t]);
      const expiresIn = this.expires[t] > now ? this.expires[t] - now : timeout - ((now - this.expires[t]) % timeout);
      out.push({
        proto: this.protoOf[t], state: 'NONE', expiresIn,
        clientIp: this.clientKey[t], clientPort: 0,
        vip: this.vipOf[t], vport: this.vportOf[t],
        rsIp: this.rsIpOf[t], rsPort: this.rsPortOf[t],
        service: this.serviceOf[t], rsId: this.rsIdOf[t], controlled: this.controlledCount[t],
        ...(this.wideKey !== null ? { wide: this.wideKey.slice(t * WIDE_WORDS, (t + 1) * WIDE_WORDS) } : {}),
      });
    }
    return out;
  }

  /**
   * Live templates per real server id (control path): IPVS's dest->persistconns, which
   * `ipvsadm -Ln --persistent-conn` shows as PersistConn (the templates bound to that dest).
   * Counted as snapshot() lists them: a template past its time that still holds connections counts.
   */
  countsByRealServer(now: number): Map<number, number> {
    const counts = new Map<number, number>();
    for (let t = 0; t < this.highWater; t++) {
      if ((this.flags[t] & T_HASHED) === 0) continue;
      if (this.controlledCount[t] === 0 && this.expires[t] <= now) continue;
      counts.set(this.rsIdOf[t], (counts.get(this.rsIdOf[t]) ?? 0) + 1);
    }
    return counts;
  }

  memory(): { totalBytes: number; bytesPerTemplate: number } {
    const totalBytes = this.bytes;
    return { totalBytes, bytesPerTemplate: totalBytes / this.capacity };
  }

  /** A wide table's template has the full key in args[A_WIDE..] (its masked client and VIP). */
  private wideMatches(t: number): boolean {
    const w = this.wideKey!, a = this.args, b = t * WIDE_WORDS;
    for (let i = 0; i < WIDE_KEY_WORDS; i++) if (w[b + i] !== a[A_WIDE + i]) return false;
    return true;
  }

  /** Only for a template that controls nothing (so it is on the idle list). */
  private free(t: number): void {
    if ((this.flags[t] & T_HASHED) !== 0) this.indexRemove(t);
    this.unlinkIdle(t);
    this.flags[t] = 0;
    this.next[t] = this.freeHead;
    this.freeHead = t;
    this.stats.size--;
  }

  private linkIdle(t: number): void {
    this.prev[t] = this.idleTail;
    this.next[t] = NIL;
    if (this.idleTail === NIL) this.idleHead = t;
    else this.next[this.idleTail] = t;
    this.idleTail = t;
  }

  private unlinkIdle(t: number): void {
    const p = this.prev[t], n = this.next[t];
    if (p === NIL) this.idleHead = n;
    else this.next[p] = n;
    if (n === NIL) this.idleTail = p;
    else this.prev[n] = p;
  }

  private hashOfTemplate(t: number): number {
    PAIR_INPUT[0] = this.seed; PAIR_INPUT[1] = this.clientKey[t]; PAIR_INPUT[2] = this.serviceOf[t];
    return hashPairInput();
  }

  private indexRemove(t: number): void {
    const index = this.index, mask = this.indexMask;
    let hole = this.hashOfTemplate(t) & mask;
    for (;;) {
      const entry = index[hole];
      if (entry === 0) return;
      if ((entry & REF_MASK) === t) break;
      hole = (hole + 1) & mask;
    }
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const entry = index[j];
      const other = entry & REF_MASK;
      const home = this.hashOfTemplate(other) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = entry;
        hole = j;
      }
    }
    index[hole] = 0;
  }
}

/** 7-bit tag from the 30-bit hash's top bits, top bit forced so an entry is never 0. */
function tagOf(h: number): number {
  return 0x40 | (h >>> 24);
}

/**
 * A PersistenceTable in memory shared by every worker (dataplane.queues > 1; issue 18 part 3):
 * RSS spreads one client's connections over the queues, so templates kept per worker broke
 * persistence_timeout. Each operation holds the table's lock (a spin lock on one word:
 * operations are a few hundred nanoseconds, only new connections, template hits and flow ends
 * take them, and two workers contend only when both do at once). Reentrant within a worker (an
 * insert that replaces a template invalidates it). A lookup, the scheduling and the insert are
 * separate operations: two first connections of one client arriving at once on two queues can
 * each create a template (the later one wins, as the later of two IPVS template inserts would).
 */
export class SharedPersistenceTable extends PersistenceTable {
  private depth = 0;
  /** Nonzero and unique per worker: who holds the lock (a restarted worker frees its dead predecessor's). */
  readonly owner: number;

  constructor(opts: PersistenceTableOptions & { memory: SharedArrayBuffer; owner: number }) {
    super(opts);
    if (!(opts.owner > 0)) throw new RangeError('a shared persistence table needs an owner id > 0');
    this.owner = opts.owner;
    // A worker that died holding the lock: its replacement, of the same owner id, takes it back.
    Atomics.compareExchange(this.state, S_LOCK, this.owner, 0);
  }

  private enter(): void {
    if (this.depth++ > 0) return;
    while (Atomics.compareExchange(this.state, S_LOCK, 0, this.owner) !== 0) { /* held for a few hundred ns */ }
  }

  private leave(): void {
    if (--this.depth === 0) Atomics.store(this.state, S_LOCK, 0);
  }

  override lookupArgs(service: number, now: number): number {
    this.enter();
    try { return super.lookupArgs(service, now); } finally { this.leave(); }
  }

  override insertArgs(service: number, rsId: number, timeout: number, now: number): number {
    this.enter();
    try { return super.insertArgs(service, rsId, timeout, now); } finally { this.leave(); }
  }

  override refresh(t: number, now: number): void {
    this.enter();
    try { super.refresh(t, now); } finally { this.leave(); }
  }

  override attach(t: number): void {
    this.enter();
    try { super.attach(t); } finally { this.leave(); }
  }

  override release(t: number, now: number): void {
    this.enter();
    try { super.release(t, now); } finally { this.leave(); }
  }

  override invalidate(t: number): void {
    this.enter();
    try { super.invalidate(t); } finally { this.leave(); }
  }

  override expireSome(now: number, maxVisits: number): number {
    this.enter();
    try { return super.expireSome(now, maxVisits); } finally { this.leave(); }
  }

  override dropRealServer(rsId: number, now: number): number {
    this.enter();
    try { return super.dropRealServer(rsId, now); } finally { this.leave(); }
  }

  override dumpInto(now: number, from: number, out: Uint32Array, maxVisits: number): { count: number; next: number } {
    this.enter();
    try { return super.dumpInto(now, from, out, maxVisits); } finally { this.leave(); }
  }

  override snapshot(now: number): TemplateEntry[] {
    this.enter();
    try { return super.snapshot(now); } finally { this.leave(); }
  }

  override countsByRealServer(now: number): Map<number, number> {
    this.enter();
    try { return super.countsByRealServer(now); } finally { this.leave(); }
  }
}
