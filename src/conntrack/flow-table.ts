// The connection table: IPVS's ip_vs_conn table as typed arrays, bounded, with no allocation,
// no throw and no logging on the per-packet methods (lookupTuple, lookupReplyTuple, insertTuple,
// onTcpPacket, onUdpPacket, expireSome).
//
// Layout (bytes per flow at capacity C = 2^20: 56.5; at 1e6: 57.3):
//  - records: 8 x uint32 per flow, key and value together (flow-record.ts). 32 bytes.
//  - prev/next: the two eviction lists, and the free list (flow-slots.ts). 8 bytes.
//  - index: open addressing, a hash tag + reference per key, two keys per flow for NAT
//    (flow-index.ts). 16 bytes at 2^20 (16.8 at 1e6).
// The three come from FlowTableOptions.memory: in the director, the addon's anonymous memory
// advised MADV_HUGEPAGE (src/io/table-memory.ts), so lookups in ~56 MiB take fewer TLB misses.
// Flow indices are stable for the life of a flow (records never move, only index entries do),
// so callers may keep per-flow side arrays of length slotCount indexed by flow.
// (Measured alternative, not taken: records laid out as the hash table itself saves the index
// access on a hit, ~170 vs ~250 ns at 1e6 flows here, but records then move on deletion.)
//
// A lookup is two dependent cache misses at a million flows (the index entry, then the
// record). The dataplane hides most of them per batch (issue 18): its pre-pass calls
// hintForward/hintReply for every packet (hash once, stash key and hash by batch slot), then
// touchHinted loads all the slots' index entries in one loop and their records in a second, so
// a batch's misses overlap instead of queueing one packet after another; the per-packet pass
// sets hintSlot, and lookupTuple/lookupReplyTuple take the stashed hash when the key matches
// (insertTuple reuses the hash of the lookup that missed: one hash per new flow key).

// `now` is whole seconds from a coarse clock the dataplane updates per batch. Keep it below
// 2^30 (e.g. seconds since the director started, not since 1970) so V8 never boxes it; expiry is
// stored as uint32 `now + timeout` and a flow is gone once `now >= expiry`.
//
// Eviction when full (flow-slots.ts): insert into a full table evicts the oldest embryonic flow
// (TCP not ESTABLISHED, UDP seen once), and only when there is none the oldest protected one.
// So a SYN flood from random sources recycles its own entries while established connections
// keep their slots, and a new connection always gets in.

import { TUPLE_INPUT, hashTupleInput, randomSeed } from './hash.js';
import { indexAdd, indexRemove, indexSizeFor, tagOf } from './flow-index.js';
import { Flag, FlowRecords, Layout, Proto, Word } from './flow-record.js';
import { EvictionList } from './flow-slots.js';
import type { FlowStats, FlowTableOptions } from './flow-types.js';
import {
  DEFAULT_TIMEOUTS, DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, TCP_ESTABLISHED, TCP_NONE,
  TCP_STATE_ACTIVE, UDP_TIMEOUT_INDEX, mergeTimeouts,
  nextTcpState, timeoutTable, type Timeouts,
} from './tcp-states.js';
import type { PersistenceTable } from './persistence.js';

export type { FlowEntry, FlowStats, FlowTableOptions } from './flow-types.js';
export { Proto } from './flow-record.js';

/** References in the index are 25 bits (flow * 2 + direction). */
export const MAX_FLOW_CAPACITY = 1 << 24;
/** Real-server ids are 16 bits in the record; the control plane assigns them. */
export const MAX_REAL_SERVER_IDS = 1 << 16;
/**
 * Batch slots that can carry a hint (hintForward/hintReply): a batch's first HINT_SLOTS packets.
 * The worker's batches are 64 frames.
 */
export const HINT_SLOTS = 256;
// Positions in FlowTable.tuple.
const T_PROTO = 0, T_CLIENT = 1, T_CLIENT_PORT = 2, T_VIP = 3, T_VPORT = 4, T_RS_IP = 5, T_RS_PORT = 6;

export class FlowTable extends FlowRecords {
  readonly capacity: number;
  readonly activeConns: Uint32Array;
  readonly inactiveConns: Uint32Array;
  readonly stats: FlowStats = { evictions: 0, inserts: 0, expired: 0, flushed: 0, size: 0 };
  /** expire_nodest_conn: what dropRealServer does when not told (see there). */
  expireNodestConn: boolean;

  /** The allocator the large arrays came from (FlowTableOptions.memory): a sibling table uses it too. */
  readonly tableMemory: (bytes: number) => ArrayBuffer;
  /** Flow indices are 0 .. slotCount - 1 (= capacity): size per-flow side arrays with it. */
  readonly slotCount: number;
  private readonly index: Uint32Array;
  private readonly indexMask: number;
  private sweepCursor = 0;
  private readonly seed: number;
  private currentTimeouts: Timeouts;
  private readonly timeoutBySlot: Uint32Array;
  private readonly templates: PersistenceTable | null;
  /** Full NAT: where a freed FULL_NAT flow gives its local port back (src/conntrack/local-ports.ts). */
  localPorts: { release(flow: number): void } | null = null;
  /**
   * The IPv6 table (FlowTable6): its CLIENT word is a counted handle into this address table,
   * released when the flow is freed. null for IPv4 (one never-taken branch per freed flow).
   */
  protected clientAddresses: { release(handle: number): void } | null = null;

  // Batch hints (hintForward, hintReply, touchHinted): per batch slot the key hashed in the
  // pre-pass ([proto, addrA, portA << 16 | portB, addrB]), its hash, the index entry and the
  // flow that entry points at (-1: none). A lookup whose key equals its slot's uses that hash;
  // any other key is hashed again, so a stale or missing hint costs a compare, never a wrong answer.
  /** The batch slot of the packet the next lookupTuple / lookupReplyTuple is for; -1: none. */
  hintSlot = -1;
  private readonly hintKey = new Uint32Array(HINT_SLOTS * 4);
  private readonly hintHash = new Int32Array(HINT_SLOTS);
  private readonly hintEntry = new Uint32Array(HINT_SLOTS);
  /** The flow each slot's index entry points at, or -1: callers touch their side arrays with it. */
  readonly hintFlow = new Int32Array(HINT_SLOTS);
  /** Lookups that used a batch hint's hash (the pipeline's pre-pass gate reads it). */
  hintsUsed = 0;
  /** XOR of the words the pre-pass read, kept so the JIT cannot drop the loads. */
  private hintSink = 0;
  /** The forward key and hash lookupTuple last computed: insertTuple of the same key reuses it. */
  private readonly lastKey = new Uint32Array(4);
  private lastHash = 0;

  constructor(opts: FlowTableOptions) {
    const capacity = opts.capacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_FLOW_CAPACITY) {
      throw new RangeError(`conn table capacity must be a whole number 1..${MAX_FLOW_CAPACITY}, got ${capacity}`);
    }
    const memory = opts.memory ?? ((bytes: number) => new ArrayBuffer(bytes));
    super(capacity, memory);
    this.tableMemory = memory;
    this.capacity = capacity;
    this.slotCount = capacity;
    const indexSize = indexSizeFor(capacity);
    this.index = new Uint32Array(memory(indexSize * 4), 0, indexSize);
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
    const totalBytes = this.records.byteLength + this.slots.byteLength + this.index.byteLength +
      this.timeoutBySlot.byteLength + this.activeConns.byteLength + this.inactiveConns.byteLength;
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
    const a = this.tuple;
    const proto = a[T_PROTO], clientIp = a[T_CLIENT], vip = a[T_VIP];
    const ports = ((a[T_CLIENT_PORT] << 16) | a[T_VPORT]) >>> 0;
    const j = this.hintSlot, hk = this.hintKey, o = j * 4;
    let h: number;
    if (j >= 0 && hk[o] === proto && hk[o + 1] === clientIp && hk[o + 2] === ports && hk[o + 3] === vip) {
      h = this.hintHash[j];
      this.hintsUsed++;
    } else {
      const k = TUPLE_INPUT;
      k[0] = this.seed; k[1] = proto; k[2] = clientIp; k[3] = a[T_CLIENT_PORT]; k[4] = vip; k[5] = a[T_VPORT];
      h = hashTupleInput();
    }
    const last = this.lastKey;
    last[0] = proto; last[1] = clientIp; last[2] = ports; last[3] = vip;
    this.lastHash = h;
    // probeForward's loop, written out: called, lookupTuple stays too large for TurboFan to
    // inline it into forwardRequest, which then inlines parseFrame instead (~20 ns a packet
    // better at 1k flows, measured).
    const tag = tagOf(h);
    const index = this.index, records = this.records, mask = this.indexMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === 0) return -1;
      if ((entry >>> 25) !== tag || (entry & 1) !== 0) continue;
      const flow = (entry & Layout.REF_MASK) >>> 1;
      const b = flow * Layout.RECORD_WORDS;
      if (records[b + Word.CLIENT] === clientIp && records[b + Word.VIP] === vip && records[b + Word.PORTS] === ports &&
          ((records[b + Word.META] >>> 8) & 0xff) === proto) {
        // Forward keys are unique (insert replaces), so an expired match means absent.
        return records[b + Word.EXPIRES] > now ? flow : -1;
      }
    }
  }

  /**
   * The flow holding the forward key in lastKey ([proto, clientIp, ports, vip], read from there:
   * addresses passed as arguments would be boxed when the call is not inlined) with hash h,
   * expired or not; -1.
   */
  private probeForward(h: number): number {
    const last = this.lastKey;
    const proto = last[0], clientIp = last[1], ports = last[2], vip = last[3];
    const tag = tagOf(h);
    const index = this.index, records = this.records, mask = this.indexMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === 0) return -1;
      if ((entry >>> 25) !== tag || (entry & 1) !== 0) continue;
      const flow = (entry & Layout.REF_MASK) >>> 1;
      const b = flow * Layout.RECORD_WORDS;
      if (records[b + Word.CLIENT] === clientIp && records[b + Word.VIP] === vip && records[b + Word.PORTS] === ports &&
          ((records[b + Word.META] >>> 8) & 0xff) === proto) {
        return flow;
      }
    }
  }

  /**
   * Pre-pass of a batch, first step: hashes the forward key in tuple[proto, clientIp,
   * clientPort, vip, vport] for batch slot j (< HINT_SLOTS); then touchHinted loads the
   * slots' index entries and records, then the per-packet pass runs with hintSlot = j.
   */
  hintForward(j: number): void {
    const a = this.tuple, k = TUPLE_INPUT;
    const proto = a[T_PROTO], clientIp = a[T_CLIENT], vip = a[T_VIP];
    k[0] = this.seed; k[1] = proto; k[2] = clientIp; k[3] = a[T_CLIENT_PORT]; k[4] = vip; k[5] = a[T_VPORT];
    const h = hashTupleInput();
    const hk = this.hintKey, o = j * 4;
    hk[o] = proto; hk[o + 1] = clientIp; hk[o + 2] = ((a[T_CLIENT_PORT] << 16) | a[T_VPORT]) >>> 0; hk[o + 3] = vip;
    this.hintHash[j] = h;
  }

  /** The same for a NAT reply key, tuple[proto, clientIp, clientPort, -, -, rsIp, rsPort]. */
  hintReply(j: number): void {
    const a = this.tuple, k = TUPLE_INPUT;
    const proto = a[T_PROTO], clientIp = a[T_CLIENT], rsIp = a[T_RS_IP];
    k[0] = this.seed; k[1] = proto; k[2] = rsIp; k[3] = a[T_RS_PORT]; k[4] = clientIp; k[5] = a[T_CLIENT_PORT];
    const h = hashTupleInput();
    const hk = this.hintKey, o = j * 4;
    hk[o] = proto | 0x100; hk[o + 1] = rsIp; hk[o + 2] = ((a[T_RS_PORT] << 16) | a[T_CLIENT_PORT]) >>> 0; hk[o + 3] = clientIp;
    this.hintHash[j] = h;
  }

  /** Slot j carries no hint (its frame is not a TCP/UDP IPv4 packet the pre-pass could read). */
  clearHint(j: number): void {
    this.hintKey[j * 4] = 0;
  }

  /**
   * Pre-pass, second step, for the m slots listed in slots[0..m): loads their index entries in
   * a loop of loads alone (they do not depend on each other, so the CPU overlaps their cache
   * misses), then for each the first entry of the run with the key's tag and direction (a
   * reply hint wants the reply direction) and a load of its record's line; hintFlow[i] is that
   * flow or -1 (i as in slots). A guess that only warms the cache: the lookups decide.
   */
  touchHinted(slots: Uint8Array, m: number): void {
    const index = this.index, records = this.records, mask = this.indexMask;
    const hk = this.hintKey, hh = this.hintHash, he = this.hintEntry, hf = this.hintFlow;
    for (let i = 0; i < m; i++) he[i] = index[hh[slots[i]] & mask];
    let sink = 0;
    for (let i = 0; i < m; i++) {
      let entry = he[i];
      hf[i] = -1;
      const j = slots[i], h = hh[j], tag = tagOf(h), dir = hk[j * 4] >>> 8;
      // A few entries of the run: they share the first one's cache line, mostly.
      for (let e = h & mask, step = 0; entry !== 0 && step < 4; step++) {
        if ((entry >>> 25) === tag && (entry & 1) === dir) {
          const flow = (entry & Layout.REF_MASK) >>> 1;
          sink ^= records[flow * Layout.RECORD_WORDS + Word.EXPIRES];
          hf[i] = flow;
          break;
        }
        e = (e + 1) & mask;
        entry = index[e];
      }
    }
    this.hintSink ^= sink;
  }

  /**
   * Real server -> client (NAT replies), by the reply tuple: tuple[proto, clientIp, clientPort,
   * -, -, rsIp, rsPort]. Flow index or -1.
   */
  lookupReplyTuple(now: number): number {
    const a = this.tuple;
    const proto = a[T_PROTO], rsIp = a[T_RS_IP], rsPort = a[T_RS_PORT], clientIp = a[T_CLIENT], clientPort = a[T_CLIENT_PORT];
    const j = this.hintSlot, hk = this.hintKey, o = j * 4;
    let h: number;
    if (j >= 0 && hk[o] === (proto | 0x100) && hk[o + 1] === rsIp && hk[o + 2] === (((rsPort << 16) | clientPort) >>> 0) && hk[o + 3] === clientIp) {
      h = this.hintHash[j];
      this.hintsUsed++;
    } else {
      const k = TUPLE_INPUT;
      k[0] = this.seed; k[1] = proto; k[2] = rsIp; k[3] = rsPort; k[4] = clientIp; k[5] = clientPort;
      h = hashTupleInput();
    }
    const tag = tagOf(h);
    const index = this.index, records = this.records, mask = this.indexMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = index[i];
      if (entry === 0) return -1;
      if ((entry >>> 25) !== tag || (entry & 1) !== 1) continue;
      const flow = (entry & Layout.REF_MASK) >>> 1;
      const b = flow * Layout.RECORD_WORDS;
      const meta = records[b + Word.META];
      if (records[b + Word.RS_IP] === rsIp && records[b + Word.CLIENT] === clientIp &&
          (meta >>> 16) === rsPort && ((meta >>> 8) & 0xff) === proto &&
          (records[b + Word.PORTS] >>> 16) === clientPort && records[b + Word.EXPIRES] > now) {
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
    const ports = ((clientPort << 16) | vport) >>> 0;
    const last = this.lastKey;
    let forwardHash: number;
    if (last[0] === proto && last[1] === clientIp && last[2] === ports && last[3] === vip) {
      forwardHash = this.lastHash;   // the lookup that found no flow for this packet hashed it
    } else {
      k[2] = clientIp; k[3] = clientPort; k[4] = vip; k[5] = vport;
      forwardHash = hashTupleInput();
    }
    last[0] = proto; last[1] = clientIp; last[2] = ports; last[3] = vip;
    this.lastHash = forwardHash;
    // The key already present, expired or not: replace it.
    const existing = this.probeForward(forwardHash);
    if (existing >= 0) {
      if (this.records[existing * Layout.RECORD_WORDS + Word.EXPIRES] <= now) this.stats.expired++;
      this.freeFlow(existing, now);
    }
    if (this.stats.size >= this.capacity) this.evictOne(now);
    const flow = this.slots.allocate();
    const b = flow * Layout.RECORD_WORDS, r = this.records;
    r[b + Word.CLIENT] = clientIp;
    r[b + Word.VIP] = vip;
    r[b + Word.PORTS] = (clientPort << 16) | vport;
    r[b + Word.RS_IP] = rsIp;
    r[b + Word.META] = (rsPort << 16) | ((proto & 0xff) << 8) | TCP_NONE;
    r[b + Word.OWNER] = (service << 16) | (rsId & 0xffff);
    r[b + Word.EXPIRES] = now + (proto === Proto.TCP ? this.timeoutBySlot[TCP_NONE] : this.timeoutBySlot[UDP_TIMEOUT_INDEX]);
    const flags = Flag.INACTIVE | (trackReply ? Flag.TRACK_REPLY : Flag.NOOUTPUT);
    r[b + Word.AUX] = flags << 24;
    indexAdd(this.index, this.indexMask, forwardHash, flow * 2);
    if (trackReply) indexAdd(this.index, this.indexMask, replyHash, flow * 2 + 1);
    this.inactiveConns[rsId & 0xffff]++;
    this.slots.linkTail(flow, EvictionList.EMBRYONIC);
    this.stats.size++;
    this.stats.inserts++;
    return flow;
  }

  /** IPVS set_tcp_state(): state, Active/InAct counters, and expiry from the current timeouts. */
  onTcpPacket(flow: number, fromClient: boolean, tcpFlags: number, now: number): void {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const aux = r[b + Word.AUX];
    let flags = aux >>> 24;
    let direction: number;
    if (fromClient) {
      direction = (flags & Flag.NOOUTPUT) !== 0 ? DIR_INPUT_ONLY : DIR_INPUT;
    } else {
      direction = DIR_OUTPUT;
      flags &= ~Flag.NOOUTPUT;   // a reply was seen: both directions from now on, as IPVS
      r[b + Word.AUX] = (flags << 24) | (aux & Layout.TEMPLATE_MASK);
    }
    const nextState = nextTcpState(r[b + Word.META] & 0xff, direction, tcpFlags);
    this.setTcpState(flow, nextState);
    r[b + Word.EXPIRES] = now + this.timeoutBySlot[nextState];
  }

  /**
   * A flow another director had (connection sync): inserted from `tuple` as insertTuple does,
   * then given that director's TCP state and `timeout` seconds (0: this table's timeout for the
   * state). UDP flows count as assured (protected from eviction): they carried traffic there.
   * `counted` false: a shadow copy (dataplane.queues > 1: every worker holds each synced flow,
   * one counts it); it is in no ActiveConn/InActConn and no listing until claim().
   */
  importTuple(service: number, rsId: number, state: number, timeout: number, now: number, trackReply: boolean, counted = true): number {
    const flow = this.insertTuple(service, rsId, now, trackReply);
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    if (!counted) this.disown(flow);
    if (((r[b + Word.META] >>> 8) & 0xff) === Proto.TCP) {
      this.setTcpState(flow, state);
      r[b + Word.EXPIRES] = now + (timeout > 0 ? timeout : this.timeoutBySlot[state]);
    } else {
      r[b + Word.AUX] |= (Flag.SEEN | Flag.ASSURED) << 24;
      this.slots.unlink(flow, EvictionList.EMBRYONIC);
      this.slots.linkTail(flow, EvictionList.PROTECTED);
      r[b + Word.EXPIRES] = now + (timeout > 0 ? timeout : this.timeoutBySlot[UDP_TIMEOUT_INDEX]);
    }
    return flow;
  }

  /** Moves a TCP flow to `nextState`: Active/InAct counters and the eviction lists follow. */
  private setTcpState(flow: number, nextState: number): void {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const meta = r[b + Word.META];
    const state = meta & 0xff;
    if (nextState === state) return;
    const aux = r[b + Word.AUX];
    let flags = aux >>> 24;
    const rsId = r[b + Word.OWNER] & 0xffff;
    const active = TCP_STATE_ACTIVE[nextState] === 1;
    const counted = (flags & Flag.SHADOW) === 0;
    if ((flags & Flag.INACTIVE) === 0 && !active) {
      if (counted) { this.activeConns[rsId]--; this.inactiveConns[rsId]++; }
      flags |= Flag.INACTIVE;
    } else if ((flags & Flag.INACTIVE) !== 0 && active) {
      if (counted) { this.activeConns[rsId]++; this.inactiveConns[rsId]--; }
      flags &= ~Flag.INACTIVE;
    }
    r[b + Word.META] = (meta & ~0xff) | nextState;
    r[b + Word.AUX] = (flags << 24) | (aux & Layout.TEMPLATE_MASK);
    const wasProtected = state === TCP_ESTABLISHED, isProtected = nextState === TCP_ESTABLISHED;
    if (wasProtected !== isProtected) {
      this.slots.unlink(flow, wasProtected ? EvictionList.PROTECTED : EvictionList.EMBRYONIC);
      this.slots.linkTail(flow, isProtected ? EvictionList.PROTECTED : EvictionList.EMBRYONIC);
    }
  }

  /**
   * Full NAT (just after insertTuple): the flow holds a local port, given back through
   * `localPorts` whenever it is freed (expiry, sweep, eviction, replacement); replies come to
   * that port, looked up there rather than in this index, so both directions' state table
   * applies from the first packet, as for NAT.
   */
  markFullNat(flow: number): void {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const flags = ((r[b + Word.AUX] >>> 24) & ~Flag.NOOUTPUT) | Flag.FULL_NAT;
    r[b + Word.AUX] = ((flags << 24) | (r[b + Word.AUX] & Layout.TEMPLATE_MASK)) >>> 0;
  }

  /** UDP has one state; every packet restarts the udp timeout. */
  onUdpPacket(flow: number, now: number): void {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const aux = r[b + Word.AUX];
    const flags = aux >>> 24;
    if ((flags & Flag.ASSURED) === 0) {
      if ((flags & Flag.SEEN) === 0) {
        r[b + Word.AUX] = aux | (Flag.SEEN << 24);
      } else {
        r[b + Word.AUX] = aux | (Flag.ASSURED << 24);
        this.slots.unlink(flow, EvictionList.EMBRYONIC);
        this.slots.linkTail(flow, EvictionList.PROTECTED);
      }
    }
    r[b + Word.EXPIRES] = now + this.timeoutBySlot[UDP_TIMEOUT_INDEX];
  }

  /**
   * Incremental sweep, once per batch: visits up to maxVisits slots from where the last call
   * stopped, frees the expired ones (fixing counters and templates). Returns how many it freed.
   * maxVisits = slotCount sweeps the whole table.
   */
  expireSome(now: number, maxVisits: number): number {
    const limit = Math.min(maxVisits, this.slots.highWater);
    const r = this.records;
    let cursor = this.sweepCursor, freed = 0;
    for (let visited = 0; visited < limit; visited++) {
      if (cursor >= this.slots.highWater) cursor = 0;
      const b = cursor * Layout.RECORD_WORDS;
      if (r[b + Word.META] !== 0 && r[b + Word.EXPIRES] <= now) {
        this.freeFlow(cursor, now);
        this.stats.expired++;
        freed++;
      }
      cursor++;
    }
    this.sweepCursor = cursor;
    return freed;
  }

  // ---- control path ----------------------------------------------------------------------

  /**
   * The connection was scheduled through persistence template `template` (from the
   * PersistenceTable given to the constructor): the template stays alive while this flow does.
   */
  attachTemplate(flow: number, template: number, now: number): void {
    if (this.templates === null || template < 0) return;
    const b = flow * Layout.RECORD_WORDS, aux = this.records[b + Word.AUX];
    const old = (aux & Layout.TEMPLATE_MASK) - 1;
    if (old === template) return;
    this.templates.attach(template);
    this.records[b + Word.AUX] = (aux & ~Layout.TEMPLATE_MASK) | (template + 1);
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
    for (let flow = 0; flow < this.slots.highWater; flow++) {
      const b = flow * Layout.RECORD_WORDS;
      if (r[b + Word.META] !== 0 && (r[b + Word.OWNER] & 0xffff) === (rsId & 0xffff)) {
        this.freeFlow(flow, now);
        freed++;
      }
    }
    this.stats.flushed += freed;
    return freed;
  }

  /**
   * A shadow copy carries traffic here: this worker counts it from now on. Per packet (the
   * first of such a flow): no allocation. Returns false when the flow was counted already.
   */
  claim(flow: number): boolean {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const flags = r[b + Word.AUX] >>> 24;
    if ((flags & Flag.SHADOW) === 0) return false;
    r[b + Word.AUX] = (r[b + Word.AUX] & ~(Flag.SHADOW << 24)) >>> 0;
    const rsId = r[b + Word.OWNER] & 0xffff;
    if ((flags & Flag.INACTIVE) !== 0) this.inactiveConns[rsId]++;
    else this.activeConns[rsId]++;
    return true;
  }

  /** Another worker counts this flow now: it leaves this table's counters and listings. */
  disown(flow: number): void {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const flags = r[b + Word.AUX] >>> 24;
    if (r[b + Word.META] === 0 || (flags & Flag.SHADOW) !== 0) return;
    r[b + Word.AUX] = (r[b + Word.AUX] | (Flag.SHADOW << 24)) >>> 0;
    const rsId = r[b + Word.OWNER] & 0xffff;
    if ((flags & Flag.INACTIVE) !== 0) this.inactiveConns[rsId]--;
    else this.activeConns[rsId]--;
  }

  /** Frees one flow now (e.g. the dataplane saw a packet for a removed destination). */
  expireNow(flow: number, now: number): void {
    if (this.records[flow * Layout.RECORD_WORDS + Word.META] === 0) return;
    this.freeFlow(flow, now);
    this.stats.expired++;
  }

  // ---- internals ---------------------------------------------------------------------------

  private evictOne(now: number): void {
    const victim = this.slots.oldest();
    if (victim < 0) return;
    if (this.records[victim * Layout.RECORD_WORDS + Word.EXPIRES] <= now) this.stats.expired++;
    else this.stats.evictions++;
    this.freeFlow(victim, now);
  }

  private freeFlow(flow: number, now: number): void {
    const r = this.records, b = flow * Layout.RECORD_WORDS;
    const aux = r[b + Word.AUX];
    const flags = aux >>> 24;
    indexRemove(this.index, this.indexMask, r, this.seed, flow * 2);
    if ((flags & Flag.TRACK_REPLY) !== 0) indexRemove(this.index, this.indexMask, r, this.seed, flow * 2 + 1);
    const rsId = r[b + Word.OWNER] & 0xffff;
    if ((flags & Flag.SHADOW) !== 0) { /* counted by another worker */ }
    else if ((flags & Flag.INACTIVE) !== 0) this.inactiveConns[rsId]--;
    else this.activeConns[rsId]--;
    this.slots.unlink(flow, this.listOf(b));
    const template = (aux & Layout.TEMPLATE_MASK) - 1;
    if (template >= 0 && this.templates !== null) this.templates.release(template, now);
    if ((flags & Flag.FULL_NAT) !== 0 && this.localPorts !== null) this.localPorts.release(flow);
    if (this.clientAddresses !== null) this.clientAddresses.release(r[b + Word.CLIENT]);
    r[b + Word.META] = 0;
    r[b + Word.AUX] = 0;
    this.slots.release(flow);
    this.stats.size--;
  }

}
