// What every reply the director carries back to a client (NAT, Full NAT) does to the books
// before it is rewritten: IPVS's ip_vs_out_stats (replies are the only "out" packets a director
// sees), then the state table for the reply direction, then the sync offer. Per packet: no
// allocation, no throw.
import type { FlowTable } from '../conntrack/flow-table.js';
import { IPPROTO_TCP, type ParsedFrame } from '../packet/parse.js';
import { S_OUT_BYTES, S_OUT_PKTS, STAT_FIELDS } from './counters.js';
import type { SyncOffers } from './sync-offers.js';

export function accountReply(flows: FlowTable, ipvs: Float64Array, sync: SyncOffers, flow: number, p: ParsedFrame, now: number): void {
  const svcRow = flows.service(flow) * STAT_FIELDS;
  const rsRow = flows.rsId(flow) * STAT_FIELDS;
  ipvs[svcRow + S_OUT_PKTS]++;
  ipvs[svcRow + S_OUT_BYTES] += p.totalLength;
  ipvs[rsRow + S_OUT_PKTS]++;
  ipvs[rsRow + S_OUT_BYTES] += p.totalLength;
  if (p.protocol === IPPROTO_TCP) {
    const before = flows.state(flow);
    flows.onTcpPacket(flow, false, p.tcpFlags, now);
    if (sync.outbox !== null) sync.afterTcp(flow, before, now);
  } else {
    flows.onUdpPacket(flow, now);
    if (sync.outbox !== null) sync.afterUdp(flow, false, now);
  }
}
