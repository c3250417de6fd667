/**
 * Between ulvs's flows and IPVS sync records (pure). Outgoing: an outbox record (what the
 * dataplane copied of a flow) becomes an IPVS v1 connection record with the flags a kernel
 * backup expects. Incoming: a decoded record is matched against the director's whole config
 * (every service, whether or not this director holds its VIP now: a backup holds the flows
 * before the takeover, not after) and becomes a flow to import, or a reason it was ignored.
 */
import { TCP_ESTABLISHED, TCP_STATE_COUNT } from '../conntrack/tcp-states.js';
import { FORWARD_DR, FORWARD_NAT, FORWARD_TUN, type Snapshot, type SnapshotService } from '../dataplane/snapshot.js';
import type { SyncRecord, SyncRecordV4 } from './codec.js';
import { OUTBOX_TEMPLATE, type OutboxRecord } from './outbox.js';
import {
  IP_VS_CONN_F_DROUTE, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_MASQ, IP_VS_CONN_F_NOOUTPUT,
  IP_VS_CONN_F_TEMPLATE, IP_VS_CONN_F_TUNNEL,
} from './wire.js';

/** A flow the dataplane should install, as the master had it. */
export interface ImportedFlow {
  proto: number;
  /** ulvs/IPVS TCP state number; 0 for UDP. */
  state: number;
  clientIp: number; clientPort: number;
  vip: number; vport: number;
  rsIp: number; rsPort: number;
  service: number;
  rsId: number;
  /** Seconds it lives unless refreshed; 0 = the receiver's own timeout for the state. */
  timeout: number;
  /** NAT: the reply tuple must be tracked too. */
  nat: boolean;
}

export type ImportIgnoreReason = 'not-ipv4' | 'template' | 'unknown-service' | 'unknown-real-server' | 'wrong-method' | 'bad-state';

const FLAGS_OF_FORWARD: Record<number, number> = {
  [FORWARD_DR]: IP_VS_CONN_F_DROUTE | IP_VS_CONN_F_NOOUTPUT,
  [FORWARD_TUN]: IP_VS_CONN_F_TUNNEL | IP_VS_CONN_F_NOOUTPUT,
  [FORWARD_NAT]: IP_VS_CONN_F_MASQ,
};
const FORWARD_OF_FLAGS: Record<number, number> = {
  [IP_VS_CONN_F_DROUTE]: FORWARD_DR, [IP_VS_CONN_F_TUNNEL]: FORWARD_TUN, [IP_VS_CONN_F_MASQ]: FORWARD_NAT,
};

/** The IPVS record for an outbox record; `forward` is the flow's service's method. */
export function toSyncRecord(r: OutboxRecord, forward: number): SyncRecordV4 {
  const template = r.kind === OUTBOX_TEMPLATE;
  let flags = FLAGS_OF_FORWARD[forward] ?? IP_VS_CONN_F_DROUTE;
  if (template) flags |= IP_VS_CONN_F_TEMPLATE;
  else if (r.proto === 6 && r.state !== TCP_ESTABLISHED) flags |= IP_VS_CONN_F_INACTIVE;
  return {
    family: 4, proto: r.proto, flags, state: r.state,
    clientPort: r.clientPort, vport: r.vport, rsPort: r.rsPort, fwmark: 0, timeout: r.timeout,
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
  if ((r.flags & IP_VS_CONN_F_TEMPLATE) !== 0) return { ignored: 'template' };
  const svc = index.service(r.proto, r.vip, r.vport);
  if (!svc) return { ignored: 'unknown-service' };
  if (FORWARD_OF_FLAGS[r.flags & IP_VS_CONN_F_FWD_MASK] !== svc.forward) return { ignored: 'wrong-method' };
  const rsId = index.rsId(svc.id, r.rsIp, r.rsPort);
  if (rsId < 0) return { ignored: 'unknown-real-server' };
  if (r.proto === 6 && r.state >= TCP_STATE_COUNT) return { ignored: 'bad-state' };
  return {
    proto: r.proto, state: r.proto === 6 ? r.state : 0,
    clientIp: r.clientIp, clientPort: r.clientPort, vip: r.vip, vport: r.vport, rsIp: r.rsIp, rsPort: r.rsPort,
    service: svc.id, rsId, timeout: r.timeout, nat: svc.forward === FORWARD_NAT,
  };
}
