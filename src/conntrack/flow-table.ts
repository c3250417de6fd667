// The connection table: IPVS's ip_vs_conn table as typed arrays, bounded, with no allocation,
// no throw and no logging on the per-packet methods (lookupTuple, lookupReplyTuple, insertTuple,
// onTcpPacket, onUdpPacket, expireSome).
//
// Layout (bytes per flow at capacity C = 1e6: 57.3):
//  - records: 8 x uint32 per flow (32 bytes, half a cache line) holding key and value, so a
//    hit reads one line for the whole flow rather than one line per field as pure
//    structure-of-arrays would. 32 bytes.
//  - prev/next: int32 each: the two eviction lists, and the free list. 8 bytes.
//  - index: open addressing with linear probing, power-of-two size with room for two keys per
//    flow (forward + NAT reply) at a load factor <= 0.75. Each entry is a 7-bit hash tag + a
//    25-bit reference (flow * 2 + direction), so both keys of a flow point at the same record
//    and a probe rarely reads a record that does not match. 16.8 bytes.
//  Deletion is backward-shift (no tombstones), so probe runs never grow with churn.
// Flow indices are stable for the life of a flow (records never move, only index entries do),
// so callers may keep per-flow side arrays of length slotCount indexed by flow.
// (Measured alternative, not taken: records laid out as the hash table itself saves the index
// access on a hit, ~170 vs ~250 ns at 1e6 flows here, but records then move on deletion.)
//
// `now` is whole seconds from a coarse clock the dataplane updates per batch. Keep it below
// 2^30 (e.g. seconds since the director started, not since 1970) so V8 never boxes it; expiry is
// stored as uint32 `now + timeout` and a flow is gone once `now >= expiry`.
//
// Eviction when full: the table keeps two lists in the order flows entered them: embryonic
// (every TCP state but ESTABLISHED, and UDP flows that have seen one packet) and protected
// (TCP ESTABLISHED, UDP flows that have seen two or more). Insert into a full table evicts the
// head of the embryonic list, and only when that list is empty the head of the protected one.
// So a SYN flood from random sources recycles its own entries while established connections
// keep their slots, and a new connection always gets in.

import { TUPLE_INPUT, hashTupleInput, randomSeed } from './hash.js';
import {
  DEFAULT_TIMEOUTS, DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, TCP_ESTABLISHED, TCP_NONE,
  TCP_STATE_ACTIVE, TCP_STATE_NAMES, UDP_STATE_NAME, UDP_TIMEOUT_INDEX, mergeTimeouts,
  nextTcpState, timeoutTable, type Timeouts,
} from './tcp-states.js';
import type { PersistenceTable } from './persistence.js';

export const enum Proto { TCP = 6, UDP = 17 }

/** References in the index are 25 bits (flow * 2 + direction). */
export const MAX_FLOW_CAPACITY = 1 << 24;
/** Real-server ids are 16 bits in the record; the control plane assigns them. */
export const MAX_REAL_SERVER_IDS = 1 << 16;
/** The index is sized so two keys per flow fill at most this share of it. */
const MAX_INDEX_LOAD = 0.75;

const RECORD_WORDS = 8;
const W_CLIENT = 0;   // client ip
const W_VIP = 1;      // virtual ip
const W_PORTS = 2;    // client port << 16 | virtual port
const W_RS_IP = 3;    // real server ip
const W_META = 4;     // real server port << 16 | protocol << 8 | state; 0 = free slot
const W_OWNER = 5;    // service << 16 | real server id
const W_EXPIRES = 6;  // absolute second at which the flow is gone
const W_AUX = 7;      // flags << 24 | (persistence template + 1)

const F_INACTIVE = 1;     // counted in inactiveConns (IP_VS_CONN_F_INACTIVE)
const F_NOOUTPUT = 2;     // replies never seen: input-only state table (IP_VS_CONN_F_NOOUTPUT)
const F_TRACK_REPLY = 4;  // the reply tuple is in the index (NAT)
const F_SEEN = 8;         // UDP: one packet accounted
const F_ASSURED = 16;     // UDP: two or more packets, protected from eviction

const REF_MASK = (1 << 25) - 1;
// Positions in FlowTable.tuple.
const T_PROTO = 0, T_CLIENT = 1, T_CLIENT_PORT = 2, T_VIP = 3, T_VPORT = 4, T_RS_IP = 5, T_RS_PORT = 6;
const TEMPLATE_MASK = 0xffffff;
const NIL = -1;
const LIST_EMBRYONIC = 0;
const LIST_PROTECTED = 1;

export interface FlowTableOptions {
  capacity: number;
  timeouts?: Partial<Timeouts>;
  /** Hash seed; random unless given (tests). */
  seed?: number;
  /** sysctl net.ipv4.vs.expire_nodest_conn; IPVS's default is 0 (false). */
  expireNodestConn?: boolean;
  /** Templates whose controlled-connection counts this table maintains. */
  templates?: PersistenceTable;
  /** Counter arrays to write into (e.g. views on a SharedArrayBuffer); indexed by rsId. */
  activeConns?: Uint32Array;
  inactiveConns?: Uint32Array;
}

export interface FlowStats {
  evictions: number;  // live flows pushed out by an insert into a full table
  inserts: number;
  expired: number;    // flows freed because their timeout passed
  flushed: number;    // flows freed by dropRealServer(..., expireNow = true)
  size: number;       // flows held, expired-but-not-yet-swept included
}

export interface FlowEntry {
  proto: number;
  state: string;
  expiresIn: number;
  clientIp: number; clientPort: number;
  vip: number; vport: number;
  rsIp: number; rsPort: number;
  service: number; rsId: number;
}

export class FlowTable {
  readonly capacity: number;
  readonly activeConns: Uint32Array;
  readonly inactiveConns: Uint32Array;
  readonly stats: FlowStats = { evictions: 0, inserts: 0, expired: 0, flushed: 0, size: 0 };
  /** expire_nodest_conn: what dropRealServer does when not told (see there). */
  expireNodestConn: boolean;

  /** Flow indices are 0 .. slotCount - 1 (= capacity): size per-flow side arrays with it. */
  readonly slotCount: number;
  private readonly records: Uint32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;   // list links for live flows, free-list link for free ones
  private readonly index: Uint32Array;
  private readonly indexMask: number;
  private readonly listHead = new Int32Array([NIL, NIL]);
  private readonly listTail = new Int32Array([NIL, NIL]);
  private freeHead = NIL;
  private highWater = 0;               // slots [0, highWater) have been used at least once
  private sweepCursor = 0;
  private readonly seed: number;
  private currentTimeouts: Timeouts;
  private readonly timeoutBySlot: Uint32Array;
  private readonly templates: PersistenceTable | null;

  constructor(opts: FlowTableOptions) {
    const capacity = opts.capacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_FLOW_CAPACITY) {
      throw new RangeError(`conn table capacity must be a whole number 1..${MAX_FLOW_CAPACITY}, got ${capacity}`);
    }
    this.capacity = capacity;
    this.slotCount = capacity;
    this.records = new Uint32Array(capacity * RECORD_WORDS);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    let indexSize = 16;
    while (indexSize * MAX_INDEX_LOAD < capacity * 2) indexSize *= 2;
    this.index = new Uint32Array(indexSize);
    this.indexMask = indexSize - 1;
    this.seed = (opts.seed ?? randomSeed()) | 0;
    this.currentTimeouts = mergeTimeouts(DEFAULT_TIMEOUTS, opts.timeouts ?? {});
    this.timeoutBySlot = timeoutTable(this.currentTimeouts);
    this.expireNodestConn = opts.expireNodestConn ?? false;
    this.templates = opts.templates ?? null;
    this.activeConns = opts.activeConns ?? new Uint32Array(MAX_REAL_SERVER_IDS);
    this.inactiveConns = opts.inactiveConns ?? new Uint32Array(MAX_REAL_SERVER_IDS);
    if (this.activeConns.length < MAX_REAL_SERVER_IDS || this.inactiveConns.length < MAX_REAL_SERVER_IDS) {
      throw new RangeError(`activeConns/inactiveConns need ${MAX_REAL_SERVER_IDS} entries (one per rsId)`);
    }
  }

  /** Bytes of every typed array the table holds, and that divided by capacity. */
  memory(): { totalBytes: number; bytesPerFlow: number } {
    const totalBytes = this.records.byteLength + this.prev.byteLength + this.next.byteLength +
      this.index.byteLength + this.timeoutBySlot.byteLength +
      this.activeConns.byteLength + this.inactiveConns.byteLength + this.listHead.byteLength + this.listTail.byteLength;
    return { totalBytes, bytesPerFlow: totalBytes / this.capacity };
  }

  get timeouts(): Readonly<Timeouts> {
    return this.currentTimeouts;
  }

  /** ipvsadm --set: later packets use the new values; 0 or missing keeps a value. */
  setTimeouts(change: Partial<Timeouts>): void {
    this.currentTimeouts = mergeTimeouts(this.currentTimeouts, change);
    timeoutTable(this.currentTimeouts, this.timeoutBySlot);
  }

  // ---- per-packet ------------------------------------------------------------------------

  /**
   * Scratch tuple the per-packet methods (lookupTuple, lookupReplyTuple, insertTuple) read:
   * [proto, clientIp, clientPort, vip, vport, rsIp, rsPort]. V8 boxes numbers outside the 31-bit
   * small-integer range (every address >= 64.0.0.0) when it passes them to a function it did
   * not inline; writing them here instead never allocates.
   */
  readonly tuple = new Uint32Array(7);

  /** Client -> VIP, from tuple[proto, clientIp, clientPort, vip, vport]. Flow index, or -1 when absent or expired. */
  lookupTuple(now: number): number {
    const a = this.tuple, k = TUPLE_INPUT;
    const proto = a[T_PROTO], clientIp = a[T_CLIENT], vip = a[T_VIP];
    const ports = ((a[T_CLIENT_PORT] << 16) | a[T_VPORT]) >>> 0;
    k[0] = this.seed; k[1] = proto; k[2] = clientIp; k[3] = a[T_CLIENT_PORT]; k[4] = vip; k[5] = a[T_VPORT];
    const h = hashTupleInput();
    const tag = tagOf(h);
    const index = this.index, records = this.records, mask = this.indexMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === 0) return -1;
      if ((entry >>> 25) !== tag || (entry & 1) !== 0) continue;
      const flow = (entry & REF_MASK) >>> 1;
      const b = flow * RECORD_WORDS;
      if (records[b + W_CLIENT] === clientIp && records[b + W_VIP] === vip && records[b + W_PORTS] === ports &&
          ((records[b + W_META] >>> 8) & 0xff) === proto) {
        // Forward keys are unique (insert replaces), so an expired match means absent.
        return records[b + W_EXPIRES] > now ? flow : -1;
      }
    }
  }

  /**
   * Real server -> client (NAT replies), by the reply tuple: tuple[proto, clientIp, clientPort,
   * -, -, rsIp, rsPort]. Flow index or -1.
   */
  lookupReplyTuple(now: number): number {
    const a = this.tuple, k = TUPLE_INPUT;
    const proto = a[T_PROTO], rsIp = a[T_RS_IP], rsPort = a[T_RS_PORT], clientIp = a[T_CLIENT], clientPort = a[T_CLIENT_PORT];
    k[0] = this.seed; k[1] = proto; k[2] = rsIp; k[3] = rsPort; k[4] = clientIp; k[5] = clientPort;
    const h = hashTupleInput();
    const tag = tagOf(h);
    const index = this.index, records = this.records, mask = this.indexMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === 0) return -1;
      if ((entry >>> 25) !== tag || (entry & 1) !== 1) continue;
      const flow = (entry & REF_MASK) >>> 1;
      const b = flow * RECORD_WORDS;
      const meta = records[b + W_META];
      if (records[b + W_RS_IP] === rsIp && records[b + W_CLIENT] === clientIp &&
          (meta >>> 16) === rsPort && ((meta >>> 8) & 0xff) === proto &&
          (records[b + W_PORTS] >>> 16) === clientPort && records[b + W_EXPIRES] > now) {
        // Two flows may share a reply tuple (IPVS has the same ambiguity); an expired one is
        // skipped so the live one behind it is found.
        return flow;
      }
    }
  }

  /**
   * A new connection for the whole tuple, in state NONE and counted as inactive until its first
   * packet's transition (as ip_vs_bind_dest does). Replaces a flow with the same forward key.
   * When the table is full, evicts first (see the header). trackReply = NAT: the reply tuple is
   * indexed and the normal two-direction state table applies; otherwise the input-only table.
   * Then feed the packet itself to onTcpPacket/onUdpPacket, as ip_vs_in does after scheduling.
   */
  insertTuple(service: number, rsId: number, now: number, trackReply: boolean): number {
    const a = this.tuple, k = TUPLE_INPUT;
    const proto = a[T_PROTO], clientIp = a[T_CLIENT], clientPort = a[T_CLIENT_PORT], vip = a[T_VIP], vport = a[T_VPORT];
    const rsIp = a[T_RS_IP], rsPort = a[T_RS_PORT];
    k[0] = this.seed; k[1] = proto;
    let replyHash = 0;
    if (trackReply) {
      k[2] = rsIp; k[3] = rsPort; k[4] = clientIp; k[5] = clientPort;
      replyHash = hashTupleInput();
    }
    k[2] = clientIp; k[3] = clientPort; k[4] = vip; k[5] = vport;
    const forwardHash = hashTupleInput();
    // The key already present, expired or not (no expiry is before -1): replace it.
    const existing = this.lookupTuple(-1);
    if (existing >= 0) {
      if (this.records[existing * RECORD_WORDS + W_EXPIRES] <= now) this.stats.expired++;
      this.freeFlow(existing, now);
    }
    if (this.stats.size >= this.capacity) this.evictOne(now);
    const flow = this.allocate();
    const b = flow * RECORD_WORDS, r = this.records;
    r[b + W_CLIENT] = clientIp;
    r[b + W_VIP] = vip;
    r[b + W_PORTS] = (clientPort << 16) | vport;
    r[b + W_RS_IP] = rsIp;
    r[b + W_META] = (rsPort << 16) | ((proto & 0xff) << 8) | TCP_NONE;
    r[b + W_OWNER] = (service << 16) | (rsId & 0xffff);
    r[b + W_EXPIRES] = now + (proto === Proto.TCP ? this.timeoutBySlot[TCP_NONE] : this.timeoutBySlot[UDP_TIMEOUT_INDEX]);
    const flags = F_INACTIVE | (trackReply ? F_TRACK_REPLY : F_NOOUTPUT);
    r[b + W_AUX] = flags << 24;
    this.indexAdd(forwardHash, flow * 2);
    if (trackReply) this.indexAdd(replyHash, flow * 2 + 1);
    this.inactiveConns[rsId & 0xffff]++;
    this.linkTail(flow, LIST_EMBRYONIC);
    this.stats.size++;
    this.stats.inserts++;
    return flow;
  }

  /** IPVS set_tcp_state(): state, Active/InAct counters, and expiry from the current timeouts. */
  onTcpPacket(flow: number, fromClient: boolean, tcpFlags: number, now: number): void {
    const r = this.records, b = flow * RECORD_WORDS;
    const aux = r[b + W_AUX];
    let flags = aux >>> 24;
    let direction: number;
    if (fromClient) {
      direction = (flags & F_NOOUTPUT) !== 0 ? DIR_INPUT_ONLY : DIR_INPUT;
    } else {
      direction = DIR_OUTPUT;
      flags &= ~F_NOOUTPUT;   // a reply was seen: both directions from now on, as IPVS
      r[b + W_AUX] = (flags << 24) | (aux & TEMPLATE_MASK);
    }
    const nextState = nextTcpState(r[b + W_META] & 0xff, direction, tcpFlags);
    this.setTcpState(flow, nextState);
    r[b + W_EXPIRES] = now + this.timeoutBySlot[nextState];
  }

  /**
   * A flow another director had (connection sync): inserted from `tuple` as insertTuple does,
   * then given that director's TCP state and `timeout` seconds (0: this table's timeout for the
   * state). UDP flows count as assured (protected from eviction): they carried traffic there.
   */
  importTuple(service: number, rsId: number, state: number, timeout: number, now: number, trackReply: boolean): number {
    const flow = this.insertTuple(service, rsId, now, trackReply);
    const r = this.records, b = flow * RECORD_WORDS;
    if (((r[b + W_META] >>> 8) & 0xff) === Proto.TCP) {
      this.setTcpState(flow, state);
      r[b + W_EXPIRES] = now + (timeout > 0 ? timeout : this.timeoutBySlot[state]);
    } else {
      r[b + W_AUX] |= (F_SEEN | F_ASSURED) << 24;
      this.unlink(flow, LIST_EMBRYONIC);
      this.linkTail(flow, LIST_PROTECTED);
      r[b + W_EXPIRES] = now + (timeout > 0 ? timeout : this.timeoutBySlot[UDP_TIMEOUT_INDEX]);
    }
    return flow;
  }

  /** Moves a TCP flow to `nextState`: Active/InAct counters and the eviction lists follow. */
  private setTcpState(flow: number, nextState: number): void {
    const r = this.records, b = flow * RECORD_WORDS;
    const meta = r[b + W_META];
    const state = meta & 0xff;
    if (nextState === state) return;
    const aux = r[b + W_AUX];
    let flags = aux >>> 24;
    const rsId = r[b + W_OWNER] & 0xffff;
    const active = TCP_STATE_ACTIVE[nextState] === 1;
    if ((flags & F_INACTIVE) === 0 && !active) {
      this.activeConns[rsId]--;
      this.inactiveConns[rsId]++;
      flags |= F_INACTIVE;
    } else if ((flags & F_INACTIVE) !== 0 && active) {
      this.activeConns[rsId]++;
      this.inactiveConns[rsId]--;
      flags &= ~F_INACTIVE;
    }
    r[b + W_META] = (meta & ~0xff) | nextState;
    r[b + W_AUX] = (flags << 24) | (aux & TEMPLATE_MASK);
    const wasProtected = state === TCP_ESTABLISHED, isProtected = nextState === TCP_ESTABLISHED;
    if (wasProtected !== isProtected) {
      this.unlink(flow, wasProtected ? LIST_PROTECTED : LIST_EMBRYONIC);
      this.linkTail(flow, isProtected ? LIST_PROTECTED : LIST_EMBRYONIC);
    }
  }

  /** UDP has one state; every packet restarts the udp timeout. */
  onUdpPacket(flow: number, now: number): void {
    const r = this.records, b = flow * RECORD_WORDS;
    const aux = r[b + W_AUX];
    const flags = aux >>> 24;
    if ((flags & F_ASSURED) === 0) {
      if ((flags & F_SEEN) === 0) {
        r[b + W_AUX] = aux | (F_SEEN << 24);
      } else {
        r[b + W_AUX] = aux | (F_ASSURED << 24);
        this.unlink(flow, LIST_EMBRYONIC);
        this.linkTail(flow, LIST_PROTECTED);
      }
    }
    r[b + W_EXPIRES] = now + this.timeoutBySlot[UDP_TIMEOUT_INDEX];
  }

  /**
   * Incremental sweep, once per batch: visits up to maxVisits slots from where the last call
   * stopped, frees the expired ones (fixing counters and templates). Returns how many it freed.
   * maxVisits = slotCount sweeps the whole table.
   */
  expireSome(now: number, maxVisits: number): number {
    const limit = Math.min(maxVisits, this.highWater);
    const r = this.records;
    let cursor = this.sweepCursor, freed = 0;
    for (let visited = 0; visited < limit; visited++) {
      if (cursor >= this.highWater) cursor = 0;
      const b = cursor * RECORD_WORDS;
      if (r[b + W_META] !== 0 && r[b + W_EXPIRES] <= now) {
        this.freeFlow(cursor, now);
        this.stats.expired++;
        freed++;
      }
      cursor++;
    }
    this.sweepCursor = cursor;
    return freed;
  }

  // ---- accessors (flow must be an index lookupTuple/insertTuple returned) ---------------------------

  rsId(flow: number): number { return this.records[flow * RECORD_WORDS + W_OWNER] & 0xffff; }
  service(flow: number): number { return this.records[flow * RECORD_WORDS + W_OWNER] >>> 16; }
  rsIp(flow: number): number { return this.records[flow * RECORD_WORDS + W_RS_IP]; }
  rsPort(flow: number): number { return this.records[flow * RECORD_WORDS + W_META] >>> 16; }
  proto(flow: number): number { return (this.records[flow * RECORD_WORDS + W_META] >>> 8) & 0xff; }
  /** TCP state number (TCP_STATE_NAMES); 0 for UDP. */
  state(flow: number): number { return this.records[flow * RECORD_WORDS + W_META] & 0xff; }
  expiresAt(flow: number): number { return this.records[flow * RECORD_WORDS + W_EXPIRES]; }
  clientIp(flow: number): number { return this.records[flow * RECORD_WORDS + W_CLIENT]; }
  clientPort(flow: number): number { return this.records[flow * RECORD_WORDS + W_PORTS] >>> 16; }
  vip(flow: number): number { return this.records[flow * RECORD_WORDS + W_VIP]; }
  vport(flow: number): number { return this.records[flow * RECORD_WORDS + W_PORTS] & 0xffff; }
  /** Counted in activeConns (true) or inactiveConns (false). */
  isActive(flow: number): boolean { return ((this.records[flow * RECORD_WORDS + W_AUX] >>> 24) & F_INACTIVE) === 0; }
  /** Persistence template this flow holds, or -1. */
  template(flow: number): number { return (this.records[flow * RECORD_WORDS + W_AUX] & TEMPLATE_MASK) - 1; }

  // ---- control path ----------------------------------------------------------------------

  /**
   * The connection was scheduled through persistence template `template` (from the
   * PersistenceTable given to the constructor): the template stays alive while this flow does.
   */
  attachTemplate(flow: number, template: number, now: number): void {
    if (this.templates === null || template < 0) return;
    const b = flow * RECORD_WORDS, aux = this.records[b + W_AUX];
    const old = (aux & TEMPLATE_MASK) - 1;
    if (old === template) return;
    this.templates.attach(template);
    this.records[b + W_AUX] = (aux & ~TEMPLATE_MASK) | (template + 1);
    if (old >= 0) this.templates.release(old, now);
  }

  /**
   * A real server was removed (ipvsadm -d, or a failed health check). With
   * expire_nodest_conn = 0 its connections stay until they time out (ulvs keeps forwarding
   * them: docs/ARCHITECTURE.md, "Drain on removal"). With expire_nodest_conn = 1 (Linux >= 5.9,
   * ip_vs_expire_nodest_conn_flush) they are all expired at once, so the client's next packets get a reset or a new server.
   * Returns the number of connections freed. Walks the whole table: control path only.
   */
  dropRealServer(rsId: number, now: number, expireNow: boolean = this.expireNodestConn): number {
    this.templates?.dropRealServer(rsId, now);
    if (!expireNow) return 0;
    let freed = 0;
    const r = this.records;
    for (let flow = 0; flow < this.highWater; flow++) {
      const b = flow * RECORD_WORDS;
      if (r[b + W_META] !== 0 && (r[b + W_OWNER] & 0xffff) === (rsId & 0xffff)) {
        this.freeFlow(flow, now);
        freed++;
      }
    }
    this.stats.flushed += freed;
    return freed;
  }

  /** Every live (not expired) flow, for `ulvs conns`. Allocates. */
  forEach(now: number, visit: (entry: FlowEntry) => void): void {
    const r = this.records;
    for (let flow = 0; flow < this.highWater; flow++) {
      const b = flow * RECORD_WORDS;
      const meta = r[b + W_META];
      if (meta === 0 || r[b + W_EXPIRES] <= now) continue;
      const proto = (meta >>> 8) & 0xff;
      visit({
        proto,
        state: proto === Proto.TCP ? TCP_STATE_NAMES[meta & 0xff] : UDP_STATE_NAME,
        expiresIn: r[b + W_EXPIRES] - now,
        clientIp: r[b + W_CLIENT], clientPort: r[b + W_PORTS] >>> 16,
        vip: r[b + W_VIP], vport: r[b + W_PORTS] & 0xffff,
        rsIp: r[b + W_RS_IP], rsPort: meta >>> 16,
        service: r[b + W_OWNER] >>> 16, rsId: r[b + W_OWNER] & 0xffff,
      });
    }
  }

  snapshot(now: number, limit = Infinity): FlowEntry[] {
    const out: FlowEntry[] = [];
    this.forEach(now, (entry) => { if (out.length < limit) out.push(entry); });
    return out;
  }

  /** Frees one flow now (e.g. the dataplane saw a packet for a removed destination). */
  expireNow(flow: number, now: number): void {
    if (this.records[flow * RECORD_WORDS + W_META] === 0) return;
    this.freeFlow(flow, now);
    this.stats.expired++;
  }

  // ---- internals ---------------------------------------------------------------------------

  private allocate(): number {
    const flow = this.freeHead;
    if (flow !== NIL) {
      this.freeHead = this.next[flow];
      return flow;
    }
    return this.highWater++;
  }

  private evictOne(now: number): void {
    let victim = this.listHead[LIST_EMBRYONIC];
    if (victim === NIL) victim = this.listHead[LIST_PROTECTED];
    if (victim === NIL) return;
    if (this.records[victim * RECORD_WORDS + W_EXPIRES] <= now) this.stats.expired++;
    else this.stats.evictions++;
    this.freeFlow(victim, now);
  }

  private freeFlow(flow: number, now: number): void {
    const r = this.records, b = flow * RECORD_WORDS;
    const aux = r[b + W_AUX];
    const flags = aux >>> 24;
    this.indexRemove(flow * 2);
    if ((flags & F_TRACK_REPLY) !== 0) this.indexRemove(flow * 2 + 1);
    const rsId = r[b + W_OWNER] & 0xffff;
    if ((flags & F_INACTIVE) !== 0) this.inactiveConns[rsId]--;
    else this.activeConns[rsId]--;
    this.unlink(flow, this.listOf(b));
    const template = (aux & TEMPLATE_MASK) - 1;
    if (template >= 0 && this.templates !== null) this.templates.release(template, now);
    r[b + W_META] = 0;
    r[b + W_AUX] = 0;
    this.next[flow] = this.freeHead;
    this.freeHead = flow;
    this.stats.size--;
  }

  private listOf(b: number): number {
    const meta = this.records[b + W_META];
    if (((meta >>> 8) & 0xff) === Proto.TCP) return (meta & 0xff) === TCP_ESTABLISHED ? LIST_PROTECTED : LIST_EMBRYONIC;
    return ((this.records[b + W_AUX] >>> 24) & F_ASSURED) !== 0 ? LIST_PROTECTED : LIST_EMBRYONIC;
  }

  private linkTail(flow: number, list: number): void {
    const tail = this.listTail[list];
    this.prev[flow] = tail;
    this.next[flow] = NIL;
    if (tail === NIL) this.listHead[list] = flow;
    else this.next[tail] = flow;
    this.listTail[list] = flow;
  }

  private unlink(flow: number, list: number): void {
    const p = this.prev[flow], n = this.next[flow];
    if (p === NIL) this.listHead[list] = n;
    else this.next[p] = n;
    if (n === NIL) this.listTail[list] = p;
    else this.prev[n] = p;
  }

  /** Hash of the key an index reference stands for, recomputed from the record. */
  private hashOfRef(ref: number): number {
    const r = this.records, b = (ref >>> 1) * RECORD_WORDS, k = TUPLE_INPUT;
    const meta = r[b + W_META], ports = r[b + W_PORTS];
    k[0] = this.seed;
    k[1] = (meta >>> 8) & 0xff;
    if ((ref & 1) === 0) {
      k[2] = r[b + W_CLIENT]; k[3] = ports >>> 16; k[4] = r[b + W_VIP]; k[5] = ports & 0xffff;
    } else {
      k[2] = r[b + W_RS_IP]; k[3] = meta >>> 16; k[4] = r[b + W_CLIENT]; k[5] = ports >>> 16;
    }
    return hashTupleInput();
  }

  private indexAdd(h: number, ref: number): void {
    const index = this.index, mask = this.indexMask;
    let i = h & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = ((tagOf(h) << 25) | ref) >>> 0;
  }

  /** Backward-shift deletion: later entries of the run move into the hole when allowed. */
  private indexRemove(ref: number): void {
    const index = this.index, mask = this.indexMask;
    let hole = this.hashOfRef(ref) & mask;
    for (;;) {
      const entry = index[hole];
      if (entry === 0) return;   // not indexed: nothing to remove
      if ((entry & REF_MASK) === ref) break;
      hole = (hole + 1) & mask;
    }
    for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const entry = index[j];
      const home = this.hashOfRef(entry & REF_MASK) & mask;
      // The entry may move back to the hole only if the hole lies between its home and j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = entry;
        hole = j;
      }
    }
    index[hole] = 0;
  }
}

/** 7-bit tag from the 30-bit hash's top bits, top bit forced so an entry is never 0 (= empty). */
function tagOf(h: number): number {
  return 0x40 | (h >>> 24);
}

