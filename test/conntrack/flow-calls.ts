// The dataplane's call shape for FlowTable (src/dataplane/pipeline.ts): write the 5-tuple (and
// the real server) into table.tuple, then call lookupTuple / lookupReplyTuple / insertTuple.
// The tests use these so they exercise the very methods the dataplane runs.
import type { FlowTable } from '../../src/conntrack/flow-table.js';

/** Client -> VIP: flow index or -1. */
export function lookupFlow(table: FlowTable, proto: number, clientIp: number, clientPort: number,
  vip: number, vport: number, now: number): number {
  const tuple = table.tuple;
  tuple[0] = proto; tuple[1] = clientIp; tuple[2] = clientPort; tuple[3] = vip; tuple[4] = vport;
  return table.lookupTuple(now);
}

/** Real server -> client (a NAT reply): flow index or -1. */
export function lookupReplyFlow(table: FlowTable, proto: number, rsIp: number, rsPort: number,
  clientIp: number, clientPort: number, now: number): number {
  const tuple = table.tuple;
  tuple[0] = proto; tuple[1] = clientIp; tuple[2] = clientPort; tuple[5] = rsIp; tuple[6] = rsPort;
  return table.lookupReplyTuple(now);
}

/** A new connection scheduled to rsId (rsIp:rsPort); trackReply = NAT. */
export function insertFlow(table: FlowTable, proto: number, clientIp: number, clientPort: number,
  vip: number, vport: number, service: number, rsId: number, rsIp: number, rsPort: number,
  now: number, trackReply: boolean): number {
  const tuple = table.tuple;
  tuple[0] = proto; tuple[1] = clientIp; tuple[2] = clientPort; tuple[3] = vip; tuple[4] = vport;
  tuple[5] = rsIp; tuple[6] = rsPort;
  return table.insertTuple(service, rsId, now, trackReply);
}
