// ICMPv6 errors about tracked IPv6 connections (issue 16), as IPVS's ip_vs_in_icmp_v6 /
// ip_vs_out_icmp_v6 and icmp.ts for IPv4:
// - an error sent to a VIP (packet too big, unreachable, time exceeded, parameter problem from
//   a router on the client's path, about a real server's reply) is matched on the packet it
//   quotes (VIP:vport -> client:cport) and goes to that connection's real server: DR to its
//   MAC, TUN encapsulated IPv6-in-IPv6, NAT66 with the outer destination, quoted source and
//   port rewritten to the real server's (ICMPv6 checksum recomputed);
// - a NAT66 real server's error about a client's packet gets the VIP back (outer source,
//   quoted destination and port) on its way to the client.
// Steered here only when the quote names a service or a NAT66 real server (the XDP program's
// services6/replies6 lookups on the quoted header; TAP's u32 filters). An error that matches
// no connection is dropped and counted. Rate-limited with IPv4's forwarded errors (one bucket
// per worker). No allocation per packet, nothing thrown.
import type { FlowTable6 } from '../conntrack/flow-table6.js';
import { DROP, TX, TX_OTHER } from '../io/port.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/parse.js';
import type { ParsedIpv6 } from '../packet/ipv6.js';
import { rewriteIcmp6ErrorForNat66, rewriteIcmp6ErrorFromNat66 } from '../packet/icmp6-error.js';
import { RewriteResult, rewriteForDirectRouting, writeEthernetAddresses, type FrameSpan } from '../packet/rewrite.js';
import { decrementHopLimit, encapsulateIp6ip6 } from '../packet/rewrite6.js';
import { C_DROP_BASE, C_ICMP_FORWARDED, DataplaneDrop } from './counters.js';
import type { IcmpErrors } from './icmp.js';
import type { PortView } from './pipeline.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN } from './snapshot.js';
import { HOP_UNKNOWN, type HopTable, type RealServerMacs, type RuntimeTables } from './tables.js';


/** What TUN needs, kept current by Ipv6Steps.setSnapshot. */
export interface Tunnel6 { source: Uint8Array; hasSource: number; mtu: number }

export class Icmp6Errors {
  private readonly vipScratch = new Uint8Array(16);

  constructor(
    private readonly flows: FlowTable6,
    private readonly parsed: ParsedIpv6,
    private readonly counters: Float64Array,
    private readonly macs: RealServerMacs,
    private readonly hops: HopTable,
    private readonly flowHop: Uint16Array,
    /** IPv4's ICMP errors: their forwarding bucket and clock. */
    private readonly icmp: IcmpErrors,
    /** Each IPv6 real server's 16 bytes by rsId, and a view of each. */
    private readonly rsAddress: Uint8Array,
    private readonly rsViews: readonly Uint8Array[],
    private readonly tunnel: Tunnel6,
    private readonly span: FrameSpan,
  ) {}

  private drop(reason: number): number {
    this.counters[C_DROP_BASE + reason]++;
    return DROP;
  }

  /** Forwarding method of the flow's service in the current tables, or -1 (service gone). */
  private forwardOf(tables: RuntimeTables, flow: number): number {
    const id = this.flows.service(flow);
    const services = tables.services;
    for (let i = 0; i < services.length; i++) if (services[i].spec.id === id) return services[i].spec.forward;
    return -1;
  }

  /** Whether the 16 bytes at a and b are the same address. */
  private static same(u8: Uint8Array, a: number, b: number): boolean {
    for (let i = 0; i < 16; i++) if (u8[a + i] !== u8[b + i]) return false;
    return true;
  }

  /** Outside: an ICMPv6 error to a VIP about a packet of one of its connections. */
  toRealServer(tables: RuntimeTables, outside: PortView, inside: PortView | null, descs: Uint32Array, d: number, now: number): number {
    const p = this.parsed;
    const { u8, dv, port } = outside;
    const proto = p.icmpInnerProtocol;
    const inner = p.icmpInnerL3Offset;
    // The error must be addressed to the quoted packet's source, the VIP.
    if (inner < 0 || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || !Icmp6Errors.same(u8, p.dstOffset, inner + 8)) {
      return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    }
    const flows = this.flows;
    const vip = flows.addresses.findAt(dv, inner + 8);
    if (vip < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    const flow = flows.lookup6(proto, dv, inner + 24, p.icmpInnerDstPort, vip, p.icmpInnerSrcPort, now);
    if (flow < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    const forward = this.forwardOf(tables, flow);
    if (forward < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    const rsId = flows.rsId(flow);
    if (this.macs.has[rsId] === 0) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (!this.icmp.forwardLimit.allow(this.icmp.clock())) return this.drop(DataplaneDrop.ICMP_RATE_LIMITED);
    if (decrementHopLimit(u8, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    const rsMac = this.macs.views[rsId];
    if (forward === FORWARD_DR) {
      rewriteForDirectRouting(u8, descs[d], rsMac, port.mac);
      this.counters[C_ICMP_FORWARDED]++;
      return TX;
    }
    if (forward === FORWARD_TUN) {
      const tunnel = this.tunnel;
      if (tunnel.hasSource === 0) return this.drop(DataplaneDrop.NO_SERVICE);
      const r = encapsulateIp6ip6(u8, dv, p, descs[d], port.frameSize, tunnel.source, this.rsViews[rsId], p.hopLimit, rsMac, port.mac, tunnel.mtu, this.span);
      if (r !== RewriteResult.OK) return this.drop(r === RewriteResult.MTU_EXCEEDED ? DataplaneDrop.MTU_EXCEEDED : DataplaneDrop.NO_ROOM);
      descs[d] = this.span.offset;
      descs[d + 1] = this.span.length;
      this.counters[C_ICMP_FORWARDED]++;
      return TX;
    }
    if (forward !== FORWARD_NAT || inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    rewriteIcmp6ErrorForNat66(u8, p, this.rsAddress, rsId * 16, flows.rsPort(flow));
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    this.counters[C_ICMP_FORWARDED]++;
    return TX_OTHER;
  }

  /** Inside: a NAT66 real server's ICMPv6 error about a client's packet, on to the client as from the VIP. */
  toClient(inside: PortView, outside: PortView, descs: Uint32Array, d: number, now: number): number {
    const p = this.parsed;
    const { u8, dv } = inside;
    const proto = p.icmpInnerProtocol;
    const inner = p.icmpInnerL3Offset;
    // The error must come from the quoted packet's destination, the real server.
    if (inner < 0 || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || !Icmp6Errors.same(u8, p.srcOffset, inner + 24)) {
      return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    }
    const flows = this.flows;
    const flow = flows.lookupReply6(proto, dv, inner + 24, p.icmpInnerDstPort, inner + 8, p.icmpInnerSrcPort, now);
    if (flow < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    if (this.flowHop[flow] === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (!this.icmp.forwardLimit.allow(this.icmp.clock())) return this.drop(DataplaneDrop.ICMP_RATE_LIMITED);
    if (decrementHopLimit(u8, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    flows.addresses.writeTo(flows.vip(flow), this.vipScratch, 0);
    rewriteIcmp6ErrorFromNat66(u8, p, this.vipScratch, 0, flows.vport(flow));
    writeEthernetAddresses(u8, descs[d], this.hops.views[this.flowHop[flow]], outside.port.mac);
    this.counters[C_ICMP_FORWARDED]++;
    return TX_OTHER;
  }
}
