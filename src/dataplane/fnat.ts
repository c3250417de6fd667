// DPVS's Full NAT in the dataplane (lb_kind FNAT). A new connection takes a local address and
// port (src/conntrack/local-ports.ts) before it is scheduled; its packets leave as
// laddr:lport -> rs:rsport (src/packet/rewrite-fnat.ts), on the interface the local address
// lives on; the real server answers the local address, which needs no route through the
// director, and the reply is found by (laddr, lport) and checked against (rs, rsport, proto),
// then leaves as VIP:vport -> client:cport toward the hop the client's packets came from.
// The port goes back to its pool when the flow table frees the flow (FlowTable.localPorts).
//
// Per packet: no allocation, no throw; drops are counters. Not carried: ICMP errors and later
// fragments of Full NAT connections (dropped and counted by icmp.ts / fragments.ts, which know
// NAT's rewrite only), and the client's address (no TOA option: see docs/ARCHITECTURE.md).
import type { FlowTable } from '../conntrack/flow-table.js';
import { LocalPorts } from '../conntrack/local-ports.js';
import { DROP, LOCAL, TX, TX_OTHER } from '../io/port.js';
import type { ParsedFrame } from '../packet/parse.js';
import { RewriteResult, decrementTtl, writeEthernetAddresses } from '../packet/rewrite.js';
import { rewriteForFullNat, rewriteFullNatReply } from '../packet/rewrite-fnat.js';
import { C_DROP_BASE, DataplaneDrop } from './counters.js';
import { accountReply } from './replies.js';
import type { FrameMemory } from './icmp.js';
import type { Snapshot } from './snapshot.js';
import type { HopTable } from './tables.js';
import type { SyncOffers } from './sync-offers.js';

/** flowHop value of a flow whose client hop is not known yet (pipeline.ts). */
const HOP_UNKNOWN = 0xffff;

export class FullNatSteps {
  /** null: the config has no local address groups (every check below is one null test). */
  readonly ports: LocalPorts | null;
  /** Per local address: 1 = on dataplane.interface, 0 = on dataplane.inside. */
  private readonly onOutside: Uint8Array;

  constructor(
    snapshot: Snapshot,
    private readonly flows: FlowTable,
    private readonly counters: Float64Array,
    private readonly ipvs: Float64Array,
    private readonly hops: HopTable,
    private readonly flowHop: Uint16Array,
    private readonly sync: SyncOffers,
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
    flow: number, rsIp: number, rsPort: number, rsMac: Uint8Array): number {
    const ports = this.ports;
    if (flow < 0 || ports === null) return this.drop(DataplaneDrop.LOCAL_PORTS_EXHAUSTED);
    const a = ports.addressOf(flow);
    if (a < 0) return this.drop(DataplaneDrop.LOCAL_PORTS_EXHAUSTED);
    const { u8, dv } = outside;
    if (rewriteForFullNat(u8, dv, p, ports.addresses[a], ports.portOf(flow), rsIp, rsPort) !== RewriteResult.OK) {
      return this.drop(DataplaneDrop.NOT_IPV4_L4);
    }
    if (this.onOutside[a] === 1) {
      writeEthernetAddresses(u8, descs[d], rsMac, outside.port.mac);
      return TX;
    }
    if (inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    return TX_OTHER;
  }

  /**
   * Address index when `ip` (a packet's destination) is a local address, else -1. One null test
   * when there are none; a short scan otherwise.
   */
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
    if (flows.rsIp(flow) !== p.srcIp || flows.rsPort(flow) !== p.srcPort || flows.proto(flow) !== p.protocol ||
        flows.expiresAt(flow) <= now) {
      return this.drop(DataplaneDrop.REPLY_NO_FLOW);
    }
    accountReply(flows, this.ipvs, this.sync, flow, p, now);
    const hop = this.flowHop[flow];
    if (hop === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const { u8, dv } = from;
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    // Read before the rewrite: the flow may not be freed in between (no call here frees flows).
    rewriteFullNatReply(u8, dv, p, flows.vip(flow), flows.vport(flow), flows.clientIp(flow), flows.clientPort(flow));
    writeEthernetAddresses(u8, descs[d], this.hops.views[hop], outside.port.mac);
    return fromOutside ? TX : TX_OTHER;
  }
}
