// IPv6 fragments in the dataplane (issue 16), as IPv4's (fragments.ts): the first fragment goes
// through the IPv6 path (it has the ports) and is remembered in a FragmentTable keyed by
// (source, destination, 32-bit identification, direction, next header); later fragments follow
// it. DR changes only the MACs; NAT66 writes the real server's address as destination (the
// VIP as source for replies) in every fragment, and the port and transport checksum only in
// the first, where they are (IPv6 has no header checksum); TUN6 encapsulates each fragment.
// Same drops and counters as IPv4 (drop_fragment_no_first, _forged, _table_full). No
// allocation, nothing thrown.
import { FRAGMENT_KEY_WORDS6, FragmentTable } from '../conntrack/fragments.js';
import type { FlowTable6 } from '../conntrack/flow-table6.js';
import { DROP, TX, TX_OTHER } from '../io/port.js';
import type { ParsedIpv6 } from '../packet/ipv6.js';
import { RewriteResult, rewriteForDirectRouting, writeEthernetAddresses, type FrameSpan } from '../packet/rewrite.js';
import { decrementHopLimit, encapsulateIp6ip6 } from '../packet/rewrite6.js';
import { C_DROP_BASE, C_FRAGMENTS, C_IPV6_FORWARDED, DataplaneDrop } from './counters.js';
import { followFragment } from './fragments.js';
import type { Tunnel6 } from './icmp6.js';
import type { PortView } from './pipeline.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN } from './snapshot.js';
import { HOP_UNKNOWN, type HopTable, type RealServerMacs, type RuntimeTables } from './tables.js';

/** Direction bit in the key's last word: client -> VIP, or NAT66 real server -> client. */
const REPLY = 1 << 24;

export class Fragment6Steps {
  readonly table = new FragmentTable({ keyWords: FRAGMENT_KEY_WORDS6 });

  constructor(
    private readonly flows: FlowTable6,
    private readonly p: ParsedIpv6,
    private readonly counters: Float64Array,
    private readonly macs: RealServerMacs,
    private readonly hops: HopTable,
    private readonly flowHop: Uint16Array,
    private readonly rsAddress: Uint8Array,
    private readonly rsViews: readonly Uint8Array[],
    private readonly tunnel: Tunnel6,
    private readonly span: FrameSpan,
  ) {}

  private drop(reason: number): number {
    this.counters[C_DROP_BASE + reason]++;
    return DROP;
  }

  /** Sets the table's key from the parsed fragment, before any rewrite changes its addresses. */
  keyOf(reply: boolean): void {
    const k = this.table.key, p = this.p;
    k[0] = p.src0; k[1] = p.src1; k[2] = p.src2; k[3] = p.src3;
    k[4] = p.dst0; k[5] = p.dst1; k[6] = p.dst2; k[7] = p.dst3;
    k[8] = p.fragmentId;
    k[9] = (reply ? REPLY : 0) | p.protocol;
  }

  /** A first fragment was given `flow` (key set by keyOf): its followers will find it. */
  rememberFirst(flow: number, now: number): void {
    this.counters[C_FRAGMENTS]++;
    if (this.table.insert(flow, this.p.l4Length, now) < 0) this.counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_TABLE_FULL]++;
  }

  /** Outside: a fragment with an offset, client -> IPv6 VIP. */
  laterRequest(tables: RuntimeTables, outside: PortView, inside: PortView | null, descs: Uint32Array, d: number, now: number): number {
    this.keyOf(false);
    const flow = followFragment(this.table, this.counters, now, this.p.fragmentOffset, this.p.l4Length, this.p.moreFragments);
    if (flow < 0) return DROP;
    const flows = this.flows, p = this.p;
    const id = flows.service(flow);
    let forward = -1;
    for (let i = 0; i < tables.services.length; i++) if (tables.services[i].spec.id === id) forward = tables.services[i].spec.forward;
    if (forward < 0) return this.drop(DataplaneDrop.NO_SERVICE);
    const rsId = flows.rsId(flow);
    if (this.macs.has[rsId] === 0) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const { u8, dv, port } = outside;
    if (decrementHopLimit(u8, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    const rsMac = this.macs.views[rsId];
    if (forward === FORWARD_DR) {
      rewriteForDirectRouting(u8, descs[d], rsMac, port.mac);
      return this.forwarded(TX);
    }
    if (forward === FORWARD_TUN) {
      const tunnel = this.tunnel;
      if (tunnel.hasSource === 0) return this.drop(DataplaneDrop.NO_SERVICE);
      const r = encapsulateIp6ip6(u8, dv, p, descs[d], port.frameSize, tunnel.source, this.rsViews[rsId], p.hopLimit, rsMac, port.mac,
        tunnel.mtu, this.span);
      if (r !== RewriteResult.OK) return this.drop(r === RewriteResult.MTU_EXCEEDED ? DataplaneDrop.MTU_EXCEEDED : DataplaneDrop.NO_ROOM);
      descs[d] = this.span.offset;
      descs[d + 1] = this.span.length;
      return this.forwarded(TX);
    }
    if (forward !== FORWARD_NAT || inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    // No header checksum in IPv6, and the transport checksum is in the first fragment only.
    const to = p.dstOffset, from = rsId * 16, rs = this.rsAddress;
    for (let i = 0; i < 16; i++) u8[to + i] = rs[from + i];
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    return this.forwarded(TX_OTHER);
  }

  /** Inside: a fragment with an offset of a NAT66 real server's reply. */
  laterReply(inside: PortView, outside: PortView, descs: Uint32Array, d: number, now: number): number {
    this.keyOf(true);
    const flow = followFragment(this.table, this.counters, now, this.p.fragmentOffset, this.p.l4Length, this.p.moreFragments);
    if (flow < 0) return DROP;
    if (this.flowHop[flow] === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const p = this.p;
    if (decrementHopLimit(inside.u8, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    this.flows.addresses.writeTo(this.flows.vip(flow), inside.u8, p.srcOffset);
    writeEthernetAddresses(inside.u8, descs[d], this.hops.views[this.flowHop[flow]], outside.port.mac);
    return this.forwarded(TX_OTHER);
  }

  private forwarded(verdict: number): number {
    this.counters[C_FRAGMENTS]++;
    this.counters[C_IPV6_FORWARDED]++;
    return verdict;
  }
}
