// Between ulvs's flow table and IPVS's sync records: state numbers and the flags word.
// ulvs's conntrack numbers TCP states exactly as IPVS does (tcp-states.ts copies
// ip_vs_proto_tcp.c), so TCP is the identity with a range check; the flow table has no UDP
// state, IPVS has one (IP_VS_UDP_S_NORMAL); persistence templates are IP_VS_CTPL_S_NONE.

import type { FlowEntry } from '../conntrack/flow-table.js';
import type { TemplateEntry } from '../conntrack/persistence.js';
import { TCP_STATE_ACTIVE, TCP_STATE_COUNT, TCP_STATE_NAMES, UDP_STATE_NAME } from '../conntrack/tcp-states.js';
import type { SyncRecordV4 } from './codec.js';
import {
  IPPROTO_TCP, IPPROTO_UDP, IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_INACTIVE,
  IP_VS_CONN_F_IN_SEQ, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_NOOUTPUT, IP_VS_CONN_F_NO_CPORT,
  IP_VS_CONN_F_OUT_SEQ, IP_VS_CONN_F_TEMPLATE, IP_VS_CONN_F_TUNNEL, IP_VS_CTPL_S_NONE,
  IP_VS_TCP_S_LAST, IP_VS_UDP_S_NORMAL,
} from './wire.js';

/** ulvs's forwarding methods (lb_kind), as keepalived names them. */
export type ForwardingMethod = 'NAT' | 'DR' | 'TUN';

/** IPVS's state number of a ulvs flow; -1 for a state IPVS has no number for. */
export function ipvsStateOf(proto: number, ulvsState: number): number {
  if (proto === IPPROTO_TCP) return Number.isInteger(ulvsState) && ulvsState >= 0 && ulvsState < TCP_STATE_COUNT ? ulvsState : -1;
  if (proto === IPPROTO_UDP) return IP_VS_UDP_S_NORMAL;
  return -1;
}

/** ulvs's state number for a received record; -1 when ulvs cannot hold it. */
export function ulvsStateOf(proto: number, ipvsState: number): number {
  if (proto === IPPROTO_TCP) return Number.isInteger(ipvsState) && ipvsState >= 0 && ipvsState < IP_VS_TCP_S_LAST ? ipvsState : -1;
  if (proto === IPPROTO_UDP) return ipvsState === IP_VS_UDP_S_NORMAL ? 0 : -1;
  return -1;
}

/** IPVS state number from the name FlowTable.entries() and `ulvs conns` print; -1 if unknown. */
export function ipvsStateFromName(proto: number, name: string): number {
  if (proto === IPPROTO_UDP) return name === UDP_STATE_NAME ? IP_VS_UDP_S_NORMAL : -1;
  if (proto === IPPROTO_TCP) return TCP_STATE_NAMES.indexOf(name);
  return -1;
}

const METHOD_BITS: Record<ForwardingMethod, number> = {
  NAT: IP_VS_CONN_F_MASQ, DR: IP_VS_CONN_F_DROUTE, TUN: IP_VS_CONN_F_TUNNEL,
};

export interface SyncFlagsInput {
  method: ForwardingMethod;
  /** A persistence template (ulvs's PersistenceTable entry), not a connection. */
  template?: boolean;
  /** Counted in InActConn (ulvs's F_INACTIVE: !TCP_STATE_ACTIVE[state], or UDP). */
  inactive?: boolean;
  /** Templates carry no client port (ulvs's templates key on the client address only). */
  noClientPort?: boolean;
}

/**
 * The flags word ulvs sends. Every method but NAT is NOOUTPUT, as IPVS sets it (the director
 * never sees the real server's replies), so the receiver picks the input-only state table.
 */
export function syncFlagsFor(input: SyncFlagsInput): number {
  let flags = METHOD_BITS[input.method];
  if (input.method !== 'NAT') flags |= IP_VS_CONN_F_NOOUTPUT;
  if (input.inactive) flags |= IP_VS_CONN_F_INACTIVE;
  if (input.template) flags |= IP_VS_CONN_F_TEMPLATE;
  if (input.noClientPort) flags |= IP_VS_CONN_F_NO_CPORT;
  return flags >>> 0;
}

export interface SyncFlagsView {
  /** null for IPVS's LOCALNODE, BYPASS and undefined methods, which ulvs does not forward with. */
  method: ForwardingMethod | null;
  template: boolean;
  inactive: boolean;
  noOutput: boolean;
  noClientPort: boolean;
  inSeq: boolean;
  outSeq: boolean;
}

/** Reads a received flags word. */
export function readSyncFlags(flags: number): SyncFlagsView {
  const fwd = flags & IP_VS_CONN_F_FWD_MASK;
  const method = fwd === IP_VS_CONN_F_MASQ ? 'NAT' : fwd === IP_VS_CONN_F_DROUTE ? 'DR' : fwd === IP_VS_CONN_F_TUNNEL ? 'TUN' : null;
  return {
    method,
    template: (flags & IP_VS_CONN_F_TEMPLATE) !== 0,
    inactive: (flags & IP_VS_CONN_F_INACTIVE) !== 0,
    noOutput: (flags & IP_VS_CONN_F_NOOUTPUT) !== 0,
    noClientPort: (flags & IP_VS_CONN_F_NO_CPORT) !== 0,
    inSeq: (flags & IP_VS_CONN_F_IN_SEQ) !== 0,
    outSeq: (flags & IP_VS_CONN_F_OUT_SEQ) !== 0,
  };
}

/** The state a persistence template is sent with. */
export const TEMPLATE_STATE = IP_VS_CTPL_S_NONE;

type FlowFields = Pick<FlowEntry, 'proto' | 'state' | 'clientIp' | 'clientPort' | 'vip' | 'vport' | 'rsIp' | 'rsPort'>;

/**
 * The record for a flow as FlowTable.forEach()/snapshot() report it. `timeout` is the state's
 * full timeout in seconds (IPVS sends cp->timeout, not the time left). Inactive as IPVS keeps
 * it: every new connection starts IP_VS_CONN_F_INACTIVE (the dest's conn_flags), TCP clears it
 * in an active state (tcp_state_active), UDP keeps it. Returns null for a state IPVS cannot carry.
 */
export function syncRecordFromFlow(flow: FlowFields, method: ForwardingMethod, timeout: number): SyncRecordV4 | null {
  const state = ipvsStateFromName(flow.proto, flow.state);
  if (state < 0) return null;
  const inactive = flow.proto === IPPROTO_TCP ? TCP_STATE_ACTIVE[state] === 0 : true;
  return {
    family: 4, proto: flow.proto, flags: syncFlagsFor({ method, inactive }), state,
    clientPort: flow.clientPort, vport: flow.vport, rsPort: flow.rsPort, fwmark: 0, timeout,
    clientIp: flow.clientIp, vip: flow.vip, rsIp: flow.rsIp,
  };
}

type TemplateFields = Pick<TemplateEntry, 'proto' | 'clientIp' | 'vip' | 'vport' | 'rsIp' | 'rsPort'>;

/**
 * The record for a persistence template (PersistenceTable.snapshot()): the masked client
 * address, no client port, the service's persistence_timeout; `fwmark` for a fwmark service.
 */
export function syncRecordFromTemplate(template: TemplateFields, method: ForwardingMethod, persistenceTimeout: number, fwmark = 0): SyncRecordV4 {
  return {
    family: 4, proto: template.proto, flags: syncFlagsFor({ method, template: true, noClientPort: true }), state: TEMPLATE_STATE,
    clientPort: 0, vport: template.vport, rsPort: template.rsPort, fwmark, timeout: persistenceTimeout,
    clientIp: template.clientIp, vip: template.vip, rsIp: template.rsIp,
  };
}
