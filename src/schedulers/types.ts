// The contract between the control plane, conntrack and the dataplane for real servers and
// schedulers (docs/ARCHITECTURE.md, "src/schedulers/"). Index order in a RealServerSet is the
// order IPVS walks svc->destinations: first-match ties and rr/wrr order follow it.

export interface RealServerSet {
  count: number;
  weight: Int32Array;            // 0 = quiesced (no new connections)
  available: Uint8Array;         // 0 = removed by a health check (IPVS: not in the list)
  activeConns: Uint32Array;      // maintained by conntrack (ESTABLISHED)
  inactiveConns: Uint32Array;    // other states
  ip: Uint32Array;
  port: Uint16Array;
  uthreshold: Uint32Array;
  lthreshold: Uint32Array;
  overloaded: Uint8Array;        // IPVS's IP_VS_DEST_F_OVERLOAD, kept by overload.ts helpers
}

export const SCHEDULER_NAMES = [
  'rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'dh', 'sh', 'mh', 'fo', 'ovf', 'twos',
] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

/** IPVS's scheduler flags. IPVS has SCHED1 (sh-fallback = mh-fallback) and SCHED2 (sh-port = mh-port). */
export interface SchedulerFlags {
  shPort?: boolean;
  shFallback?: boolean;
  mhPort?: boolean;
  mhFallback?: boolean;
}

export interface Scheduler {
  readonly name: SchedulerName;
  /**
   * Pick a real server for a new connection: index into the set, or -1. Allocates nothing.
   * Addresses may come as uint32 or as `ip | 0` and must give the same answer (the hashes use
   * Math.imul and `>>> 0`; compare with `| 0` on both sides). The dataplane passes `ip | 0`: the
   * call is polymorphic, V8 never inlines it, and a uint32 above 2^31 passed to it would be
   * boxed into a fresh heap number per new connection.
   */
  schedule(set: RealServerSet, srcIp: number, srcPort: number, dstIp: number, dstPort: number): number;
  /**
   * Control plane: call after any change of count, weight, available, ip or port (IPVS's
   * add_dest/del_dest/upd_dest). Rebuilds hash tables, resets wrr's cursor as IPVS does.
   * May allocate; never call per packet.
   */
  rebuild(set: RealServerSet): void;
}

export interface SchedulerOptions {
  /** twos: uniform random in [0, 1), like Math.random (the default). Inject a seeded one in tests. */
  random?: () => number;
  /** lblc/lblcr: monotonic clock in seconds (default: performance.now() / 1000). */
  clock?: () => number;
  /** mh: lookup table size, a prime (default MAGLEV_DEFAULT_TABLE_SIZE = 65537). */
  maglevTableSize?: number;
  /** mh, worker side: use this published table (MaglevScheduler.lookupTable) instead of building one. */
  maglevTable?: Int32Array;
  /** mh, sh, dh, worker side: the table the control plane published (SnapshotService.schedulerTable). */
  publishedTable?: Int32Array;
  /** lblc/lblcr: entries in the destination-IP cache (rounded up to a power of two; default 16384). */
  localityCacheSize?: number;
  /** lblc/lblcr: seconds an unused entry lives (IPVS sysctl lblc_expiration / lblcr_expiration, default 24 h). */
  localityExpiration?: number;
}

/** A zeroed set with room for `count` servers (available = 0 until the caller fills it). */
export function allocateRealServerSet(count: number): RealServerSet {
  return {
    count,
    weight: new Int32Array(count),
    available: new Uint8Array(count),
    activeConns: new Uint32Array(count),
    inactiveConns: new Uint32Array(count),
    ip: new Uint32Array(count),
    port: new Uint16Array(count),
    uthreshold: new Uint32Array(count),
    lthreshold: new Uint32Array(count),
    overloaded: new Uint8Array(count),
  };
}

export interface RealServerSpec {
  ip: number;
  port: number;
  weight: number;
  available?: boolean;
  activeConns?: number;
  inactiveConns?: number;
  uthreshold?: number;
  lthreshold?: number;
  overloaded?: boolean;
}

/** Build a set from plain objects (tests, benches, the control plane's compile step). */
export function realServerSetFrom(servers: readonly RealServerSpec[]): RealServerSet {
  const set = allocateRealServerSet(servers.length);
  servers.forEach((s, i) => {
    set.ip[i] = s.ip >>> 0;
    set.port[i] = s.port;
    set.weight[i] = s.weight;
    set.available[i] = s.available === false ? 0 : 1;
    set.activeConns[i] = s.activeConns ?? 0;
    set.inactiveConns[i] = s.inactiveConns ?? 0;
    set.uthreshold[i] = s.uthreshold ?? 0;
    set.lthreshold[i] = s.lthreshold ?? 0;
    set.overloaded[i] = s.overloaded ? 1 : 0;
  });
  return set;
}

/** IPVS's ip_vs_dest_conn_overhead: an active connection costs 256 times an inactive one. */
export function connectionOverhead(set: RealServerSet, i: number): number {
  return set.activeConns[i] * 256 + set.inactiveConns[i];
}
