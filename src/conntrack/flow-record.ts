// FlowTable's records: the layout, and the read side FlowTable inherits (accessors, walks).
// Layout: 8 x uint32 per flow (32 bytes, half a cache line) holding key and value, so a hit
// reads one line for the whole flow rather than one line per field as pure structure-of-arrays
// would. Const enums, so tsc writes the numbers into the hot loops and V8 never loads them from a
// module binding. FlowTable extends FlowRecords (not holds one): no extra load per access.

import { EvictionList, FlowSlots } from './flow-slots.js';
import type { FlowEntry } from './flow-types.js';
import { DUMP_CLIENT, DUMP_EXPIRES_IN, DUMP_META, DUMP_PORTS, DUMP_RS_IP, DUMP_RS_PORT, DUMP_VIP, DUMP_WORDS } from './dump-layout.js';
import { TCP_ESTABLISHED, TCP_STATE_NAMES, UDP_STATE_NAME } from './tcp-states.js';

export const enum Proto { TCP = 6, UDP = 17 }

/** The record of flow f starts at f * Layout.RECORD_WORDS. */
export const enum Layout {
  RECORD_WORDS = 8,
  /** Index references are 25 bits: flow * 2 + direction (0 forward key, 1 NAT reply key). */
  REF_MASK = (1 << 25) - 1,
  /** The low 24 bits of Word.AUX: persistence template + 1, 0 = none. */
  TEMPLATE_MASK = 0xffffff,
}

export const enum Word {
  CLIENT = 0,   // client ip
  VIP = 1,      // virtual ip
  PORTS = 2,    // client port << 16 | virtual port
  RS_IP = 3,    // real server ip
  META = 4,     // real server port << 16 | protocol << 8 | state; 0 = free slot
  OWNER = 5,    // service << 16 | real server id
  EXPIRES = 6,  // absolute second at which the flow is gone
  AUX = 7,      // flags << 24 | (persistence template + 1)
}

/** The flags in the top byte of Word.AUX. */
export const enum Flag {
  INACTIVE = 1,     // counted in inactiveConns (IP_VS_CONN_F_INACTIVE)
  NOOUTPUT = 2,     // replies never seen: input-only state table (IP_VS_CONN_F_NOOUTPUT)
  TRACK_REPLY = 4,  // the reply tuple is in the index (NAT)
  SEEN = 8,         // UDP: one packet accounted
  ASSURED = 16,     // UDP: two or more packets, protected from eviction
  SHADOW = 32,      // a synced copy another worker counts: in no counter, in no listing (FlowTable.importTuple)
  FULL_NAT = 64,    // holds a Full NAT local port: freeing it calls the table's localPorts.release (FlowTable.markFullNat)
}

/** Record storage and slots of a FlowTable, and everything that only reads them. */
export class FlowRecords {
  protected readonly records: Uint32Array;
  protected readonly slots: FlowSlots;

  constructor(capacity: number, memory: (bytes: number) => ArrayBuffer) {
    this.records = new Uint32Array(memory(capacity * Layout.RECORD_WORDS * 4), 0, capacity * Layout.RECORD_WORDS);
    this.slots = new FlowSlots(capacity, memory);
  }

  // ---- accessors (flow must be an index lookupTuple/insertTuple returned) ---------------------------

  rsId(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.OWNER] & 0xffff; }
  service(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.OWNER] >>> 16; }
  rsIp(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.RS_IP]; }
  /**
   * rsIp into to[at]: the hot path's way (a uint32 above 2^31 returned by a call V8 did not
   * inline is boxed into a heap number; written into memory it never is).
   */
  copyRsIp(flow: number, to: Uint32Array, at: number): void { to[at] = this.records[flow * Layout.RECORD_WORDS + Word.RS_IP]; }
  rsPort(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.META] >>> 16; }
  proto(flow: number): number { return (this.records[flow * Layout.RECORD_WORDS + Word.META] >>> 8) & 0xff; }
  /** TCP state number (TCP_STATE_NAMES); 0 for UDP. */
  state(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.META] & 0xff; }
  expiresAt(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.EXPIRES]; }
  clientIp(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.CLIENT]; }
  clientPort(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.PORTS] >>> 16; }
  vip(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.VIP]; }
  /** vip into to[at] (see copyRsIp). */
  copyVip(flow: number, to: Uint32Array, at: number): void { to[at] = this.records[flow * Layout.RECORD_WORDS + Word.VIP]; }
  /**
   * The addresses as signed 32-bit integers (`ip | 0`): the hot path's way to read them when it
   * passes them on or compares them (with `| 0` on the other side). A uint32 above 2^31
   * returned by (or passed to) a call V8 does not inline is boxed into a fresh heap number; an
   * int32 never is. Written into a Uint32Array or by DataView.setUint32 they are the same bits.
   */
  rsIp32(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.RS_IP] | 0; }
  vip32(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.VIP] | 0; }
  clientIp32(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.CLIENT] | 0; }
  vport(flow: number): number { return this.records[flow * Layout.RECORD_WORDS + Word.PORTS] & 0xffff; }
  /** Counted in activeConns (true) or inactiveConns (false). */
  isActive(flow: number): boolean { return ((this.records[flow * Layout.RECORD_WORDS + Word.AUX] >>> 24) & Flag.INACTIVE) === 0; }
  /** A synced copy that another worker counts (see FlowTable.importTuple). */
  isShadow(flow: number): boolean { return ((this.records[flow * Layout.RECORD_WORDS + Word.AUX] >>> 24) & Flag.SHADOW) !== 0; }
  /** Persistence template this flow holds, or -1. */
  template(flow: number): number { return (this.records[flow * Layout.RECORD_WORDS + Word.AUX] & Layout.TEMPLATE_MASK) - 1; }

  /** Every live (not expired) flow, for `ulvs conns`. Allocates. */
  forEach(now: number, visit: (entry: FlowEntry) => void): void {
    const r = this.records;
    for (let flow = 0; flow < this.slots.highWater; flow++) {
      const b = flow * Layout.RECORD_WORDS;
      const meta = r[b + Word.META];
      if (meta === 0 || r[b + Word.EXPIRES] <= now || ((r[b + Word.AUX] >>> 24) & Flag.SHADOW) !== 0) continue;
      const proto = (meta >>> 8) & 0xff;
      visit({
        proto,
        state: proto === Proto.TCP ? TCP_STATE_NAMES[meta & 0xff] : UDP_STATE_NAME,
        expiresIn: r[b + Word.EXPIRES] - now,
        clientIp: r[b + Word.CLIENT], clientPort: r[b + Word.PORTS] >>> 16,
        vip: r[b + Word.VIP], vport: r[b + Word.PORTS] & 0xffff,
        rsIp: r[b + Word.RS_IP], rsPort: meta >>> 16,
        service: r[b + Word.OWNER] >>> 16, rsId: r[b + Word.OWNER] & 0xffff,
      });
    }
  }

  /**
   * Copies live flows from slot `from` into `out` (conn-dump.ts's DumpWord layout) until it is
   * full or `maxVisits` slots were walked; `next` is the slot to go on from, -1 at the end.
   * Nothing allocated: `ulvs conns` reads the worker's table in chunks.
   */
  dumpInto(now: number, from: number, out: Uint32Array, maxVisits: number): { count: number; next: number } {
    const r = this.records;
    const max = Math.floor(out.length / DUMP_WORDS);
    const end = Math.min(this.slots.highWater, from + maxVisits);
    let count = 0;
    let flow = from;
    for (; flow < end && count < max; flow++) {
      const b = flow * Layout.RECORD_WORDS;
      const meta = r[b + Word.META];
      if (meta === 0 || r[b + Word.EXPIRES] <= now || ((r[b + Word.AUX] >>> 24) & Flag.SHADOW) !== 0) continue;
      const o = count++ * DUMP_WORDS;
      out[o + DUMP_META] = meta & 0xffff; // protocol << 8 | state
      out[o + DUMP_EXPIRES_IN] = r[b + Word.EXPIRES] - now;
      out[o + DUMP_CLIENT] = r[b + Word.CLIENT];
      out[o + DUMP_PORTS] = r[b + Word.PORTS];
      out[o + DUMP_VIP] = r[b + Word.VIP];
      out[o + DUMP_RS_IP] = r[b + Word.RS_IP];
      out[o + DUMP_RS_PORT] = meta >>> 16;
    }
    return { count, next: flow >= this.slots.highWater ? -1 : flow };
  }

  snapshot(now: number, limit = Infinity): FlowEntry[] {
    const out: FlowEntry[] = [];
    this.forEach(now, (entry) => { if (out.length < limit) out.push(entry); });
    return out;
  }

  /** The eviction list a live flow is on (flow-slots.ts). */
  protected listOf(b: number): EvictionList {
    const meta = this.records[b + Word.META];
    if (((meta >>> 8) & 0xff) === Proto.TCP) return (meta & 0xff) === TCP_ESTABLISHED ? EvictionList.PROTECTED : EvictionList.EMBRYONIC;
    return ((this.records[b + Word.AUX] >>> 24) & Flag.ASSURED) !== 0 ? EvictionList.PROTECTED : EvictionList.EMBRYONIC;
  }
}
