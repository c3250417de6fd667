// ICMP errors in the dataplane (issue 17), as IPVS's ip_vs_in_icmp / ip_vs_out_icmp:
// - an error sent to a VIP (a router on the client's path refusing a real server's reply:
//   fragmentation needed, unreachable, time exceeded, ...) is matched on the packet it quotes
//   (VIP:vport -> client:cport) against the flow table and goes to that connection's real
//   server: DR to its MAC, TUN encapsulated, NAT with outer and quoted headers rewritten;
// - a NAT real server's error about a client's packet gets the VIP back on its way out;
// - Full NAT rewrites every address of the error both ways (fnat.ts icmpToRealServer, and
//   icmpToClient for errors to a local address, which the pipeline sends there first);
// - where IPVS answers a packet it cannot forward with an ICMP error (TTL expired; too big for
//   the tunnel with DF set), ulvs answers in the same frame, rate-limited as the kernel does.
// The XDP program steers to ulvs only errors that quote a service's or a NAT real server's
// packet (native/bpf/ulvs_xdp.c); echo requests and all other ICMP stay with the kernel. An
// error steered here that matches no connection is dropped and counted: it quotes a VIP:port
// that only ulvs serves, so the kernel would have no socket to give it to either.
// No allocation per packet, nothing thrown: drops are counters.

import type { FlowTable } from '../conntrack/flow-table.js';
import { DROP, TX, TX_OTHER, type PacketPort } from '../io/port.js';
import { IPPROTO_TCP, IPPROTO_UDP, type ParsedFrame } from '../packet/parse.js';
import { rewriteIcmpErrorForNat, rewriteIcmpErrorFromNat, turnIntoIcmpError } from '../packet/icmp-error.js';
import {
  RewriteResult, decrementTtl, rewriteForDirectRouting, writeEthernetAddresses, type FrameSpan,
} from '../packet/rewrite.js';
import { encapsulateTunnel } from '../packet/tunnels.js';
import { C_DROP_BASE, C_ICMP_FORWARDED, C_ICMP_SENT, DataplaneDrop } from './counters.js';
import { TokenBucket } from './rate-limit.js';
import { FORWARD_DR, FORWARD_FNAT, FORWARD_NAT, FORWARD_TUN } from './snapshot.js';
import type { FullNatSteps } from './fnat.js';
import { HOP_UNKNOWN, type HopTable, type RealServerMacs, type RuntimeTables } from './tables.js';

/** A port with views over its frame memory (made once per port). */
export interface FrameMemory { port: PacketPort; u8: Uint8Array; dv: DataView }


/**
 * Errors to forward: far above what path-MTU discovery needs, low enough that a forged storm
 * cannot turn the director into an amplifier towards its real servers (per worker).
 */
export const FORWARDED_ERRORS_PER_SEC = 10_000;
export const FORWARDED_ERRORS_BURST = 1_000;

export class IcmpErrors {
  /** Errors forwarded to real servers or clients. */
  forwardLimit = new TokenBucket(FORWARDED_ERRORS_PER_SEC, FORWARDED_ERRORS_BURST);
  /** Errors ulvs sends itself: the kernel's icmp_msgs_per_sec / icmp_msgs_burst. */
  sendLimit = new TokenBucket();
  private ipId = 0x4000;
  /** Full NAT's rewrite of a matched error (set by the Dataplane once both exist). */
  fullNat: FullNatSteps | null = null;

  constructor(
    private readonly flows: FlowTable,
    private readonly counters: Float64Array,
    private readonly macs: RealServerMacs,
    private readonly hops: HopTable,
    private readonly flowHop: Uint16Array,
    private readonly span: FrameSpan,
  ) {}

  /** Milliseconds; read once per ICMP decision, never per ordinary packet (tests may freeze it). */
  clock: () => number = () => performance.now();

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

  /** Outside: an ICMP error to a VIP about a packet of one of its connections. */
  toRealServer(tables: RuntimeTables, outside: FrameMemory, inside: FrameMemory | null,
    descs: Uint32Array, d: number, p: ParsedFrame, now: number): number {
    const proto = p.icmpInnerProtocol;
    // The error must be addressed to the quoted packet's source, the VIP.
    if (p.icmpInnerL3Offset < 0 || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || p.dstIp !== p.icmpInnerSrcIp) {
      return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    }
    const flows = this.flows;
    const tuple = flows.tuple;
    tuple[0] = proto; tuple[1] = p.icmpInnerDstIp; tuple[2] = p.icmpInnerDstPort; tuple[3] = p.icmpInnerSrcIp; tuple[4] = p.icmpInnerSrcPort;
    const flow = flows.lookupTuple(now);
    if (flow < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    const forward = this.forwardOf(tables, flow);
    if (forward < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    const rsId = flows.rsId(flow);
    if (this.macs.has[rsId] === 0) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (!this.forwardLimit.allow(this.clock())) return this.drop(DataplaneDrop.ICMP_RATE_LIMITED);
    const { u8, dv, port } = outside;
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    const rsMac = this.macs.views[rsId];
    if (forward === FORWARD_DR) {
      rewriteForDirectRouting(u8, descs[d], rsMac, port.mac);
      this.counters[C_ICMP_FORWARDED]++;
      return TX;
    }
    if (forward === FORWARD_TUN) {
      this.ipId = (this.ipId + 1) & 0xffff;
      const r = encapsulateTunnel(u8, dv, p, port.frameSize, tables.rsTunnel[rsId], tables.rsTunnelPort[rsId],
        tables.snapshot.tunnelSource | 0, flows.rsIp32(flow), p.ttl, this.ipId, rsMac, port.mac, tables.snapshot.mtu, this.span);
      if (r !== RewriteResult.OK) return this.drop(r === RewriteResult.MTU_EXCEEDED ? DataplaneDrop.MTU_EXCEEDED : DataplaneDrop.NO_ROOM);
      descs[d] = this.span.offset;
      descs[d + 1] = this.span.length;
      this.counters[C_ICMP_FORWARDED]++;
      return TX;
    }
    if (forward === FORWARD_FNAT && this.fullNat !== null) return this.fullNat.icmpToRealServer(outside, inside, descs, d, p, flow, rsMac);
    if (forward !== FORWARD_NAT || inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    rewriteIcmpErrorForNat(u8, dv, p, flows.rsIp32(flow), flows.rsPort(flow));
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    this.counters[C_ICMP_FORWARDED]++;
    return TX_OTHER;
  }

  /** Inside: a NAT real server's ICMP error about a client's packet, sent on to the client as from the VIP. */
  toClient(inside: FrameMemory, outside: FrameMemory, descs: Uint32Array, d: number, p: ParsedFrame, now: number): number {
    const proto = p.icmpInnerProtocol;
    // The error must come from the quoted packet's destination, the real server.
    if (p.icmpInnerL3Offset < 0 || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || p.srcIp !== p.icmpInnerDstIp) {
      return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    }
    const flows = this.flows;
    const tuple = flows.tuple;
    tuple[0] = proto; tuple[1] = p.icmpInnerSrcIp; tuple[2] = p.icmpInnerSrcPort; tuple[5] = p.icmpInnerDstIp; tuple[6] = p.icmpInnerDstPort;
    const flow = flows.lookupReplyTuple(now);
    if (flow < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    if (this.flowHop[flow] === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (!this.forwardLimit.allow(this.clock())) return this.drop(DataplaneDrop.ICMP_RATE_LIMITED);
    if (decrementTtl(inside.u8, inside.dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    rewriteIcmpErrorFromNat(inside.u8, inside.dv, p, flows.vip32(flow), flows.vport(flow));
    writeEthernetAddresses(inside.u8, descs[d], this.hops.views[this.flowHop[flow]], outside.port.mac);
    this.counters[C_ICMP_FORWARDED]++;
    return TX_OTHER;
  }

  /**
   * The ICMP error IPVS sends about a packet it cannot forward, in place of that packet, back
   * out of the port it came in on; `dropReason` is counted as well when the answer is
   * rate-limited or does not fit, so the packet's fate is always counted.
   */
  answer(mem: FrameMemory, descs: Uint32Array, d: number, p: ParsedFrame,
    type: number, code: number, rest: number, dropReason: number): number {
    // The packet itself is dropped under its reason; an answer sent in its frame is counted as
    // icmp_sent, one held back by the limit is just not sent (not a second drop of one frame).
    this.counters[C_DROP_BASE + dropReason]++;
    if (!this.sendLimit.allow(this.clock())) return DROP;
    this.ipId = (this.ipId + 1) & 0xffff;
    const length = turnIntoIcmpError(mem.u8, mem.dv, p, mem.port.frameSize, type, code, rest, p.dstIp, this.ipId);
    if (length < 0) return DROP;
    descs[d + 1] = length;
    this.counters[C_ICMP_SENT]++;
    return TX;
  }
}
