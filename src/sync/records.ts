/**
 * Between ulvs's flows and IPVS sync records (pure). Outgoing: an outbox record (what the
 * dataplane copied of a flow) becomes an IPVS v1 connection record with the flags a kernel
 * backup expects. Incoming: a decoded record is matched against the director's whole config
 * (every service, whether or not this director holds its VIP now: a backup holds the flows
 * before the takeover, not after) and becomes a flow to import, or a reason it was ignored.
 */
import { TCP_STATE_ACTIVE } from '../conntrack/tcp-states.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN, type Snapshot, type SnapshotService } from '../dataplane/snapshot.js';
import type { SyncRecord, SyncRecordV4 } from './codec.js';
import { OUTBOX_TEMPLATE, type OutboxRecord } from '../dataplane/sync-outbox.js';
import type { ImportedFlow } from '../dataplane/sync-offers.js';

export type { ImportedFlow } from '../dataplane/sync-offers.js';
import { TEMPLATE_STATE, readSyncFlags, syncFlagsFor, ulvsStateOf, type ForwardingMethod } from './mapping.js';

export type ImportIgnoreReason = 'not-ipv4' | 'template' | 'unknown-service' | 'unknown-real-server' | 'wrong-method' | 'bad-state';

const METHOD_OF_FORWARD: Record<number, ForwardingMethod> = { [FORWARD_DR]: 'DR', [FORWARD_NAT]: 'NAT', [FORWARD_TUN]: 'TUN' };
const FORWARD_OF_METHOD: Record<ForwardingMethod, number> = { DR: FORWARD_DR, NAT: FORWARD_NAT, TUN: FORWARD_TUN };

/** The IPVS record for an outbox record; `forward` is the flow's service's method (FORWARD_*). */
export function toSyncRecord(r: OutboxRecord, forward: number): SyncRecordV4 {
  const template = r.kind === OUTBOX_TEMPLATE;
  const inactive = !template && (r.proto === 6 ? TCP_STATE_ACTIVE[r.state] === 0 : true);
  return {
    family: 4, proto: r.proto, flags: syncFlagsFor({ method: METHOD_OF_FORWARD[forward] ?? 'DR', template, inactive, noClientPort: template }),
    state: template ? TEMPLATE_STATE : r.state,
    clientPort: template ? 0 : r.clientPort, vport: r.vport, rsPort: r.rsPort, fwmark: 0, timeout: r.timeout,
    clientIp: r.clientIp, vip: r.vip, rsIp: r.rsIp,
  };
}

/**
 * Finds services by (protocol, VIP, port) and real servers by (service, ip, port) in a snapshot
 * compiled with every VIP (see Director: the import index ignores VRRP ownership).
 */
export class SyncIndex {
  private readonly services = new Map<string, SnapshotService>();
  private readonly realServers = new Map<string, number>();

  constructor(snapshot: Snapshot) {
    for (const s of snapshot.services) {
      for (const a of s.addresses) this.services.set(`${s.protocol}|${a.vip}|${a.vport}`, s);
      for (const rs of s.realServers) this.realServers.set(`${s.id}|${rs.ip}|${rs.port}`, rs.rsId);
    }
  }

  service(proto: number, vip: number, vport: number): SnapshotService | undefined {
    return this.services.get(`${proto}|${vip}|${vport}`);
  }

  /** rsId of the endpoint, or -1; port 0 servers (group services) match any port. */
  rsId(service: number, ip: number, port: number): number {
    return this.realServers.get(`${service}|${ip}|${port}`) ?? this.realServers.get(`${service}|${ip}|0`) ?? -1;
  }
}

/** A received record as a flow to install, or why it is ignored (counted by the caller). */
export function fromSyncRecord(r: SyncRecord, index: SyncIndex): ImportedFlow | { ignored: ImportIgnoreReason } {
  if (r.family !== 4) return { ignored: 'not-ipv4' };
  // Persistence templates: counted, not applied yet (ulvs's templates are per worker and keyed by service).
  const flags = readSyncFlags(r.flags);
  if (flags.template) return { ignored: 'template' };
  const svc = index.service(r.proto, r.vip, r.vport);
  if (!svc) return { ignored: 'unknown-service' };
  if (flags.method === null || FORWARD_OF_METHOD[flags.method] !== svc.forward) return { ignored: 'wrong-method' };
  const rsId = index.rsId(svc.id, r.rsIp, r.rsPort);
  if (rsId < 0) return { ignored: 'unknown-real-server' };
  const state = ulvsStateOf(r.proto, r.state);
  if (state < 0) return { ignored: 'bad-state' };
  return {
    proto: r.proto, state,
    clientIp: r.clientIp, clientPort: r.clientPort, vip: r.vip, vport: r.vport, rsIp: r.rsIp, rsPort: r.rsPort,
    service: svc.id, rsId, timeout: r.timeout, nat: svc.forward === FORWARD_NAT,
  };
}
