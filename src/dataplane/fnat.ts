// DPVS's Full NAT in the dataplane (lb_kind FNAT). A new connection takes a local address and
// port (src/conntrack/local-ports.ts) before it is scheduled; its packets leave as
// laddr:lport -> rs:rsport (src/packet/rewrite-fnat.ts), on the interface the local address
// lives on; the real server answers the local address, which needs no route through the
// director, and the reply is found by (laddr, lport) and checked against (rs, rsport, proto),
// then leaves as VIP:vport -> client:cport toward the hop the client's packets came from.
// The port goes back to its pool when the flow table frees the flow (FlowTable.localPorts).
//
// ICMP errors about a connection are rewritten as its packets are (every address, the quoted
// ports): from the client's side (icmp.ts finds the flow, then icmpToRealServer) and from the
// real server's side (icmpToClient, found by the quoted laddr:lport). Later fragments follow
// their first one through fragments.ts and get the same address rewrite (laterFragment).
//
// Per packet: no allocation, no throw; drops are counters. Not carried: the client's address
// (no TOA option: see docs/ARCHITECTURE.md).
import type { FlowTable } from '../conntrack/flow-table.js';
import { LocalPorts } from '../conntrack/local-ports.js';
import { DROP, LOCAL, TX, TX_OTHER } from '../io/port.js';
import type { ParsedFrame } from '../packet/parse.js';
import { RewriteResult, decrementTtl, writeEthernetAddresses } from '../packet/rewrite.js';
import { FULL_NAT_ICMP_ADDRESSES, rewriteIcmpErrorForFullNat } from '../packet/icmp-error.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/parse.js';
import { rewriteForFullNat, rewriteFullNatReply } from '../packet/rewrite-fnat.js';
import { C_DROP_BASE, C_FRAGMENTS, C_ICMP_FORWARDED, C_LOCAL_PORTS_IN_USE, DataplaneDrop } from './counters.js';
import { accountReply } from './replies.js';
import type { FrameMemory, IcmpErrors } from './icmp.js';
import { rewriteAddress, type FragmentSteps } from './fragments.js';
import type { Snapshot } from './snapshot.js';
import { HOP_UNKNOWN, type HopTable } from './tables.js';
import type { SyncOffers } from './sync-offers.js';


export class FullNatSteps {
  /** null: the config has no local address groups (every check below is one null test). */
  readonly ports: LocalPorts | null;
  /** Per local address: 1 = on dataplane.interface, 0 = on dataplane.inside. */
  private readonly onOutside: Uint8Array;
  /** Two IPv4 addresses handed to a rewrite (rewrite-fnat.ts: through memory, never boxed). */
  private readonly ipArgs = new Uint32Array(2);

  constructor(
    snapshot: Snapshot,
    private readonly flows: FlowTable,
    private readonly counters: Float64Array,
    private readonly ipvs: Float64Array,
    private readonly hops: HopTable,
    private readonly flowHop: Uint16Array,
    private readonly sync: SyncOffers,
    private readonly icmp: IcmpErrors,
    private readonly fragments: FragmentSteps,
  ) {
    const addresses = snapshot.localAddresses ?? [];
    this.onOutside = Uint8Array.from(addresses.map((a) => (a.outside ? 1 : 0)));
    this.ports = addresses.length === 0 ? null : new LocalPorts({
      addresses: addresses.map((a) => ({ ip: a.ip, portMin: a.portMin, portMax: a.portMax })),
      groups: snapshot.localGroups ?? [],
      slotCount: flows.slotCount,
    });
    flows.localPorts = this.ports;
  }

  private drop(reason: number): number {
    this.counters[C_DROP_BASE + reason]++;
    return DROP;
  }

  /** The ports-in-use gauge into the counters (worker loop, after the sweep; a scan of the addresses). */
  publish(): void {
    const ports = this.ports;
    if (ports !== null) this.counters[C_LOCAL_PORTS_IN_USE] = ports.totalInUse();
  }

  /** Before scheduling a new connection: false = every pool of the group is empty (counted). */
  canOpen(group: number): boolean {
    const ports = this.ports;
    if (ports === null || group < 0) return false;
    if (ports.hasFree(group)) return true;
    ports.exhausted++;
    return false;
  }

  /** The new flow (just inserted) takes its local port; canOpen said one is free. */
  bind(flow: number, group: number): void {
    this.flows.markFullNat(flow);
    this.ports!.allocate(flow, group);
  }

  /** Toward the real server: both addresses and ports rewritten, out where the local address lives. */
  toRealServer(outside: FrameMemory, inside: FrameMemory | null, descs: Uint32Array, d: number, p: ParsedFrame,
    flow: number, rsPort: number, rsMac: Uint8Array): number {
    const ports = this.ports;
    if (flow < 0 || ports === null) return this.drop(DataplaneDrop.LOCAL_PORTS_EXHAUSTED);
    const a = ports.addressOf(flow);
    if (a < 0) return this.drop(DataplaneDrop.LOCAL_PORTS_EXHAUSTED);
    const { u8, dv } = outside;
    // Addresses through memory, not arguments (rewriteForNat says why); read as int32 (FlowRecords.rsIp32).
    const ips = this.ipArgs;
    ips[0] = ports.addresses[a];
    ips[1] = this.flows.rsIp32(flow);
    if (rewriteForFullNat(u8, dv, p, ips, ports.portOf(flow), rsPort) !== RewriteResult.OK) {
      return this.drop(DataplaneDrop.NOT_IPV4_L4);
    }
    return this.outToRealServer(outside, inside, u8, descs, d, a, rsMac);
  }

  /**
   * Address index when `ip` (a packet's destination) is a local address, else -1. One null test
   * when there are none; a short scan otherwise.
   */
  /** ip as `ip | 0` on the hot path (LocalPorts.addressIndex says why). */
  localAddressOf(ip: number): number {
    const ports = this.ports;
    return ports === null ? -1 : ports.addressIndex(ip);
  }

  /**
   * A real server's reply to local address `a` (arrived on `from`; `fromOutside` says which
   * port that is). A port no connection holds is the director's own traffic on that address
   * (a health check, say): it goes on to the kernel, unchanged.
   */
  toClient(from: FrameMemory, fromOutside: boolean, outside: FrameMemory, descs: Uint32Array, d: number,
    p: ParsedFrame, a: number, now: number): number {
    const ports = this.ports!;
    const flows = this.flows;
    const flow = ports.flowAt(a, p.dstPort);
    if (flow < 0) return LOCAL;
    if (flows.rsIp32(flow) !== (p.srcIp | 0) || flows.rsPort(flow) !== p.srcPort || flows.proto(flow) !== p.protocol ||
        flows.expiresAt(flow) <= now) {
      return this.drop(DataplaneDrop.REPLY_NO_FLOW);
    }
    accountReply(flows, this.ipvs, this.sync, flow, p, now);
    const hop = this.flowHop[flow];
    if (hop === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const { u8, dv } = from;
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    // Read before the rewrite: the flow may not be freed in between (no call here frees flows).
    if (p.moreFragments && p.fragmentOffset === 0) this.fragments.rememberFirst(flow, p, now);
    const ips = this.ipArgs;
    ips[0] = flows.vip32(flow);
    ips[1] = flows.clientIp32(flow);
    rewriteFullNatReply(u8, dv, p, ips, flows.vport(flow), flows.clientPort(flow));
    writeEthernetAddresses(u8, descs[d], this.hops.views[hop], outside.port.mac);
    return fromOutside ? TX : TX_OTHER;
  }

  /** Whether `flow` holds a local port (a Full NAT connection). */
  isFullNat(flow: number): boolean {
    return this.ports !== null && this.ports.addressOf(flow) >= 0;
  }

  /** Out toward the real server where the flow's local address lives (MACs written). */
  private outToRealServer(outside: FrameMemory, inside: FrameMemory | null, u8: Uint8Array, descs: Uint32Array, d: number,
    a: number, rsMac: Uint8Array): number {
    if (this.onOutside[a] === 1) {
      writeEthernetAddresses(u8, descs[d], rsMac, outside.port.mac);
      return TX;
    }
    if (inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    return TX_OTHER;
  }

  /**
   * An ICMP error to the VIP about the director's packet to a client of Full NAT flow `flow`
   * (icmp.ts matched it and took its TTL and rate-limit token): it goes to the real server as
   * an error from the local address about the real server's own packet rs:rsport ->
   * laddr:lport, which the real server's stack can match to its socket.
   */
  icmpToRealServer(outside: FrameMemory, inside: FrameMemory | null, descs: Uint32Array, d: number, p: ParsedFrame,
    flow: number, rsMac: Uint8Array): number {
    const ports = this.ports;
    const a = ports === null ? -1 : ports.addressOf(flow);
    if (a < 0) return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    const flows = this.flows;
    const addresses = FULL_NAT_ICMP_ADDRESSES;
    addresses[0] = ports!.addresses[a];
    addresses[1] = flows.rsIp32(flow);
    addresses[2] = flows.rsIp32(flow);
    addresses[3] = ports!.addresses[a];
    rewriteIcmpErrorForFullNat(outside.u8, outside.dv, p, flows.rsPort(flow), ports!.portOf(flow));
    this.counters[C_ICMP_FORWARDED]++;
    return this.outToRealServer(outside, inside, outside.u8, descs, d, a, rsMac);
  }

  /**
   * An ICMP error to local address `a` (arrived on `from`) about the director's packet
   * laddr:lport -> rs:rsport (the real server, or a router between, refused it): to the client
   * as an error from the VIP about its own packet client:cport -> VIP:vport. An error about a
   * port no connection holds is the director's own traffic: to the kernel, unchanged.
   */
  icmpToClient(from: FrameMemory, fromOutside: boolean, outside: FrameMemory, descs: Uint32Array, d: number,
    p: ParsedFrame, a: number, now: number): number {
    const proto = p.icmpInnerProtocol;
    if (p.icmpInnerL3Offset < 0 || (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || p.icmpInnerSrcIp !== p.dstIp) {
      return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    }
    const flows = this.flows;
    const flow = this.ports!.flowAt(a, p.icmpInnerSrcPort);
    if (flow < 0) return LOCAL;
    if (flows.rsIp32(flow) !== (p.icmpInnerDstIp | 0) || flows.rsPort(flow) !== p.icmpInnerDstPort || flows.proto(flow) !== proto ||
        flows.expiresAt(flow) <= now) {
      return this.drop(DataplaneDrop.ICMP_NO_FLOW);
    }
    const hop = this.flowHop[flow];
    if (hop === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (!this.icmp.forwardLimit.allow(this.icmp.clock())) return this.drop(DataplaneDrop.ICMP_RATE_LIMITED);
    const { u8, dv } = from;
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    const addresses = FULL_NAT_ICMP_ADDRESSES;
    addresses[0] = flows.vip32(flow);
    addresses[1] = flows.clientIp32(flow);
    addresses[2] = flows.clientIp32(flow);
    addresses[3] = flows.vip32(flow);
    rewriteIcmpErrorForFullNat(u8, dv, p, flows.clientPort(flow), flows.vport(flow));
    writeEthernetAddresses(u8, descs[d], this.hops.views[hop], outside.port.mac);
    this.counters[C_ICMP_FORWARDED]++;
    return fromOutside ? TX : TX_OTHER;
  }

  /**
   * A later fragment of Full NAT flow `flow` (fragments.ts found it by its first fragment),
   * arrived on `from`: a request (to the VIP) leaves as laddr -> rs, a reply (to the local
   * address) as VIP -> client. Addresses only: the ports and the transport checksum are in the
   * first fragment, and the incremental update made there holds for the whole datagram.
   */
  laterFragment(from: FrameMemory, fromOutside: boolean, outside: FrameMemory, inside: FrameMemory | null,
    descs: Uint32Array, d: number, p: ParsedFrame, flow: number, rsMac: Uint8Array | null): number {
    const ports = this.ports!;
    const a = ports.addressOf(flow);
    const flows = this.flows;
    const { u8, dv } = from;
    const l3 = p.l3Offset;
    if ((p.dstIp | 0) === flows.vip32(flow)) {
      if (rsMac === null) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
      if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
      rewriteAddress(dv, l3, 12, ports.addresses[a] | 0);
      rewriteAddress(dv, l3, 16, flows.rsIp32(flow));
      this.counters[C_FRAGMENTS]++;
      return this.outToRealServer(outside, inside, u8, descs, d, a, rsMac);
    }
    const hop = this.flowHop[flow];
    if (hop === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    rewriteAddress(dv, l3, 12, flows.vip32(flow));
    rewriteAddress(dv, l3, 16, flows.clientIp32(flow));
    writeEthernetAddresses(u8, descs[d], this.hops.views[hop], outside.port.mac);
    this.counters[C_FRAGMENTS]++;
    return fromOutside ? TX : TX_OTHER;
  }
}
