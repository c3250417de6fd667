// The shapes FlowTable takes and gives (flow-table.ts re-exports them).
import type { PersistenceTable } from './persistence.js';
import type { Timeouts } from './tcp-states.js';

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
  /**
   * Where the large arrays (records, index, slot links) live: zeroed memory of at least
   * `bytes`. The director passes the addon's huge-page memory (src/io/table-memory.ts); by
   * default a plain ArrayBuffer.
   */
  memory?: (bytes: number) => ArrayBuffer;
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
