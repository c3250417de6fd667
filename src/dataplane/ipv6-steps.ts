// The dataplane's IPv6 path (issue 16): DR and NAT66 for IPv6 services, beside the IPv4 path
// in pipeline.ts, which reaches it only for frames parseFrame calls IPV6 (no cost on IPv4's
// OK path). Same steps as IPv4: parse (parseIpv6Packet, drops counted by Parse6Result) ->
// service (VIPs are pinned address handles) -> flow (FlowTable6) or schedule (the service's
// IPv4 scheduler over IPVS's IPv6 fold) -> hop limit - 1 -> rewrite -> verdict. No allocation,
// no throw, drops are counters.
// TUN is IPv6-in-IPv6 (next header 41) from the interface's first global address.
// Fragments: the first is scheduled as a packet, later ones follow it (fragments6.ts).
// Persistence: templates keyed by the client's masked address (persistence6.ts), as IPVS.
// Connection sync: IPv6 flows and templates are offered to the sync outbox (three ring slots
// each, sync-outbox6.ts) and installed from the master's records, as IPv4's in pipeline.ts.
// Not carried over IPv6 yet, refused at load (check-ipv6-services.ts): Full NAT, local servers. ICMPv6 errors quoting a service's or NAT66 server's packet are
// steered here and follow their connection (icmp6.ts); NDP and the rest stay with the kernel. An
// expired hop limit is answered with ICMPv6 time exceeded, as IPv4's TTL, and a packet too big
// for TUN with packet too big (rate limited by the same bucket as IPv4's ICMP errors).
import { FlowTable6 } from '../conntrack/flow-table6.js';
import type { FlowTable } from '../conntrack/flow-table.js';
import { TCP_CLOSE, TCP_CLOSE_WAIT, TCP_FIN_WAIT, TCP_LAST_ACK, TCP_TIME_WAIT } from '../conntrack/tcp-states.js';
import { DROP, TX, TX_OTHER } from '../io/port.js';
import { formatIpv6, parseIpv6 } from '../packet/addr6.js';
import { IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../packet/parse.js';
import { Parse6Result, ParsedIpv6, parseIpv6Packet } from '../packet/ipv6.js';
import { FrameSpan, RewriteResult, rewriteForDirectRouting, writeEthernetAddresses } from '../packet/rewrite.js';
import { IP6IP6_OVERHEAD, decrementHopLimit, encapsulateIp6ip6, rewriteForNat66, rewriteNat66Reply } from '../packet/rewrite6.js';
import { ICMPV6_HOP_LIMIT_EXCEEDED, turnIntoIcmp6Error } from '../packet/icmp6-error.js';
import { ICMPV6_PACKET_TOO_BIG, ICMPV6_TIME_EXCEEDED, IPPROTO_ICMPV6 } from '../packet/ipv6.js';
import { Icmp6Errors, type Tunnel6 } from './icmp6.js';
import { Fragment6Steps } from './fragments6.js';

/** IPv6's minimum link MTU (RFC 8200 5): a packet too big never names less. */
const IPV6_MIN_MTU = 1280;
import type { IcmpErrors } from './icmp.js';
import { markOverloadOnBind } from '../schedulers/overload.js';
import type { PersistenceTable } from '../conntrack/persistence.js';
import { setClientKey6 } from '../conntrack/persistence6.js';
import { MAX_REAL_SERVER_IDS } from '../conntrack/flow-table.js';
import {
  C_DROP_BASE, C_ICMP_SENT, C_IPV6_FORWARDED, C_NEW_FLOWS, C_PARSE6_BASE, C_SLOPPY_PICKUPS, DataplaneDrop,
  S_CONNS, S_IN_BYTES, S_IN_PKTS, S_OUT_BYTES, S_OUT_PKTS, STAT_FIELDS,
} from './counters.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN, type Snapshot } from './snapshot.js';
import { HOP_UNKNOWN, refreshServerCounts, ServiceIndex, type HopTable, type RealServerMacs, type RuntimeService, type RuntimeTables } from './tables.js';
import { TCP_OPENS_NOTHING, TCP_OPENS_PICKUP } from './tcp-pickup.js';
import type { PortView } from './pipeline.js';
import { SyncOffers, isSyncWorthy, type ImportedFlow6, type ImportedTemplate6 } from './sync-offers.js';
import { OUTBOX_CONNECTION, OUTBOX_TEMPLATE, type OutboxRecord6, type SyncOutbox } from './sync-outbox.js';
import { writeFlowRecord6 } from './sync-outbox6.js';
import { TCP_STATE_NAMES } from '../conntrack/tcp-states.js';

const REUSABLE_STATE = new Uint8Array(16);
for (const s of [TCP_FIN_WAIT, TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK]) REUSABLE_STATE[s] = 1;

/** True when the snapshot holds an IPv6 service (the IPv6 path is built on the first one). */
export function hasIpv6Services(snapshot: Snapshot): boolean {
  return snapshot.services.some((s) => s.family === 6);
}

export class Ipv6Steps {
  readonly flows: FlowTable6;
  private readonly parsed = new ParsedIpv6();
  /** (VIP handle, port, protocol) -> index into RuntimeTables.services. */
  private index = new ServiceIndex([]);
  /** Each IPv6 real server's 16 bytes by rsId (NAT66 writes them as the destination). */
  private readonly rsAddress = new Uint8Array(MAX_REAL_SERVER_IDS * 16);
  /** Each IPv6 real server's pinned handle by rsId, -1 = none. */
  private readonly rsHandle = new Int32Array(MAX_REAL_SERVER_IDS).fill(-1);
  private readonly flowHop: Uint16Array;
  private readonly vipScratch = new Uint8Array(16);
  /** Each rsId's 16 bytes as its own view (TUN's outer destination), made once. */
  private readonly rsViews: Uint8Array[] = [];
  /** TUN's outer source (hasSource 0 while the interface has no global IPv6 address) and the MTU. */
  private readonly tunnelState: Tunnel6 = { source: new Uint8Array(16), hasSource: 0, mtu: 1500 };
  private readonly span = new FrameSpan();
  /** ICMPv6 errors about tracked connections (icmp6.ts). */
  private readonly errors: Icmp6Errors;
  /** Later fragments follow their first fragment's connection (fragments6.ts). */
  readonly fragments: Fragment6Steps;
  /** Connection sync: what this worker offers the sync MASTER's outbox from the IPv6 table. */
  readonly sync: SyncOffers;
  /** Where this worker says it took over the count of a synced IPv6 flow (queues > 1; Dataplane.claims). */
  claims: SyncOutbox | null = null;

  constructor(
    ipv4Flows: FlowTable,
    private readonly counters: Float64Array,
    private readonly ipvs: Float64Array,
    private readonly macs: RealServerMacs,
    private readonly hops: HopTable,
    /** IPv4's ICMP errors: its send bucket limits IPv6's too (one budget, as the kernel's icmp ratelimit per host). */
    private readonly icmp: IcmpErrors,
    /** IPv6 persistence templates (wide PersistenceTable; shared by the workers when queues > 1). */
    readonly templates: PersistenceTable,
  ) {
    // Same capacity, timeouts and ActiveConn/InActConn arrays as the IPv4 table: an rsId is in
    // one family, so the schedulers and listings read one count per server whatever its family.
    this.flows = new FlowTable6({
      capacity: ipv4Flows.capacity, timeouts: ipv4Flows.timeouts, expireNodestConn: ipv4Flows.expireNodestConn,
      activeConns: ipv4Flows.activeConns, inactiveConns: ipv4Flows.inactiveConns, templates, memory: ipv4Flows.tableMemory,
    });
    this.flowHop = new Uint16Array(this.flows.slotCount);
    for (let id = 0; id < MAX_REAL_SERVER_IDS; id++) this.rsViews.push(this.rsAddress.subarray(id * 16, id * 16 + 16));
    this.errors = new Icmp6Errors(this.flows, this.parsed, counters, macs, hops, this.flowHop, icmp, this.rsAddress, this.rsViews, this.tunnelState, this.span);
    this.fragments = new Fragment6Steps(this.flows, this.parsed, counters, macs, hops, this.flowHop, this.rsAddress, this.rsViews, this.tunnelState, this.span);
    this.sync = new SyncOffers(this.flows, templates, { flows: this.flows, rsAddress: this.rsAddress });
  }

  /** Control path: pin the snapshot's IPv6 VIPs and servers, index its IPv6 services. */
  setSnapshot(snapshot: Snapshot): void {
    const flows = this.flows;
    this.tunnelState.mtu = snapshot.mtu;
    this.tunnelState.hasSource = snapshot.tunnelSource6 !== undefined ? 1 : 0;
    if (snapshot.tunnelSource6 !== undefined) this.tunnelState.source.set(parseIpv6(snapshot.tunnelSource6));
    this.index = new ServiceIndex(snapshot.services.map((s) => ({
      ...s,
      addresses: s.family === 6 ? s.addresses.map((a) => ({ vip: flows.pin(parseIpv6(a.vip6!)), vport: a.vport })) : [],
    })));
    for (const s of snapshot.services) {
      if (s.family !== 6) continue;
      for (const rs of s.realServers) {
        const bytes = parseIpv6(rs.ip6!);
        this.rsAddress.set(bytes, rs.rsId * 16);
        this.rsHandle[rs.rsId] = flows.pin(bytes);
      }
    }
  }

  private drop(reason: number): number {
    this.counters[C_DROP_BASE + reason]++;
    return DROP;
  }

  /** Client -> VIP. `l3` is the IPv6 header's offset (parseFrame's answer). */
  request(tables: RuntimeTables, outside: PortView, inside: PortView | null, descs: Uint32Array, d: number, l3: number, now: number): number {
    const { u8, dv, port } = outside;
    // ulvs serves the untagged segment (screen.ts does the same for IPv4).
    if (l3 !== descs[d] + 14) return this.drop(DataplaneDrop.VLAN_TAGGED);
    const p = this.parsed;
    const result = parseIpv6Packet(u8, dv, l3, descs[d] + descs[d + 1], p);
    // A first fragment (it has the ports) goes on as a packet and is remembered; later ones follow it.
    const first = result === Parse6Result.FRAGMENT && p.fragmentOffset === 0 && p.dstPort !== 0;
    if (result === Parse6Result.FRAGMENT && p.fragmentOffset !== 0) return this.fragments.laterRequest(tables, outside, inside, descs, d, now);
    if (result !== Parse6Result.OK && !first) {
      this.counters[C_PARSE6_BASE + result]++;
      return DROP;
    }
    if (first) this.fragments.keyOf(false);
    const proto = p.protocol;
    if (proto === IPPROTO_ICMPV6) return this.errors.toRealServer(tables, outside, inside, descs, d, now);
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return this.drop(DataplaneDrop.NOT_IPV4_L4);
    const flows = this.flows;
    const vip = flows.addresses.findAt(dv, p.dstOffset);
    if (vip < 0) return this.drop(DataplaneDrop.NO_SERVICE);
    const svcIndex = this.index.find(vip, p.dstPort, proto);
    if (svcIndex < 0) return this.drop(DataplaneDrop.NO_SERVICE);
    const svc = tables.services[svcIndex];
    const spec = svc.spec;
    let flow = spec.onePacket ? -1 : flows.lookup6(proto, dv, p.srcOffset, p.srcPort, vip, p.dstPort, now);
    if (flow >= 0 && proto === IPPROTO_TCP && (p.tcpFlags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN &&
        (REUSABLE_STATE[flows.state(flow)] === 1 || tables.rsSchedulable[flows.rsId(flow)] === 0)) {
      // A new connection on an old one's tuple: as pipeline.ts (conn_reuse_mode).
      flows.expireNow(flow, now);
      flow = -1;
    }
    let rsId: number;
    let rsPort: number;
    let created = false;
    if (flow >= 0) {
      rsId = flows.rsId(flow);
      rsPort = flows.rsPort(flow);
      if (this.flowHop[flow] === HOP_UNKNOWN) {
        // First client packet of a synced flow on this worker.
        this.flowHop[flow] = this.hops.learn(u8, descs[d] + 6);
        if (flows.isShadow(flow)) this.claim(flow, now);
      }
    } else {
      const opens = proto === IPPROTO_TCP ? svc.tcpOpens[p.tcpFlags] : 0;
      if (proto === IPPROTO_TCP && opens === TCP_OPENS_NOTHING) return this.drop(DataplaneDrop.NO_FLOW);
      const set = svc.set;
      refreshServerCounts(svc, flows);
      this.chosenTemplate = -1;
      const chosen = spec.persistenceTimeout === 0 ? this.scheduleFolded(svc) : this.schedulePersistent(svc, now);
      if (chosen < 0) return this.drop(DataplaneDrop.NO_REAL_SERVER);
      if (opens === TCP_OPENS_PICKUP) this.counters[C_SLOPPY_PICKUPS]++;
      rsId = svc.rsIds[chosen];
      rsPort = set.port[chosen] === 0 ? p.dstPort : set.port[chosen];
      this.counters[C_NEW_FLOWS]++;
      this.ipvs[spec.id * STAT_FIELDS + S_CONNS]++;
      this.ipvs[rsId * STAT_FIELDS + S_CONNS]++;
      if (!spec.onePacket) {
        flow = flows.insert6(spec.id, rsId, proto, dv, p.srcOffset, p.srcPort, vip, p.dstPort, this.rsHandle[rsId], rsPort, now,
          spec.forward === FORWARD_NAT);
        if (flow < 0) return this.drop(DataplaneDrop.NO_ROOM);
        created = true;
        if (this.chosenTemplate >= 0) flows.attachTemplate(flow, this.chosenTemplate, now);
        this.flowHop[flow] = this.hops.learn(u8, descs[d] + 6);
        set.inactiveConns[chosen]++;
        markOverloadOnBind(set, chosen);
      }
    }
    if (flow >= 0) {
      if (first) this.fragments.rememberFirst(flow, now);
      if (proto === IPPROTO_TCP) {
        const before = flows.state(flow);
        flows.onTcpPacket(flow, true, p.tcpFlags, now);
        if (this.sync.outbox !== null) this.sync.afterTcp(flow, before, now);
      } else {
        flows.onUdpPacket(flow, now);
        if (this.sync.outbox !== null) this.sync.afterUdp(flow, created, now);
      }
    }
    const length = p.payloadLength + 40;
    const st = this.ipvs, svcRow = spec.id * STAT_FIELDS, rsRow = rsId * STAT_FIELDS;
    st[svcRow + S_IN_PKTS]++;
    st[svcRow + S_IN_BYTES] += length;
    st[rsRow + S_IN_PKTS]++;
    st[rsRow + S_IN_BYTES] += length;
    if (this.macs.has[rsId] === 0) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const rsMac = this.macs.views[rsId];
    // IPVS decrements the hop limit in every method (ip_vs_xmit's decrement_ttl, AF_INET6) and
    // answers an expired one with ICMPv6 time exceeded.
    if (decrementHopLimit(u8, p) !== RewriteResult.OK) return this.timeExceeded(outside, descs, d);
    if (spec.forward === FORWARD_DR) {
      rewriteForDirectRouting(u8, descs[d], rsMac, port.mac);
      this.counters[C_IPV6_FORWARDED]++;
      return TX;
    }
    if (spec.forward === FORWARD_TUN) return this.tunnel(outside, descs, d, rsId, rsMac);
    if (spec.forward !== FORWARD_NAT) return this.drop(DataplaneDrop.NO_SERVICE);   // refused at load
    if (inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    rewriteForNat66(u8, dv, p, this.rsAddress, rsId * 16, rsPort);
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    this.counters[C_IPV6_FORWARDED]++;
    return TX_OTHER;
  }

  /** IPVS hashes an IPv6 address as its four words XORed (schedulers/hash.ts foldIpv6). */
  private scheduleFolded(svc: RuntimeService): number {
    const p = this.parsed;
    // | 0, not >>> 0: a small integer V8 never boxes (Scheduler.schedule).
    return svc.scheduler.schedule(svc.set, p.src0 ^ p.src1 ^ p.src2 ^ p.src3, p.srcPort,
      p.dst0 ^ p.dst1 ^ p.dst2 ^ p.dst3, p.dstPort);
  }

  /** Template chosen by the last schedulePersistent (-1: none); read right after the call. */
  private chosenTemplate = -1;

  /**
   * A new connection of a persistent service: the client's template first (IPVS
   * ip_vs_sched_persist, the client masked by persistence_granularity as a prefix length),
   * else the scheduler and a new template. As pipeline.ts's scheduleNewFlow for IPv4.
   */
  private schedulePersistent(svc: RuntimeService, now: number): number {
    const p = this.parsed, spec = svc.spec, set = svc.set, templates = this.templates;
    setClientKey6(templates, spec.persistencePrefix6 ?? 128, p.src0, p.src1, p.src2, p.src3, p.dst0, p.dst1, p.dst2, p.dst3);
    let t = templates.lookupArgs(spec.id, now);
    if (t >= 0) {
      const r = svc.indexOfRsId(templates.rsId(t));
      // The template's server must still be available (ip_vs_check_template; quiesced keeps it).
      if (r >= 0 && set.available[r] !== 0) {
        templates.refresh(t, now);
        this.chosenTemplate = t;
        return r;
      }
      templates.invalidate(t);
    }
    const chosen = this.scheduleFolded(svc);
    if (chosen < 0) return -1;
    const a = templates.args;
    // args[1..5]: protocol, VIP, port and server for the listing (0 = "IP", all ports, for a group).
    a[1] = svc.addressCount > 1 ? 0 : spec.protocol; a[2] = 0; a[3] = svc.addressCount > 1 ? 0 : p.dstPort; a[4] = 0; a[5] = set.port[chosen];
    t = templates.insertArgs(spec.id, svc.rsIds[chosen], spec.persistenceTimeout, now);
    this.chosenTemplate = t;
    return chosen;
  }

  /** Each IPv6 real server's address as text by rsId (listing of templates). */
  rsAddressText(rsId: number): string {
    return formatIpv6(this.rsAddress, rsId * 16);
  }

  /**
   * TUN: a 40-byte IPv6 header (next header 41) before the packet, as ip_vs_tunnel_xmit_v6;
   * outer hop limit the inner's (decremented). Too big for the MTU: dropped (MTU_EXCEEDED) and
   * answered with ICMPv6 packet too big naming the MTU left inside the tunnel, as
   * ip_vs_tunnel_xmit_v6 (never below IPv6's 1280), so the client's TCP lowers its segment size.
   * No global IPv6 address on the interface: a NO_SERVICE drop.
   */
  private tunnel(outside: PortView, descs: Uint32Array, d: number, rsId: number, rsMac: Uint8Array): number {
    const tunnel = this.tunnelState;
    if (tunnel.hasSource === 0) return this.drop(DataplaneDrop.NO_SERVICE);
    const p = this.parsed;
    const r = encapsulateIp6ip6(outside.u8, outside.dv, p, descs[d], outside.port.frameSize, tunnel.source, this.rsViews[rsId],
      p.hopLimit, rsMac, outside.port.mac, tunnel.mtu, this.span);
    if (r === RewriteResult.MTU_EXCEEDED) {
      return this.answer(outside, descs, d, ICMPV6_PACKET_TOO_BIG, 0, Math.max(IPV6_MIN_MTU, tunnel.mtu - IP6IP6_OVERHEAD), DataplaneDrop.MTU_EXCEEDED);
    }
    if (r !== RewriteResult.OK) return this.drop(DataplaneDrop.NO_ROOM);
    descs[d] = this.span.offset;
    descs[d + 1] = this.span.length;
    this.counters[C_IPV6_FORWARDED]++;
    return TX;
  }

  private timeExceeded(outside: PortView, descs: Uint32Array, d: number): number {
    return this.answer(outside, descs, d, ICMPV6_TIME_EXCEEDED, ICMPV6_HOP_LIMIT_EXCEEDED, 0, DataplaneDrop.TTL_EXPIRED);
  }

  /**
   * The packet is dropped (`dropReason`); its frame becomes the ICMPv6 error back to the client
   * when the bucket allows (icmp.ts's answer for IPv4).
   */
  private answer(outside: PortView, descs: Uint32Array, d: number, type: number, code: number, rest: number, dropReason: number): number {
    this.counters[C_DROP_BASE + dropReason]++;
    if (!this.icmp.sendLimit.allow(this.icmp.clock())) return DROP;
    const length = turnIntoIcmp6Error(outside.u8, this.parsed, descs[d], outside.port.frameSize, type, code, rest);
    if (length < 0) return DROP;
    descs[d + 1] = length;
    this.counters[C_ICMP_SENT]++;
    return TX;
  }

  /** NAT66 reply real server -> client on the inside port. */
  reply(inside: PortView, outside: PortView, descs: Uint32Array, d: number, l3: number, now: number): number {
    const { u8, dv } = inside;
    if (l3 !== descs[d] + 14) return this.drop(DataplaneDrop.VLAN_TAGGED);
    const p = this.parsed;
    const result = parseIpv6Packet(u8, dv, l3, descs[d] + descs[d + 1], p);
    const first = result === Parse6Result.FRAGMENT && p.fragmentOffset === 0 && p.srcPort !== 0;
    if (result === Parse6Result.FRAGMENT && p.fragmentOffset !== 0) return this.fragments.laterReply(inside, outside, descs, d, now);
    if (result !== Parse6Result.OK && !first) {
      this.counters[C_PARSE6_BASE + result]++;
      return DROP;
    }
    if (first) this.fragments.keyOf(true);
    const proto = p.protocol;
    if (proto === IPPROTO_ICMPV6) return this.errors.toClient(inside, outside, descs, d, now);
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return this.drop(DataplaneDrop.NOT_IPV4_L4);
    const flows = this.flows;
    const flow = flows.lookupReply6(proto, dv, p.srcOffset, p.srcPort, p.dstOffset, p.dstPort, now);
    if (flow < 0) return this.drop(DataplaneDrop.REPLY_NO_FLOW);
    if (first) this.fragments.rememberFirst(flow, now);
    // IPVS's ip_vs_out_stats, then the reply direction's state and the sync offer (replies.ts
    // for IPv4: kept apart so that function stays monomorphic).
    const length = p.payloadLength + 40;
    const st = this.ipvs, svcRow = flows.service(flow) * STAT_FIELDS, rsRow = flows.rsId(flow) * STAT_FIELDS;
    st[svcRow + S_OUT_PKTS]++;
    st[svcRow + S_OUT_BYTES] += length;
    st[rsRow + S_OUT_PKTS]++;
    st[rsRow + S_OUT_BYTES] += length;
    if (proto === IPPROTO_TCP) {
      const before = flows.state(flow);
      flows.onTcpPacket(flow, false, p.tcpFlags, now);
      if (this.sync.outbox !== null) this.sync.afterTcp(flow, before, now);
    } else {
      flows.onUdpPacket(flow, now);
      if (this.sync.outbox !== null) this.sync.afterUdp(flow, false, now);
    }
    // A flow synced from the other director learns its client's hop from the first request.
    if (this.flowHop[flow] === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (decrementHopLimit(u8, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    flows.addresses.writeTo(flows.vip(flow), this.vipScratch, 0);
    rewriteNat66Reply(u8, dv, p, this.vipScratch, 0, flows.vport(flow));
    writeEthernetAddresses(u8, descs[d], this.hops.views[this.flowHop[flow]], outside.port.mac);
    this.counters[C_IPV6_FORWARDED]++;
    return TX_OTHER;
  }

  // ---- connection sync (control path, between batches) -------------------------------------

  /** A shadow copy of a synced flow carries client traffic here: count it, say so (pipeline.ts's claim). */
  private claim(flow: number, now: number): void {
    if (!this.flows.claim(flow)) return;
    const box = this.claims;
    if (box === null) return;
    writeFlowRecord6(box.scratch6, this.flows, flow, now);
    box.push6();
  }

  /** An IPv6 connection the sync MASTER had (pipeline.ts's importFlow). */
  importFlow(f: ImportedFlow6, now: number, counted = true): void {
    const flows = this.flows;
    const flow = flows.importBytes(f.service, f.rsId, f.proto, f.state, f.timeout, now, f.nat, counted,
      f.clientIp, f.clientPort, f.vip, f.vport, f.rsIp, f.rsPort);
    if (flow < 0) return;
    this.rsAddress.set(f.rsIp, f.rsId * 16);
    this.flowHop[flow] = HOP_UNKNOWN;
    this.sync.imported(flow, now);
    if (f.persistenceTimeout === 0) return;
    this.templateKey(f.persistencePrefix, f.clientIp, f.vip);
    const t = this.templates.lookupArgs(f.service, now);
    if (t >= 0 && this.templates.rsId(t) === f.rsId) flows.attachTemplate(flow, t, now);
  }

  /** An IPv6 persistence template the sync MASTER had (pipeline.ts's importTemplate). */
  importTemplate(tpl: ImportedTemplate6, now: number): boolean {
    if (tpl.persistenceTimeout === 0) return false;
    const templates = this.templates;
    // The master masked the client by its granularity: the key is the address it sent.
    this.templateKey(128, tpl.clientIp, tpl.vip);
    let t = templates.lookupArgs(tpl.service, now);
    if (t >= 0 && templates.rsId(t) === tpl.rsId) {
      templates.refresh(t, now);
      return true;
    }
    const a = templates.args;
    a[1] = tpl.proto; a[2] = 0; a[3] = tpl.vport; a[4] = 0; a[5] = tpl.rsPort;
    t = templates.insertArgs(tpl.service, tpl.rsId, tpl.persistenceTimeout, now);
    if (t < 0) return false;
    this.rsAddress.set(tpl.rsIp, tpl.rsId * 16);
    this.sync.templateCreated(t);
    this.sync.templateImported(t, now);
    return true;
  }

  /** The template key of a client (masked to `prefix`) at a VIP, in the table's args. */
  private templateKey(prefix: number, client: Uint8Array, vip: Uint8Array): void {
    const w = (b: Uint8Array, i: number): number => ((b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3]) >>> 0;
    setClientKey6(this.templates, prefix, w(client, 0), w(client, 1), w(client, 2), w(client, 3), w(vip, 0), w(vip, 1), w(vip, 2), w(vip, 3));
  }

  /** Another worker counts these flows now (sync-disown). */
  disown(records: OutboxRecord6[], now: number): void {
    for (const r of records) {
      const flow = this.flows.lookupBytes(r.proto, r.clientIp, r.clientPort, r.vip, r.vport, now);
      if (flow >= 0) this.flows.disown(flow);
    }
  }

  /** Every IPv6 template, then every flow worth a backup's table (sync-dump). Allocates. */
  dump(now: number, withTemplates: boolean): OutboxRecord6[] {
    const out: OutboxRecord6[] = [];
    const flows = this.flows, bytesOf = (h: number): Uint8Array => flows.addresses.bytesOf(h);
    if (withTemplates) {
      for (const tpl of this.templates.snapshot(now)) {
        // A wide template's words: 0..3 the masked client, 4..7 the VIP.
        const words = new DataView(new ArrayBuffer(32));
        tpl.wide!.forEach((w, i) => words.setUint32(i * 4, w));
        out.push({ family: 6, kind: OUTBOX_TEMPLATE, proto: tpl.proto, state: 0,
          clientIp: new Uint8Array(words.buffer, 0, 16), clientPort: 0, vip: new Uint8Array(words.buffer, 16, 16), vport: tpl.vport,
          rsIp: this.rsAddress.slice(tpl.rsId * 16, tpl.rsId * 16 + 16), rsPort: tpl.rsPort, rsId: tpl.rsId, service: tpl.service, timeout: tpl.expiresIn });
      }
    }
    flows.forEach(now, (f) => {
      const state = f.proto === 6 ? TCP_STATE_NAMES.indexOf(f.state) : 0;
      if (!isSyncWorthy(f.proto, state)) return;
      out.push({ family: 6, kind: OUTBOX_CONNECTION, proto: f.proto, state, clientIp: bytesOf(f.clientIp), clientPort: f.clientPort,
        vip: bytesOf(f.vip), vport: f.vport, rsIp: bytesOf(f.rsIp), rsPort: f.rsPort, rsId: f.rsId, service: f.service, timeout: f.expiresIn });
    });
    return out;
  }
}
