// Fragmented datagrams in the dataplane (issue 17): the first fragment goes through the normal
// path (it has the ports: lookup or schedule, rewrite) and is remembered in the FragmentTable;
// later fragments follow it there by (source, destination, IP ID, protocol). NAT rewrites the
// address of every fragment (IP header checksum) and the port and transport checksum in the
// first only, where they are: an incremental checksum update holds for the whole datagram.
// See src/conntrack/fragments.ts for why ulvs neither reassembles (IPVS) nor hashes on L3 only
// (Katran, GLB). No allocation per packet, nothing thrown: drops are counters.

import type { FlowTable } from '../conntrack/flow-table.js';
import { FragmentTable, FragmentVerdict } from '../conntrack/fragments.js';
import { DROP, TX, TX_OTHER } from '../io/port.js';
import { updateChecksum32 } from '../packet/checksum.js';
import type { ParsedFrame } from '../packet/parse.js';
import {
  RewriteResult, decrementTtl, rewriteForDirectRouting, writeEthernetAddresses, type FrameSpan,
} from '../packet/rewrite.js';
import { encapsulateTunnel } from '../packet/tunnels.js';
import { C_DROP_BASE, C_FRAGMENTS, DataplaneDrop } from './counters.js';
import type { FrameMemory } from './icmp.js';
import { FORWARD_DR, FORWARD_FNAT, FORWARD_NAT, FORWARD_TUN } from './snapshot.js';
import type { FullNatSteps } from './fnat.js';
import { HOP_UNKNOWN, type HopTable, type RealServerMacs, type RuntimeTables } from './tables.js';

/** Direction bit in the table's key: client -> VIP, or NAT real server -> client. */
const REQUEST = 0;
const REPLY = 1 << 24;

/** Replace one IPv4 address (12 source, 16 destination) with the header checksum updated (also fnat.ts). */
export function rewriteAddress(dv: DataView, l3: number, field: number, newIp: number): void {
  const old = dv.getUint32(l3 + field);
  dv.setUint16(l3 + 10, updateChecksum32(dv.getUint16(l3 + 10), old, newIp));
  dv.setUint32(l3 + field, newIp);
}

/**
 * The flow a later fragment follows (the table's key already set), or -1 with the drop counted:
 * no first fragment remembered, or bytes the datagram's accounting calls forged. IPv4 and IPv6
 * (fragments6.ts) alike; the fragment's fields come as numbers, so each family's parsed-frame
 * shape stays its own.
 */
export function followFragment(table: FragmentTable, counters: Float64Array, now: number,
  offset: number, l4Length: number, moreFragments: boolean): number {
  const slot = table.find(now);
  if (slot < 0) {
    counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_NO_FIRST]++;
    return -1;
  }
  const verdict = table.account(slot, offset, l4Length, moreFragments);
  if (verdict !== FragmentVerdict.OK && verdict !== FragmentVerdict.COMPLETE) {
    counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_FORGED]++;
    return -1;
  }
  return table.flow(slot);
}

export class FragmentSteps {
  /** Full NAT's rewrite of a later fragment (set by the Dataplane once both exist). */
  fullNat: FullNatSteps | null = null;

  constructor(
    readonly table: FragmentTable,
    private readonly flows: FlowTable,
    private readonly counters: Float64Array,
    private readonly macs: RealServerMacs,
    private readonly hops: HopTable,
    private readonly flowHop: Uint16Array,
    private readonly span: FrameSpan,
  ) {}

  private drop(reason: number): number {
    this.counters[C_DROP_BASE + reason]++;
    return DROP;
  }

  /** Sets the table's key from a parsed fragment, before any rewrite changes its addresses. */
  keyOf(p: ParsedFrame, reply: boolean): void {
    const k = this.table.key;
    k[0] = p.srcIp; k[1] = p.dstIp; k[2] = (reply ? REPLY : REQUEST) | (p.ipId << 8) | p.protocol;
  }

  /** A first fragment was given `flow` (key set by keyOf): its followers will find it. */
  rememberFirst(flow: number, p: ParsedFrame, now: number): void {
    this.counters[C_FRAGMENTS]++;
    if (this.table.insert(flow, p.l4Length, now) < 0) this.counters[C_DROP_BASE + DataplaneDrop.FRAGMENT_TABLE_FULL]++;
  }

  /** Outside: a fragment with an offset, client -> VIP. */
  laterRequest(tables: RuntimeTables, outside: FrameMemory, inside: FrameMemory | null,
    descs: Uint32Array, d: number, p: ParsedFrame, now: number): number {
    this.keyOf(p, false);
    const flow = followFragment(this.table, this.counters, now, p.fragmentOffset, p.l4Length, p.moreFragments);
    if (flow < 0) return DROP;
    const flows = this.flows;
    const id = flows.service(flow);
    let forward = -1;
    for (let i = 0; i < tables.services.length; i++) if (tables.services[i].spec.id === id) forward = tables.services[i].spec.forward;
    if (forward < 0) return this.drop(DataplaneDrop.NO_SERVICE);
    const rsId = flows.rsId(flow);
    if (forward === FORWARD_FNAT && this.fullNat !== null) {
      // A request to the VIP, or (local address on this interface) a real server's reply.
      return this.fullNat.laterFragment(outside, true, outside, inside, descs, d, p, flow,
        this.macs.has[rsId] === 0 ? null : this.macs.views[rsId]);
    }
    if (this.macs.has[rsId] === 0) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    const { u8, dv, port } = outside;
    if (decrementTtl(u8, dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    const rsMac = this.macs.views[rsId];
    this.counters[C_FRAGMENTS]++;
    if (forward === FORWARD_DR) {
      rewriteForDirectRouting(u8, descs[d], rsMac, port.mac);
      return TX;
    }
    if (forward === FORWARD_TUN) {
      const r = encapsulateTunnel(u8, dv, p, port.frameSize, tables.rsTunnel[rsId], tables.rsTunnelPort[rsId],
        tables.snapshot.tunnelSource | 0, flows.rsIp32(flow), p.ttl, p.ipId ^ 0x8000, rsMac, port.mac, tables.snapshot.mtu, this.span);
      if (r !== RewriteResult.OK) return this.drop(r === RewriteResult.MTU_EXCEEDED ? DataplaneDrop.MTU_EXCEEDED : DataplaneDrop.NO_ROOM);
      descs[d] = this.span.offset;
      descs[d + 1] = this.span.length;
      return TX;
    }
    if (forward !== FORWARD_NAT || inside === null) return this.drop(DataplaneDrop.NO_INSIDE_PORT);
    rewriteAddress(dv, p.l3Offset, 16, flows.rsIp32(flow));
    writeEthernetAddresses(u8, descs[d], rsMac, inside.port.mac);
    return TX_OTHER;
  }

  /** Inside: a fragment with an offset of a NAT (or Full NAT) real server's reply. */
  laterReply(inside: FrameMemory, outside: FrameMemory, descs: Uint32Array, d: number, p: ParsedFrame, now: number): number {
    this.keyOf(p, true);
    const flow = followFragment(this.table, this.counters, now, p.fragmentOffset, p.l4Length, p.moreFragments);
    if (flow < 0) return DROP;
    if (this.fullNat !== null && this.fullNat.isFullNat(flow)) {
      return this.fullNat.laterFragment(inside, false, outside, inside, descs, d, p, flow, null);
    }
    if (this.flowHop[flow] === HOP_UNKNOWN) return this.drop(DataplaneDrop.NO_NEIGHBOUR);
    if (decrementTtl(inside.u8, inside.dv, p) !== RewriteResult.OK) return this.drop(DataplaneDrop.TTL_EXPIRED);
    rewriteAddress(inside.dv, p.l3Offset, 12, this.flows.vip32(flow));
    writeEthernetAddresses(inside.u8, descs[d], this.hops.views[this.flowHop[flow]], outside.port.mac);
    this.counters[C_FRAGMENTS]++;
    return TX_OTHER;
  }
}
