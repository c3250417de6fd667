import { FlowTable, HINT_SLOTS } from '../conntrack/flow-table.js';
import { PersistenceTable, SharedPersistenceTable } from '../conntrack/persistence.js';
import { createPersistenceTable6 } from '../conntrack/persistence6.js';
import { TCP_CLOSE, TCP_CLOSE_WAIT, TCP_FIN_WAIT, TCP_LAST_ACK, TCP_TIME_WAIT } from '../conntrack/tcp-states.js';
import { markOverloadOnBind } from '../schedulers/overload.js';
import { DROP, DESC_WORDS, LOCAL, TX, TX_OTHER, type PacketPort } from '../io/port.js';
import {
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ParsedFrame, ParseResult, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, parseFrame,
} from '../packet/parse.js';
import { ICMP_DEST_UNREACH_TYPE, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED_TYPE } from '../packet/icmp-error.js';
import { FragmentTable } from '../conntrack/fragments.js';
import { ipv4HeaderChecksumValid } from '../packet/checksum.js';
import { IcmpErrors } from './icmp.js';
import { FragmentSteps } from './fragments.js';
import {
  FrameSpan, RewriteResult, rewriteForDirectRouting, rewriteForNat, rewriteNatReply, writeEthernetAddresses, decrementTtl,
} from '../packet/rewrite.js';
import { encapsulateTunnel, tunnelMtu } from '../packet/tunnels.js';
import {
  C_BATCHES, C_DROP_BASE, C_NEW_FLOWS, C_PARSE_BASE, C_RX, C_SLOPPY_PICKUPS, C_TX, DataplaneDrop,
  S_CONNS, S_IN_BYTES, S_IN_PKTS, STAT_FIELDS, allocateIpvsCounters,
} from './counters.js';
import { TCP_OPENS_NOTHING, TCP_OPENS_PICKUP } from './tcp-pickup.js';
import { FORWARD_DR, FORWARD_FNAT, FORWARD_NAT, FORWARD_TUN, type Snapshot } from './snapshot.js';
import { FullNatSteps } from './fnat.js';
import { HOP_UNKNOWN, HopTable, RealServerMacs, RuntimeTables, refreshServerCounts, type RuntimeService } from './tables.js';
import { Ipv6Steps, hasIpv6Services } from './ipv6-steps.js';
import { SyncOffers } from './sync-offers.js';
import { accountReply } from './replies.js';
import { screenFrame } from './screen.js';
import type { ImportedFlow, ImportedTemplate } from './sync-offers.js';
import { writeFlowRecord, type SyncOutbox } from './sync-outbox.js';

/**
 * The batch pre-pass (Dataplane.prefetch) runs only when the flow table holds at least this
 * many flows: below it the table's lines stay in cache, there are no misses to overlap, and
 * the pass would cost ~25 ns per packet for nothing (measured at 1k flows, bench/results/flow-1miss.txt).
 */
const PREFETCH_MIN_FLOWS = 1 << 15;
/**
 * A batch in which fewer than a quarter of the packets' lookups used their pre-pass hash (a
 * flood of garbage, of bad checksums, of packets for no service) turns the pre-pass off: it
 * cost such frames ~15 ns each (bench/hostile-step.ts). It is tried again every this many
 * batches, so a garbage flood pays it on one batch in PREFETCH_RETRY_BATCHES.
 */
const PREFETCH_RETRY_BATCHES = 16;

/** TCP states in which a bare SYN starts a new connection (IPVS conn_reuse_mode 1 and 2). */
const REUSABLE_STATE = new Uint8Array(16);
for (const s of [TCP_FIN_WAIT, TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK]) REUSABLE_STATE[s] = 1;

/** Per-port DataView made once (parse and rewrite read through it). */
export interface PortView { port: PacketPort; u8: Uint8Array; dv: DataView }

function viewOf(port: PacketPort): PortView {
  return { port, u8: port.frames, dv: new DataView(port.frames.buffer, port.frames.byteOffset, port.frames.byteLength) };
}

/**
 * The per-batch step: classify -> flow lookup or schedule -> rewrite -> verdict. Pure over the
 * frame memory and its tables, so the same code runs over AF_XDP, TAP and synthetic frames in
 * tests and benches. Allocates nothing per packet, throws nothing; drops are counters.
 */
export class Dataplane {
  tables: RuntimeTables;
  private readonly macs = new RealServerMacs();
  private readonly parsed = new ParsedFrame();
  private readonly span = new FrameSpan();
  private readonly hops = new HopTable();
  /** Hop (HopTable index) that brought each flow's client packets in; indexed by flow. */
  private readonly flowHop: Uint16Array;
  private outside: PortView;
  private inside: PortView | null;
  private ipId = 0;
  /** The chosen real server's IPv4 address on its way to the rewrite (through memory, never boxed). */
  private readonly ipArg = new Uint32Array(1);
  /** Connection sync: what this worker offers the sync MASTER's outbox. */
  readonly sync: SyncOffers;
  /**
   * Connection sync with several queues: where this worker says it took over the count of a
   * synced flow (its shadow copy got traffic here), so the main thread tells the other workers.
   */
  private claimsRing: SyncOutbox | null = null;
  get claims(): SyncOutbox | null { return this.claimsRing; }
  set claims(ring: SyncOutbox | null) {
    this.claimsRing = ring;
    if (this.v6 !== null) this.v6.claims = ring;
  }
  /** ICMP errors about tracked connections, and those ulvs sends (issue 17). */
  readonly icmp: IcmpErrors;
  /** Later fragments follow their first fragment's connection (issue 17). */
  readonly fragments: FragmentSteps;
  /** DPVS's Full NAT: local ports, requests and replies (issue 17). */
  readonly fnat: FullNatSteps;
  /**
   * IPv6 services (issue 16), built with the first snapshot that has one (its table is as
   * large as the IPv4 one, so an IPv4-only director never allocates it). null until then.
   */
  v6: Ipv6Steps | null = null;

  constructor(
    snapshot: Snapshot,
    readonly flows: FlowTable,
    readonly templates: PersistenceTable,
    readonly counters: Float64Array,
    outside: PacketPort,
    inside: PacketPort | null,
    /** Per-service and per-real-server rows (counters.ts S_*), indexed by id. */
    readonly ipvs: Float64Array = allocateIpvsCounters(),
  ) {
    this.tables = new RuntimeTables(snapshot);
    this.macs.learn(snapshot);
    this.flowHop = new Uint16Array(flows.slotCount);
    this.sync = new SyncOffers(flows, templates);
    this.outside = viewOf(outside);
    this.inside = inside ? viewOf(inside) : null;
    this.icmp = new IcmpErrors(flows, counters, this.macs, this.hops, this.flowHop, this.span);
    this.fragments = new FragmentSteps(new FragmentTable(), flows, counters, this.macs, this.hops, this.flowHop, this.span);
    this.fnat = new FullNatSteps(snapshot, flows, counters, this.ipvs, this.hops, this.flowHop, this.sync, this.icmp, this.fragments);
    this.icmp.fullNat = this.fnat;
    this.fragments.fullNat = this.fnat;
    this.learnIpv6(snapshot);
  }

  private learnIpv6(snapshot: Snapshot): void {
    if (this.v6 === null && hasIpv6Services(snapshot)) this.ipv6(snapshot);
    this.v6?.setSnapshot(snapshot);
  }

  /**
   * The IPv6 path, built now if this worker has none yet: with the first IPv6 service, or with
   * the first synced IPv6 flow on a BACKUP (its snapshot has no services, the shared template
   * memory comes with it all the same when queues > 1).
   */
  ipv6(snapshot: Snapshot = this.tables.snapshot): Ipv6Steps {
    if (this.v6 !== null) return this.v6;
    // IPv6 templates shared as IPv4's are (queues > 1: the director put their memory in the snapshot).
    const owner = this.templates instanceof SharedPersistenceTable ? this.templates.owner : 0;
    const templates6 = createPersistenceTable6(this.templates.capacity, snapshot.templateMemory6, owner);
    const v6 = new Ipv6Steps(this.flows, this.counters, this.ipvs, this.macs, this.hops, this.icmp, templates6);
    v6.sync.outbox = this.sync.outbox;
    v6.claims = this.claimsRing;
    v6.setSnapshot(snapshot);
    this.v6 = v6;
    return v6;
  }

  /** Connection sync: fill `outbox` (this director is the sync MASTER) or nothing (null). */
  setSyncOutbox(outbox: SyncOutbox | null): void {
    this.sync.outbox = outbox;
    if (this.v6 !== null) this.v6.sync.outbox = outbox;
  }

  /**
   * Swap to a new snapshot between batches; flows keep their real servers (ids are stable).
   * Connections of a real server the new config removed drain (IPVS would drop their packets
   * when expire_nodest_conn is 0) or, with expire_nodest_conn, are expired at once.
   */
  setSnapshot(snapshot: Snapshot, now: number): void {
    const old = this.tables;
    this.tables = new RuntimeTables(snapshot, old);
    this.macs.learn(snapshot);
    this.learnIpv6(snapshot);
    if (!this.flows.expireNodestConn) return;
    for (const s of old.snapshot.services) {
      for (const rs of s.realServers) {
        if (this.tables.rsPresent[rs.rsId] === 0) {
          if (s.family === 6) this.v6?.flows.dropRealServer(rs.rsId, now, true);
          else this.flows.dropRealServer(rs.rsId, now, true);
        }
      }
    }
  }

  /**
   * A connection the sync MASTER had (control path, between batches). `counted` false: a
   * shadow copy another worker counts (FlowTable.importTuple). A persistent service's flow
   * holds its template, as on the master, so the template outlives it by persistence_timeout.
   */
  importFlow(f: ImportedFlow, now: number, counted = true): void {
    const tuple = this.flows.tuple;
    tuple[0] = f.proto; tuple[1] = f.clientIp; tuple[2] = f.clientPort; tuple[3] = f.vip; tuple[4] = f.vport;
    tuple[5] = f.rsIp; tuple[6] = f.rsPort;
    const flow = this.flows.importTuple(f.service, f.rsId, f.state, f.timeout, now, f.nat, counted);
    this.flowHop[flow] = HOP_UNKNOWN;
    this.sync.imported(flow, now);
    // Not this.tables: a BACKUP forwards no service (it holds no VIP), yet it holds the flows.
    if (f.persistenceTimeout === 0) return;
    const t = this.templates.lookup(f.service, PersistenceTable.maskClient(f.clientIp, f.persistenceMask), now);
    if (t >= 0 && this.templates.rsId(t) === f.rsId) this.flows.attachTemplate(flow, t, now);
  }

  /**
   * A persistence template the sync MASTER had: the same client goes to the same real server
   * here. One this worker holds for the same server is refreshed, not replaced (it may hold
   * imported flows). Its lifetime is this director's persistence_timeout for the service, which
   * the main thread resolved (tpl.persistenceTimeout): a BACKUP's snapshot has no services.
   * Returns false when the table is full of templates that all hold connections.
   */
  importTemplate(tpl: ImportedTemplate, now: number): boolean {
    const persistenceTimeout = tpl.persistenceTimeout;
    if (persistenceTimeout === 0) return false;
    const templates = this.templates;
    let t = templates.lookup(tpl.service, tpl.clientIp, now);
    if (t >= 0 && templates.rsId(t) === tpl.rsId) {
      templates.refresh(t, now);
      return true;
    }
    t = templates.insert(tpl.service, tpl.clientIp, tpl.rsId, persistenceTimeout, now, tpl.proto, tpl.vip, tpl.vport, tpl.rsIp, tpl.rsPort);
    if (t < 0) return false;
    this.sync.templateCreated(t);
    // Came from the other director: not offered back until one of its connections is.
    this.sync.templateImported(t, now);
    return true;
  }

  /**
   * A shadow copy of a synced flow carries client traffic on this worker: count it here, say
   * so. Only client packets claim: a NAT reply may come in on another queue than its requests.
   */
  private claim(flow: number, now: number): void {
    if (!this.flows.claim(flow)) return;
    const box = this.claimsRing;
    if (box === null) return;
    writeFlowRecord(box.scratch, this.flows, flow, now);
    box.push();
  }

  /** Frames that came in on the outside interface: client -> VIP. */
  processOutside(descs: Uint32Array, n: number, now: number): void {
    const c = this.counters;
    c[C_BATCHES]++;
    c[C_RX] += n;
    const flows = this.flows;
    const hinted = this.prefetchWanted() ? this.prefetch(this.outside, descs, n, false) : 0;
    const used = flows.hintsUsed;
    for (let i = 0; i < n; i++) {
      flows.hintSlot = i < hinted ? i : -1;
      const verdict = this.forwardRequest(descs, i * DESC_WORDS, now);
      descs[i * DESC_WORDS + 2] = verdict;
      if (verdict !== DROP) c[C_TX]++;
    }
    flows.hintSlot = -1;
    if (hinted > 0) this.prefetchPaid = (flows.hintsUsed - used) * 4 >= hinted;
  }

  /** Frames that came in on the inside interface: NAT replies real server -> client. */
  processInside(descs: Uint32Array, n: number, now: number): void {
    const c = this.counters;
    c[C_BATCHES]++;
    c[C_RX] += n;
    const flows = this.flows;
    const hinted = this.prefetchWanted() ? this.prefetch(this.inside!, descs, n, true) : 0;
    const used = flows.hintsUsed;
    for (let i = 0; i < n; i++) {
      flows.hintSlot = i < hinted ? i : -1;
      const verdict = this.forwardNatReply(descs, i * DESC_WORDS, now);
      descs[i * DESC_WORDS + 2] = verdict;
      if (verdict !== DROP) c[C_TX]++;
    }
    flows.hintSlot = -1;
    if (hinted > 0) this.prefetchPaid = (flows.hintsUsed - used) * 4 >= hinted;
  }

  /**
   * The batch's pre-pass (issue 18): every untagged, unfragmented IPv4 TCP/UDP frame's key
   * with a valid header checksum
   * (the forward key, or for `reply` the NAT reply key) is hashed and its index entry loaded,
   * then the records and flowHop entries those point at, in loops whose loads do not depend on
   * each other, so the cache misses of the whole batch overlap instead of queueing behind each
   * packet. It only reads frames (bounds-checked) and warms the cache; the per-packet pass
   * parses and decides as before, reusing the hashes. Returns how many slots carry a hint.
   */
  private prefetch(view: PortView, descs: Uint32Array, n: number, reply: boolean): number {
    const flows = this.flows, t = flows.tuple, u8 = view.u8, dv = view.dv, listed = this.hintedSlots;
    const count = n < HINT_SLOTS ? n : HINT_SLOTS;
    let m = 0;
    for (let j = 0; j < count; j++) {
      const off = descs[j * DESC_WORDS], len = descs[j * DESC_WORDS + 1];
      const l3 = off + 14;
      if (len < 42 || off + len > u8.length || u8[off + 12] !== 0x08 || u8[off + 13] !== 0x00 || (u8[l3] >>> 4) !== 4) {
        flows.clearHint(j);
        continue;
      }
      const proto = u8[l3 + 9];
      const ihl = (u8[l3] & 0x0f) << 2;
      const l4 = l3 + ihl;
      // Only frames the per-packet pass will look up: a bad header checksum is dropped there.
      if ((proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || ((u8[l3 + 6] & 0x3f) | u8[l3 + 7]) !== 0 || ihl < 20 ||
          l4 + 4 > off + len || !ipv4HeaderChecksumValid(u8, l3, ihl)) {
        flows.clearHint(j);
        continue;
      }
      t[0] = proto;
      if (reply) {
        t[5] = dv.getUint32(l3 + 12); t[6] = dv.getUint16(l4); t[1] = dv.getUint32(l3 + 16); t[2] = dv.getUint16(l4 + 2);
        flows.hintReply(j);
      } else {
        t[1] = dv.getUint32(l3 + 12); t[2] = dv.getUint16(l4); t[3] = dv.getUint32(l3 + 16); t[4] = dv.getUint16(l4 + 2);
        flows.hintForward(j);
      }
      listed[m++] = j;
    }
    if (m === 0) return count;
    flows.touchHinted(listed, m);
    const hf = flows.hintFlow, hop = this.flowHop;
    let sink = 0;
    for (let i = 0; i < m; i++) {
      const flow = hf[i];
      if (flow >= 0) sink ^= hop[flow];
    }
    this.prefetchSink ^= sink;
    return count;
  }

  /** PREFETCH_MIN_FLOWS; tests set 0 so the pre-pass runs over their small tables. */
  prefetchMinFlows = PREFETCH_MIN_FLOWS;
  /** Whether the last pre-pass was used by enough lookups (PREFETCH_RETRY_BATCHES). */
  private prefetchPaid = true;
  private prefetchSkipped = 0;

  /** Run the pre-pass on this batch: a table out of cache, and the last one paid (or time to retry). */
  private prefetchWanted(): boolean {
    if (this.flows.stats.size < this.prefetchMinFlows) return false;
    if (this.prefetchPaid) return true;
    if (++this.prefetchSkipped < PREFETCH_RETRY_BATCHES) return false;
    this.prefetchSkipped = 0;
    return true;
  }

  /** The batch slots the pre-pass hashed a key for. */
  private readonly hintedSlots = new Uint8Array(HINT_SLOTS);
  /** XOR of the flowHop entries the pre-pass read, kept so the JIT cannot drop the loads. */
  private prefetchSink = 0;

  private drop(reason: number): number {
    this.counters[C_DROP_BASE + reason]++;
    return DROP;
  }

  private forwardRequest(descs: Uint32Array, d: number, now: number): number {
    const { u8, dv, port } = this.outside;
    const p = this.parsed;
    const result = parseFrame(u8, dv, descs[d], descs[d + 1], p);
    const firstFragment = result === ParseResult.FRAGMENT && p.fragmentOffset === 0 && p.dstPort !== 0;
    if (result === ParseResult.FRAGMENT && p.fragmentOffset !== 0) {
      return this.fragments.laterRequest(this.tables, this.outside, this.inside, descs, d, p, now);
    }
    if (result !== ParseResult.OK && !firstFragment) {
      if (result === ParseResult.IPV6 && this.v6 !== null) return this.v6.request(this.tables, this.outside, this.inside, descs, d, p.l3Offset, now);
      this.counters[C_PARSE_BASE + result]++;
      return DROP;
    }
    const hostile = screenFrame(u8, p);
    if (hostile >= 0) return this.drop(hostile);
    if (firstFragment) this.fragments.keyOf(p, false);
    const proto = p.protocol;
    const local = this.fnat.localAddressOf(p.dstIp | 0); // | 0: never a boxed heap number (tables.ts ServiceIndex.find)
    if (proto === IPPROTO_ICMP) {
      if (local >= 0) return this.fnat.icmpToClient(this.outside, true, this.outside, descs, d, p, local, now);
      return this.icmp.toRealServer(this.tables, this.outside, this.inside, descs, d, p, now);
    }
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return this.drop(DataplaneDrop.NOT_IPV4_L4);
    if (local >= 0) return this.fnat.toClient(this.outside, true, this.outside, descs, d, p, local, now);
    const tables = this.tables;
    const svcIndex = tables.index.find(p.dstIp | 0, p.dstPort, proto);
    if (svcIndex < 0) return this.drop(DataplaneDrop.NO_SERVICE);
    const svc = tables.services[svcIndex];
    const flows = this.flows;

    const spec = svc.spec;
    // Addresses go through the table's scratch tuple: passed as arguments, numbers above 2^30
    // would be boxed (allocated) by V8 on every call it does not inline.
    const tuple = flows.tuple;
    tuple[0] = proto; tuple[1] = p.srcIp; tuple[2] = p.srcPort; tuple[3] = p.dstIp; tuple[4] = p.dstPort;
    let flow = spec.onePacket ? -1 : flows.lookupTuple(now);
    if (flow >= 0 && proto === IPPROTO_TCP && (p.tcpFlags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN &&
        (REUSABLE_STATE[flows.state(flow)] === 1 || tables.rsSchedulable[flows.rsId(flow)] === 0)) {
      // A new connection on the tuple of an old one (a client port reused after a reset or a
      // close): IPVS's conn_reuse_mode expires the old entry and schedules afresh. ulvs does so
      // also when the old entry's server can no longer take new connections (down, removed,
      // quiesced), where IPVS would drop the SYN until the entry times out.
      flows.expireNow(flow, now);
      flow = -1;
    }
    let rsId: number;
    let rsPort: number;
    let created = false;
    // The real server's address stays in memory (ipArg[0]) from here to the rewrite: as a
    // local handed across calls V8 may not inline it would be boxed, 16 bytes a packet.
    const ipArg = this.ipArg;
    if (flow >= 0) {
      rsId = flows.rsId(flow);
      flows.copyRsIp(flow, ipArg, 0);
      rsPort = flows.rsPort(flow);
      if (this.flowHop[flow] === HOP_UNKNOWN) {
        // First client packet of a synced flow on this worker.
        this.flowHop[flow] = this.hops.learn(u8, descs[d] + 6);
        if (flows.isShadow(flow)) this.claim(flow, now);
      }
    } else {
      // A bare SYN opens a connection; with the service's sloppy_tcp (compiled into its table)
      // so does any other segment but a RST: IPVS's tcp_conn_schedule. The new entry starts in
      // NONE and the segment's own transition sets its state (an ACK: ESTABLISHED), as IPVS.
      const opens = proto === IPPROTO_TCP ? svc.tcpOpens[p.tcpFlags] : 0;
      if (proto === IPPROTO_TCP && opens === TCP_OPENS_NOTHING) return this.drop(DataplaneDrop.NO_FLOW);
      if (spec.forward === FORWARD_FNAT && !this.fnat.canOpen(spec.localGroup ?? -1)) return this.drop(DataplaneDrop.LOCAL_PORTS_EXHAUSTED);
      const chosen = this.scheduleNewFlow(svc, now);
      if (chosen < 0) return this.drop(DataplaneDrop.NO_REAL_SERVER);
      if (opens === TCP_OPENS_PICKUP) this.counters[C_SLOPPY_PICKUPS]++;
      const set = svc.set;
      rsId = svc.rsIds[chosen];
      ipArg[0] = set.ip[chosen];
      // Port 0: the client's destination port (multi-port group services).
      rsPort = set.port[chosen] === 0 ? p.dstPort : set.port[chosen];
      this.counters[C_NEW_FLOWS]++;
      this.ipvs[spec.id * STAT_FIELDS + S_CONNS]++;
      this.ipvs[rsId * STAT_FIELDS + S_CONNS]++;
      if (!spec.onePacket) {
        tuple[0] = proto; tuple[1] = p.srcIp; tuple[2] = p.srcPort; tuple[3] = p.dstIp; tuple[4] = p.dstPort;
        tuple[5] = ipArg[0]; tuple[6] = rsPort;
        flow = flows.insertTuple(spec.id, rsId, now, spec.forward === FORWARD_NAT);
        if (spec.forward === FORWARD_FNAT) this.fnat.bind(flow, spec.localGroup!);
        created = true;
        if (this.chosenTemplate >= 0) flows.attachTemplate(flow, this.chosenTemplate, now);
        this.flowHop[flow] = this.hops.learn(u8, descs[d] + 6);
        set.inactiveConns[chosen]++;
        markOverloadOnBind(set, chosen);
      }
    }
    if (flow >= 0) {
      if (firstFragment) this.fragments.rememberFirst(flow, p, now);
      if (proto === IPPROTO_TCP) {
        const before = flows.state(flow);
        flows.onTcpPacket(flow, true, p.tcpFlags, now);
        if (this.sync.outbox !== null) this.sync.afterTcp(flow, before, now);
      } else {
        flows.onUdpPacket(flow, now);
        if (this.sync.outbox !== null) this.sync.afterUdp(flow, created, now);
      }
    }
    // IPVS's ip_vs_in_stats: counted once the packet has its connection, before the xmit.
    const st = this.ipvs;
    const svcRow = spec.id * STAT_FIELDS;
    const rsRow = rsId * STAT_FIELDS;
    st[svcRow + S_IN_PKTS]++;
    st[svcRow + S_IN_BYTES] += p.totalLength;
    st[rsRow + S_IN_PKTS]++;
    st[rsRow + S_IN_BYTES] += p.totalLength;
    // IPVS's Local forwarding for one connection (the service's other servers are remote): the
    // packet goes, unchanged, to the director's own stack (compile keeps only same-port ones).
    if (tables.rsLocal[rsId] === 1) return LOCAL;
    if (this.macs.has[rsId] === 0) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const rsMac = this.macs.views[rsId];
    // IPVS decrements the TTL in every forwarding method (__ip_vs_get_out_rt -> decrement_ttl)
    // and answers an expired one with ICMP time exceeded (rate-limited).
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) {
      return this.icmp.answer(this.outside, descs, d, p, ICMP_TIME_EXCEEDED_TYPE, 0, 0, DataplaneDrop.TTL_EXPIRED);
    }

    switch (svc.spec.forward) {
      case FORWARD_DR:
        rewriteForDirectRouting(u8, descs[d], rsMac, port.mac);
        return TX;
      case FORWARD_TUN:
        return this.tunnel(descs, d, rsId, rsMac);
      case FORWARD_FNAT:
        return this.fnat.toRealServer(this.outside, this.inside, descs, d, p, flow, rsPort, rsMac);
      default: {
        const inside = this.inside;
        if (inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
        rewriteForNat(u8, dv, p, ipArg, 0, rsPort);
        writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
        return TX_OTHER;
      }
    }
  }

  /**
   * TUN's transmit, out of forwardRequest on purpose: inside it, the encapsulation came last in
   * TurboFan's inlining order and no longer fit the cumulative inlining budget once the IPVS
   * counters grew forwardRequest, so every TUN packet paid a call into it (the counters looked
   * ~1.7x dearer for TUN only). Here it is inlined into a small function of its own.
   */
  /** rsIp: in ipArg[0] (forwardRequest). */
  private tunnel(descs: Uint32Array, d: number, rsId: number, rsMac: Uint8Array): number {
    const { u8, dv, port } = this.outside;
    const tables = this.tables;
    const snapshot = tables.snapshot;
    const kind = tables.rsTunnel[rsId];
    this.ipId = (this.ipId + 1) & 0xffff;
    // The outer header carries the (decremented) inner TTL, as IPVS's tunnel xmit does.
    // Addresses as `| 0` (FlowRecords.rsIp32 says why).
    const r = encapsulateTunnel(u8, dv, this.parsed, port.frameSize, kind, tables.rsTunnelPort[rsId], snapshot.tunnelSource | 0, this.ipArg[0] | 0,
      this.parsed.ttl, this.ipId, rsMac, port.mac, snapshot.mtu, this.span);
    if (r === RewriteResult.MTU_EXCEEDED && this.parsed.dontFragment) {
      // IPVS's ensure_mtu_is_adequate: frag needed with the MTU left inside the tunnel, so
      // the client's TCP lowers its segment size. Without DF IPVS fragments the outer
      // packet; ulvs sends one frame per descriptor, so it drops (counted) instead.
      return this.icmp.answer(this.outside, descs, d, this.parsed, ICMP_DEST_UNREACH_TYPE, ICMP_FRAG_NEEDED,
        tunnelMtu(snapshot.mtu, kind) & 0xffff, DataplaneDrop.MTU_EXCEEDED);
    }
    if (r !== RewriteResult.OK) {
      return this.drop(r === RewriteResult.MTU_EXCEEDED ? DataplaneDrop.MTU_EXCEEDED : DataplaneDrop.NO_ROOM);
    }
    descs[d] = this.span.offset;
    descs[d + 1] = this.span.length;
    return TX;
  }

  /** Template chosen by the last scheduleNewFlow (-1: none); read right after the call. */
  private chosenTemplate = -1;

  /**
   * A new connection (the packet in this.parsed): persistence template first (IPVS
   * ip_vs_sched_persist), else the scheduler. Counters are refreshed from the flow table so
   * lc/wlc and the thresholds see ActiveConn/InActConn as ipvsadm shows them. Returns an index
   * into the service's set.
   * Addresses never travel as arguments here: the scheduler (a call V8 never inlines: it is
   * polymorphic) gets them as `ip | 0`, the templates through their args scratch, because a
   * uint32 above 2^31 passed to a call that is not inlined is boxed into a fresh heap number
   * (ipv4-no-allocation.test.ts).
   */
  private scheduleNewFlow(svc: RuntimeService, now: number): number {
    const set = svc.set;
    const p = this.parsed;
    refreshServerCounts(svc, this.flows);
    this.chosenTemplate = -1;
    const spec = svc.spec;
    if (spec.persistenceTimeout === 0) return svc.scheduler.schedule(set, p.srcIp | 0, p.srcPort, p.dstIp | 0, p.dstPort);
    const templates = this.templates;
    const targs = templates.args;
    targs[0] = p.srcIp & spec.persistenceMask; // PersistenceTable.maskClient, into args[A_CLIENT]
    let t = templates.lookupArgs(spec.id, now);
    if (t >= 0) {
      const r = svc.indexOfRsId(templates.rsId(t));
      // The template's server must still be available (IPVS ip_vs_check_template; a quiesced
      // server keeps its persistent clients, as with expire_quiescent_template = 0).
      if (r >= 0 && set.available[r] !== 0) {
        templates.refresh(t, now);
        this.chosenTemplate = t;
        return r;
      }
      templates.invalidate(t);
    }
    const chosen = svc.scheduler.schedule(set, p.srcIp | 0, p.srcPort, p.dstIp | 0, p.dstPort);
    if (chosen < 0) return -1;
    // PersistenceTable.insert's fields, through args: [client, proto, vip, vport, rsIp, rsPort].
    targs[0] = p.srcIp & spec.persistenceMask;
    targs[1] = svc.addressCount > 1 ? 0 : spec.protocol; targs[2] = p.dstIp; targs[3] = svc.addressCount > 1 ? 0 : p.dstPort;
    targs[4] = set.ip[chosen]; targs[5] = set.port[chosen];
    t = templates.insertArgs(spec.id, svc.rsIds[chosen], spec.persistenceTimeout, now);
    if (t >= 0) this.sync.templateCreated(t);
    this.chosenTemplate = t;
    return chosen;
  }

  private forwardNatReply(descs: Uint32Array, d: number, now: number): number {
    const inside = this.inside!;
    const p = this.parsed;
    const result = parseFrame(inside.u8, inside.dv, descs[d], descs[d + 1], p);
    const firstFragment = result === ParseResult.FRAGMENT && p.fragmentOffset === 0 && p.srcPort !== 0;
    if (result === ParseResult.FRAGMENT && p.fragmentOffset !== 0) {
      return this.fragments.laterReply(inside, this.outside, descs, d, p, now);
    }
    if (result !== ParseResult.OK && !firstFragment) {
      if (result === ParseResult.IPV6 && this.v6 !== null) return this.v6.reply(inside, this.outside, descs, d, p.l3Offset, now);
      this.counters[C_PARSE_BASE + result]++;
      return DROP;
    }
    const hostile = screenFrame(inside.u8, p);
    if (hostile >= 0) return this.drop(hostile);
    if (firstFragment) this.fragments.keyOf(p, true);
    const proto = p.protocol;
    const local = this.fnat.localAddressOf(p.dstIp | 0); // | 0: never a boxed heap number (tables.ts ServiceIndex.find)
    if (proto === IPPROTO_ICMP) {
      if (local >= 0) return this.fnat.icmpToClient(inside, false, this.outside, descs, d, p, local, now);
      return this.icmp.toClient(inside, this.outside, descs, d, p, now);
    }
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return this.drop(DataplaneDrop.NOT_IPV4_L4);
    if (local >= 0) return this.fnat.toClient(inside, false, this.outside, descs, d, p, local, now);
    const flows = this.flows;
    const tuple = flows.tuple;
    tuple[0] = proto; tuple[1] = p.dstIp; tuple[2] = p.dstPort; tuple[5] = p.srcIp; tuple[6] = p.srcPort;
    const flow = flows.lookupReplyTuple(now);
    if (flow < 0) return this.drop(DataplaneDrop.REPLY_NO_FLOW);
    accountReply(flows, this.ipvs, this.sync, flow, p, now);
    if (firstFragment) this.fragments.rememberFirst(flow, p, now);
    // A flow synced from the other director learns its client's hop from the first request.
    if (this.flowHop[flow] === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    // Replies cross the director as routed packets: the TTL goes down by one.
    if (decrementTtl(inside.u8, inside.dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    flows.copyVip(flow, this.ipArg, 0);
    rewriteNatReply(inside.u8, inside.dv, p, this.ipArg, 0, flows.vport(flow));
    writeEthernetAddresses(inside.u8, descs[d], this.hops.views[this.flowHop[flow]], this.outside.port.mac);
    return TX_OTHER;
  }
}
