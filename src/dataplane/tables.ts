import { parseMacOrNull } from '../packet/addr.js';
import { createScheduler } from '../schedulers/index.js';
import type { RealServerSet, Scheduler } from '../schedulers/types.js';
import { allocateRealServerSet } from '../schedulers/types.js';
import { MAX_REAL_SERVER_IDS } from '../conntrack/flow-table.js';
import type { Snapshot, SnapshotService } from './snapshot.js';
import { tcpOpenTable } from './tcp-pickup.js';
import { clearOverloadOnUnbind, markOverloadOnBind } from '../schedulers/overload.js';
import type { FlowTable } from '../conntrack/flow-table.js';

/** One virtual service as the hot loop sees it: typed arrays and a ready scheduler. */
export interface RuntimeService {
  readonly spec: SnapshotService;
  readonly set: RealServerSet;
  /** rsId of each entry of `set`. */
  readonly rsIds: Uint16Array;
  readonly scheduler: Scheduler;
  /**
   * The scheduler reads ActiveConn/InActConn (lc, wlc, sed, nq, lblc, lblcr, fo, ovf, twos) or a
   * server has thresholds (overload marking): only then does a new flow copy the counts.
   */
  readonly readsConns: boolean;
  /** > 1 for a virtual_server_group service (persistence spans its ports). */
  readonly addressCount: number;
  /** TCP flag byte -> TCP_OPENS_* for a segment of an unknown connection (sloppy_tcp or not). */
  readonly tcpOpens: Uint8Array;
  /** Index in `set` of a real server id, or -1 (control path and persistence hits only). */
  indexOfRsId(rsId: number): number;
}

/**
 * (vip, port, protocol) -> service, open addressing over typed arrays so a lookup allocates
 * nothing (a Map keyed by a 48-bit number would box it).
 */
export class ServiceIndex {
  private readonly mask: number;
  private readonly vips: Uint32Array;
  private readonly portProto: Int32Array; // (port << 8 | protocol), -1 = empty
  private readonly values: Int32Array;

  constructor(services: readonly SnapshotService[]) {
    const keys = services.reduce((n, s) => n + s.addresses.length, 0);
    let size = 16;
    while (size < keys * 4) size <<= 1;
    this.mask = size - 1;
    this.vips = new Uint32Array(size);
    this.portProto = new Int32Array(size).fill(-1);
    this.values = new Int32Array(size);
    services.forEach((s, i) => {
      for (const a of s.addresses) {
        // An IPv6 service's addresses are indexed by ipv6-steps.ts (by address handle).
        if (a.vip6 !== undefined) continue;
        let slot = this.slotOf(a.vip | 0, a.vport, s.protocol);
        while (this.portProto[slot] !== -1) slot = (slot + 1) & this.mask;
        this.vips[slot] = a.vip;
        this.portProto[slot] = (a.vport << 8) | s.protocol;
        this.values[slot] = i;
      }
    });
  }

  /**
   * The service of vip:port/protocol, or -1. On the hot path pass the address as `ip | 0` (a
   * signed 32-bit integer): a uint32 above 2^31 is a heap number, which a call V8 does not
   * inline boxes afresh every time (the NAT step allocated 16 bytes a packet in some runs).
   * Either form finds the same service.
   */
  find(vip: number, port: number, protocol: number): number {
    const key = (port << 8) | protocol;
    const vip32 = vip | 0;
    let slot = this.slotOf(vip32, port, protocol);
    for (;;) {
      const k = this.portProto[slot];
      if (k === -1) return -1;
      if (k === key && (this.vips[slot] | 0) === vip32) return this.values[slot];
      slot = (slot + 1) & this.mask;
    }
  }

  /** vip32: the address as a signed 32-bit integer (see find). */
  private slotOf(vip32: number, port: number, protocol: number): number {
    return (Math.imul(vip32 ^ (port << 8) ^ protocol, 0x9e3779b1) >>> 16) & this.mask;
  }
}

/**
 * Before scheduling: the service's ActiveConn/InActConn from the flow table, so lc/wlc and
 * the thresholds see them as ipvsadm shows them, and the overload flags they imply.
 */
export function refreshServerCounts(svc: RuntimeService, flows: FlowTable): void {
  // Only for schedulers that read them (or thresholds): rr, wrr, sh, dh, mh copy nothing.
  if (!svc.readsConns) return;
  const set = svc.set;
  for (let r = 0; r < set.count; r++) {
    set.activeConns[r] = flows.activeConns[svc.rsIds[r]];
    set.inactiveConns[r] = flows.inactiveConns[svc.rsIds[r]];
    if (set.overloaded[r] !== 0) clearOverloadOnUnbind(set, r);
    else markOverloadOnBind(set, r);
  }
}

/**
 * Next-hop MACs by rsId. It outlives snapshots: a real server removed from the config keeps its
 * MAC, so its established connections can finish (drain) unless expire_nodest_conn cuts them.
 * One view per id is made up front so the hot loop never calls subarray().
 */
export class RealServerMacs {
  readonly has = new Uint8Array(MAX_REAL_SERVER_IDS);
  private readonly memory = new Uint8Array(MAX_REAL_SERVER_IDS * 6);
  readonly views: Uint8Array[] = [];

  constructor() {
    for (let id = 0; id < MAX_REAL_SERVER_IDS; id++) this.views.push(this.memory.subarray(id * 6, id * 6 + 6));
  }

  /** Control path: record the MACs a snapshot carries (a null MAC keeps the last known one). */
  learn(snapshot: Snapshot): void {
    for (const s of snapshot.services) {
      for (const rs of s.realServers) {
        const mac = rs.mac ? parseMacOrNull(rs.mac) : null;
        if (!mac) continue;
        this.memory.set(mac, rs.rsId * 6);
        this.has[rs.rsId] = 1;
      }
    }
  }
}

/** Schedulers that read the connection counts (IPVS's ip_vs_dest_conn_overhead or atomic reads). */
export const CONNECTION_READERS: ReadonlySet<string> = new Set(['lc', 'wlc', 'sed', 'nq', 'lblc', 'lblcr', 'fo', 'ovf', 'twos']);

/** Same servers in the same order, with the same weights and availability: no rebuild needed. */
function sameServers(a: RealServerSet, b: RealServerSet): boolean {
  if (a.count !== b.count) return false;
  for (let i = 0; i < a.count; i++) {
    if (a.ip[i] !== b.ip[i] || a.port[i] !== b.port[i] || a.weight[i] !== b.weight[i] || a.available[i] !== b.available[i]) return false;
  }
  return true;
}

function sameFlags(a: SnapshotService, b: SnapshotService): boolean {
  const f = a.schedulerFlags, g = b.schedulerFlags;
  return !!f.shPort === !!g.shPort && !!f.shFallback === !!g.shFallback && !!f.mhPort === !!g.mhPort && !!f.mhFallback === !!g.mhFallback;
}

/**
 * The scheduler of a service in a new snapshot. A table the control plane published (mh, sh,
 * dh) is adopted. Otherwise a service that survives the swap with the same scheduler and flags
 * keeps its instance, as IPVS's survive `ipvsadm -e`: rr/wrr keep their position, lblc/lblcr
 * their tables; it is rebuilt (IPVS's upd_dest) only when its servers changed.
 */
function schedulerFor(spec: SnapshotService, set: RealServerSet, prior: RuntimeService | undefined): Scheduler {
  if (spec.schedulerTable) return createScheduler(spec.scheduler, spec.schedulerFlags, set, { publishedTable: spec.schedulerTable });
  if (prior && prior.spec.scheduler === spec.scheduler && sameFlags(prior.spec, spec)) {
    if (!sameServers(prior.set, set)) prior.scheduler.rebuild(set);
    return prior.scheduler;
  }
  return createScheduler(spec.scheduler, spec.schedulerFlags, set);
}

/**
 * A lookup that closes over `rsIds` alone. A closure made inside the RuntimeTables constructor
 * would hold the constructor's scope, and with it `previous`: every table ever built, one
 * reload after another (a leak of ~384 kB a snapshot, found by the 1,000-reload test).
 */
function indexIn(rsIds: Uint16Array): (rsId: number) => number {
  return (rsId) => rsIds.indexOf(rsId);
}

/**
 * Per-rsId facts of one snapshot, indexed by rsId (MAX_REAL_SERVER_IDS entries each: 384 kB).
 * Off the V8 heap (malloc'd), so V8 does not see them as heap growth: when a worker allocated
 * a fresh set per snapshot, the dead ones waited for a major GC, which a worker's small, quiet
 * heap seldom needs. The soak (bench/soak.ts, a snapshot every ~20 s: reloads, checks, failovers)
 * measured the worker's external memory and malloc's in-use bytes growing 384 kB a snapshot,
 * +6 MB in 6 minutes, ~+25 MB of RSS in 20. Two sets now serve every snapshot in turn (below).
 */
export class RealServerFlags {
  /** 1 while the rsId is in the current config. */
  readonly present = new Uint8Array(MAX_REAL_SERVER_IDS);
  /** 1 while the rsId may take new connections (in the config, up, weight > 0). */
  readonly schedulable = new Uint8Array(MAX_REAL_SERVER_IDS);
  /** 1 while the rsId is the director itself: its packets go to the own stack (LOCAL). */
  readonly local = new Uint8Array(MAX_REAL_SERVER_IDS);
  /** TUN: each rsId's TunnelKind (0 = IPIP) and GUE port (keepalived's tun_type, tun_port). */
  readonly tunnel = new Uint8Array(MAX_REAL_SERVER_IDS);
  readonly tunnelPort = new Uint16Array(MAX_REAL_SERVER_IDS);

  clear(): void {
    this.present.fill(0);
    this.schedulable.fill(0);
    this.local.fill(0);
    this.tunnel.fill(0);
    this.tunnelPort.fill(0);
  }
}

/** Everything built from one snapshot: the service index and each service's scheduler. */
export class RuntimeTables {
  readonly services: RuntimeService[];
  readonly index: ServiceIndex;
  /** 1 while the rsId is in the current config. */
  readonly rsPresent: Uint8Array;
  /** 1 while the rsId may take new connections (in the config, up, weight > 0). */
  readonly rsSchedulable: Uint8Array;
  /** 1 while the rsId is the director itself: its packets go to the own stack (LOCAL). */
  readonly rsLocal: Uint8Array;
  /** TUN: each rsId's TunnelKind (0 = IPIP) and GUE port (keepalived's tun_type, tun_port). */
  readonly rsTunnel: Uint8Array;
  readonly rsTunnelPort: Uint16Array;
  /** This snapshot's per-rsId facts, and the set the next tables will refill (see below). */
  private readonly flags: RealServerFlags;
  private readonly spare: RealServerFlags | null;

  /**
   * `previous`: the tables this one replaces (schedulers of surviving services carry on).
   * The per-rsId arrays alternate between two sets: these tables fill the set of the tables
   * before `previous` (its spare), which nothing reads any more once `previous` is the one in
   * use (a worker swaps between batches, on its own thread). So a RuntimeTables is valid until
   * two newer ones are built from it: the dataplane keeps only the newest.
   */
  constructor(readonly snapshot: Snapshot, previous?: RuntimeTables) {
    const reused = previous?.spare ?? null;
    reused?.clear();
    this.flags = reused ?? new RealServerFlags();
    this.spare = previous?.flags ?? null;
    this.rsPresent = this.flags.present;
    this.rsSchedulable = this.flags.schedulable;
    this.rsLocal = this.flags.local;
    this.rsTunnel = this.flags.tunnel;
    this.rsTunnelPort = this.flags.tunnelPort;
    const prior = new Map<number, RuntimeService>();
    for (const s of previous?.services ?? []) prior.set(s.spec.id, s);
    this.services = snapshot.services.map((spec) => {
      const set = allocateRealServerSet(spec.realServers.length);
      const rsIds = new Uint16Array(spec.realServers.length);
      spec.realServers.forEach((rs, i) => {
        set.ip[i] = rs.ip >>> 0;
        set.port[i] = rs.port;
        set.weight[i] = rs.weight;
        set.available[i] = rs.available ? 1 : 0;
        set.uthreshold[i] = rs.uthreshold;
        set.lthreshold[i] = rs.lthreshold;
        rsIds[i] = rs.rsId;
        this.rsPresent[rs.rsId] = 1;
        if (rs.available && rs.weight > 0) this.rsSchedulable[rs.rsId] = 1;
        if (rs.local) this.rsLocal[rs.rsId] = 1;
        this.rsTunnel[rs.rsId] = rs.tunnel ?? 0;
        this.rsTunnelPort[rs.rsId] = rs.tunnelPort ?? 0;
      });
      return {
        spec, set, rsIds,
        scheduler: schedulerFor(spec, set, prior.get(spec.id)),
        readsConns: CONNECTION_READERS.has(spec.scheduler) || spec.realServers.some((rs) => rs.uthreshold > 0 || rs.lthreshold > 0),
        addressCount: spec.addresses.length,
        tcpOpens: tcpOpenTable(spec.sloppyTcp === true),
        indexOfRsId: indexIn(rsIds),
      };
    });
    this.index = new ServiceIndex(snapshot.services);
  }
}

/**
 * MACs of the hops that brought client packets in (the client itself or a router), so NAT
 * replies go back the way requests came. Bounded; a flow keeps the index of its hop.
 */
/** flowHop of a flow imported by connection sync: learnt from its first client packet here. */
export const HOP_UNKNOWN = 0xffff;

export class HopTable {
  static readonly CAPACITY = 4096;
  readonly macs = new Uint8Array(HopTable.CAPACITY * 6);
  readonly views: Uint8Array[] = [];
  private readonly keyHi = new Int32Array(HopTable.CAPACITY).fill(-1);
  private readonly keyLo = new Uint32Array(HopTable.CAPACITY);
  private last = -1;

  constructor() {
    for (let i = 0; i < HopTable.CAPACITY; i++) this.views.push(this.macs.subarray(i * 6, i * 6 + 6));
  }

  /** Index of the MAC at u8[at..at+6), learning it when new. */
  learn(u8: Uint8Array, at: number): number {
    const hi = (u8[at] << 8) | u8[at + 1];
    const lo = ((u8[at + 2] << 24) | (u8[at + 3] << 16) | (u8[at + 4] << 8) | u8[at + 5]) >>> 0;
    const last = this.last;
    if (last >= 0 && this.keyHi[last] === hi && this.keyLo[last] === lo) return last;
    const mask = HopTable.CAPACITY - 1;
    let slot = (Math.imul(lo ^ hi, 0x9e3779b1) >>> 20) & mask;
    for (let probes = 0; probes < HopTable.CAPACITY; probes++) {
      if (this.keyHi[slot] === hi && this.keyLo[slot] === lo) return (this.last = slot);
      if (this.keyHi[slot] === -1) break;
      slot = (slot + 1) & mask;
    }
    // Full: reuse the probed slot. Flows that pointed at it would answer the wrong hop, so a
    // director with more than CAPACITY neighbours on one segment needs a larger table.
    this.keyHi[slot] = hi;
    this.keyLo[slot] = lo;
    for (let b = 0; b < 6; b++) this.macs[slot * 6 + b] = u8[at + b];
    return (this.last = slot);
  }
}
