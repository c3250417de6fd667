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
import type { ImportedFlow, ImportedTemplate } from '../dataplane/sync-offers.js';

export type { ImportedFlow, ImportedTemplate } from '../dataplane/sync-offers.js';
import { TEMPLATE_STATE, readSyncFlags, syncFlagsFor, ulvsStateOf, type ForwardingMethod } from './mapping.js';

export type ImportIgnoreReason = 'not-ipv4' | 'unknown-service' | 'unknown-real-server' | 'wrong-method' | 'bad-state' | 'template-not-persistent';

const METHOD_OF_FORWARD: Record<number, ForwardingMethod> = { [FORWARD_DR]: 'DR', [FORWARD_NAT]: 'NAT', [FORWARD_TUN]: 'TUN' };
const FORWARD_OF_METHOD: Record<ForwardingMethod, number> = { DR: FORWARD_DR, NAT: FORWARD_NAT, TUN: FORWARD_TUN };

/** Whether a received record's method (its flags') is the service's here (IPv4 and IPv6, records6.ts). */
export function methodMatches(method: ForwardingMethod | null, svc: SnapshotService): boolean {
  return method !== null && FORWARD_OF_METHOD[method] === svc.forward;
}

/**
 * What an IPVS record says of an outbox record whatever its family (records6.ts adds the IPv6
 * addresses): flags, state and ports; `forward` is the flow's service's method (FORWARD_*).
 * TCP clears INACTIVE in an active state, UDP keeps it.
 */
export function syncRecordFields(r: Pick<OutboxRecord, 'kind' | 'proto' | 'state' | 'clientPort' | 'vport' | 'rsPort' | 'timeout'>, forward: number):
  Omit<SyncRecordV4, 'family' | 'clientIp' | 'vip' | 'rsIp'> {
  const template = r.kind === OUTBOX_TEMPLATE;
  const inactive = !template && (r.proto === 6 ? TCP_STATE_ACTIVE[r.state] === 0 : true);
  return {
    proto: r.proto, flags: syncFlagsFor({ method: METHOD_OF_FORWARD[forward] ?? 'DR', template, inactive, noClientPort: template }),
    state: template ? TEMPLATE_STATE : r.state,
    clientPort: template ? 0 : r.clientPort, vport: r.vport, rsPort: r.rsPort, fwmark: 0, timeout: r.timeout,
  };
}

/** The IPVS record for an outbox record; `forward` is the flow's service's method (FORWARD_*). */
export function toSyncRecord(r: OutboxRecord, forward: number): SyncRecordV4 {
  return { family: 4, ...syncRecordFields(r, forward), clientIp: r.clientIp, vip: r.vip, rsIp: r.rsIp };
}

/**
 * Finds services by (protocol, VIP, port) and real servers by (service, ip, port) in a snapshot
 * compiled with every VIP (see Director: the import index ignores VRRP ownership).
 */
export class SyncIndex {
  private readonly services = new Map<string, SnapshotService>();
  private readonly realServers = new Map<string, number>();
  private readonly groupByVip = new Map<number, SnapshotService>();

  constructor(snapshot: Snapshot) {
    for (const s of snapshot.services) {
      if (s.addresses.length > 1) for (const a of s.addresses) if (!this.groupByVip.has(a.vip)) this.groupByVip.set(a.vip, s);
      for (const a of s.addresses) this.services.set(`${s.protocol}|${a.vip}|${a.vport}`, s);
      for (const rs of s.realServers) this.realServers.set(`${s.id}|${rs.ip}|${rs.port}`, rs.rsId);
    }
  }

  service(proto: number, vip: number, vport: number): SnapshotService | undefined {
    return this.services.get(`${proto}|${vip}|${vport}`);
  }

  /**
   * The service of a persistence template: by (protocol, VIP, port), or for a multi-address
   * service (virtual_server_group; its templates carry protocol 0 and port 0, as ulvs lists
   * them) by any of its VIPs.
   */
  templateService(proto: number, vip: number, vport: number): SnapshotService | undefined {
    return this.services.get(`${proto}|${vip}|${vport}`) ?? (proto === 0 && vport === 0 ? this.groupByVip.get(vip) : undefined);
  }

  /** rsId of the endpoint, or -1; port 0 servers (group services) match any port. */
  rsId(service: number, ip: number, port: number): number {
    return this.realServers.get(`${service}|${ip}|${port}`) ?? this.realServers.get(`${service}|${ip}|0`) ?? -1;
  }
}

/** A received record as a flow or template to install, or why it is ignored (counted by the caller). */
export function fromSyncRecord(r: SyncRecord, index: SyncIndex):
  ({ kind: 'flow' } & ImportedFlow) | ({ kind: 'template' } & ImportedTemplate) | { ignored: ImportIgnoreReason } {
  if (r.family !== 4) return { ignored: 'not-ipv4' };
  const flags = readSyncFlags(r.flags);
  if (flags.template) return fromTemplateRecord(r, index, flags.method);
  const svc = index.service(r.proto, r.vip, r.vport);
  if (!svc) return { ignored: 'unknown-service' };
  if (!methodMatches(flags.method, svc)) return { ignored: 'wrong-method' };
  const rsId = index.rsId(svc.id, r.rsIp, r.rsPort);
  if (rsId < 0) return { ignored: 'unknown-real-server' };
  const state = ulvsStateOf(r.proto, r.state);
  if (state < 0) return { ignored: 'bad-state' };
  return {
    kind: 'flow', proto: r.proto, state,
    clientIp: r.clientIp, clientPort: r.clientPort, vip: r.vip, vport: r.vport, rsIp: r.rsIp, rsPort: r.rsPort,
    service: svc.id, rsId, timeout: r.timeout, nat: svc.forward === FORWARD_NAT,
    persistenceTimeout: svc.persistenceTimeout, persistenceMask: svc.persistenceMask,
  };
}

/**
 * A template (IP_VS_CONN_F_TEMPLATE): the client address (masked on the master by its
 * persistence_granularity), the service and the real server chosen. A service without
 * persistence here would never consult it: ignored and counted.
 */
function fromTemplateRecord(r: SyncRecordV4, index: SyncIndex, method: ForwardingMethod | null):
  ({ kind: 'template' } & ImportedTemplate) | { ignored: ImportIgnoreReason } {
  const svc = index.templateService(r.proto, r.vip, r.vport);
  if (!svc) return { ignored: 'unknown-service' };
  if (!methodMatches(method, svc)) return { ignored: 'wrong-method' };
  if (svc.persistenceTimeout === 0) return { ignored: 'template-not-persistent' };
  const rsId = index.rsId(svc.id, r.rsIp, r.rsPort);
  if (rsId < 0) return { ignored: 'unknown-real-server' };
  return {
    kind: 'template', proto: r.proto, clientIp: r.clientIp, vip: r.vip, vport: r.vport, rsIp: r.rsIp, rsPort: r.rsPort,
    service: svc.id, rsId, timeout: r.timeout, persistenceTimeout: svc.persistenceTimeout,
  };
}

/**
 * The worker that counts a synced flow when the director runs several queues. The kernel
 * spreads a flow over the queues by a hash ulvs cannot compute (veth: the sender's random
 * per-socket hash; NICs: Toeplitz over a key the driver may rotate), so every worker holds
 * the flow and this one counts it until another carries its traffic and claims it.
 */
export function countingWorker(f: Pick<ImportedFlow, 'clientIp' | 'clientPort' | 'vport'>, workers: number): number {
  return workers <= 1 ? 0 : (((f.clientIp ^ (f.clientPort << 16) ^ f.vport) >>> 0) % workers);
}
