/**
 * IPv6 between ulvs's flows and IPVS sync v1 records (issue 16; pure, control path only).
 * The IPv4 side (records.ts) keys everything by uint32 addresses; an IPv6 flow's addresses are
 * worker-local handles in FlowTable6, so what crosses to the main thread, and what it hands
 * back, carries the 16 bytes themselves. Same flags, states, thresholds and ignore reasons as
 * IPv4: only the addresses differ, as in the kernel's ip_vs_sync_conn (STYPE_F_INET6).
 * The daemon (daemon.ts) sends an IPv6 outbox record with toSyncRecord6 and matches a received
 * IPv6 record with fromSyncRecord6; the workers install what comes out (ipv6-steps.ts).
 */
import { FORWARD_NAT, type Snapshot, type SnapshotService } from '../dataplane/snapshot.js';
import { formatIpv6, parseIpv6 } from '../packet/addr6.js';
import type { SyncRecordV6 } from './codec.js';
import type { OutboxRecord6 } from '../dataplane/sync-outbox.js';
import type { ImportedFlow6, ImportedTemplate6 } from '../dataplane/sync-offers.js';
import { readSyncFlags, ulvsStateOf } from './mapping.js';
import { methodMatches, syncRecordFields, type ImportIgnoreReason } from './records.js';

export type { OutboxRecord6 } from '../dataplane/sync-outbox.js';
export type { ImportedFlow6, ImportedTemplate6 } from '../dataplane/sync-offers.js';

/** The IPVS v1 IPv6 record for an outbox record; `forward` is its service's method (FORWARD_*). */
export function toSyncRecord6(r: OutboxRecord6, forward: number): SyncRecordV6 {
  return { family: 6, ...syncRecordFields(r, forward), clientIp: r.clientIp, vip: r.vip, rsIp: r.rsIp };
}

/** IPv6 services and real servers of the whole config, keyed by canonical address text. */
export class SyncIndex6 {
  private readonly services = new Map<string, SnapshotService>();
  private readonly realServers = new Map<string, number>();
  private readonly groupByVip = new Map<string, SnapshotService>();

  constructor(snapshot: Snapshot) {
    for (const s of snapshot.services) {
      if (s.family !== 6) continue;
      // parse then format: one spelling per address whatever the config wrote.
      const vips = s.addresses.map((a) => formatIpv6(parseIpv6(a.vip6!)));
      if (s.addresses.length > 1) for (const v of vips) if (!this.groupByVip.has(v)) this.groupByVip.set(v, s);
      s.addresses.forEach((a, i) => this.services.set(`${s.protocol}|${vips[i]}|${a.vport}`, s));
      for (const rs of s.realServers) this.realServers.set(`${s.id}|${formatIpv6(parseIpv6(rs.ip6!))}|${rs.port}`, rs.rsId);
    }
  }

  service(proto: number, vip: Uint8Array, vport: number): SnapshotService | undefined {
    return this.services.get(`${proto}|${formatIpv6(vip)}|${vport}`);
  }

  /** As SyncIndex.templateService: a group service's templates carry protocol 0 and port 0. */
  templateService(proto: number, vip: Uint8Array, vport: number): SnapshotService | undefined {
    return this.service(proto, vip, vport) ?? (proto === 0 && vport === 0 ? this.groupByVip.get(formatIpv6(vip)) : undefined);
  }

  /** rsId of the endpoint, or -1; port 0 servers (group services) match any port. */
  rsId(service: number, ip: Uint8Array, port: number): number {
    const text = formatIpv6(ip);
    return this.realServers.get(`${service}|${text}|${port}`) ?? this.realServers.get(`${service}|${text}|0`) ?? -1;
  }
}

/** A received IPv6 record as a flow or template to install, or why it is ignored (counted by the caller). */
export function fromSyncRecord6(r: SyncRecordV6, index: SyncIndex6):
  ({ kind: 'flow' } & ImportedFlow6) | ({ kind: 'template' } & ImportedTemplate6) | { ignored: ImportIgnoreReason } {
  const flags = readSyncFlags(r.flags);
  if (flags.template) {
    const svc = index.templateService(r.proto, r.vip, r.vport);
    if (!svc) return { ignored: 'unknown-service' };
    if (!methodMatches(flags.method, svc)) return { ignored: 'wrong-method' };
    if (svc.persistenceTimeout === 0) return { ignored: 'template-not-persistent' };
    const rsId = index.rsId(svc.id, r.rsIp, r.rsPort);
    if (rsId < 0) return { ignored: 'unknown-real-server' };
    return {
      kind: 'template', family: 6, proto: r.proto, clientIp: r.clientIp, vip: r.vip, vport: r.vport, rsIp: r.rsIp, rsPort: r.rsPort,
      service: svc.id, rsId, timeout: r.timeout, persistenceTimeout: svc.persistenceTimeout,
    };
  }
  const svc = index.service(r.proto, r.vip, r.vport);
  if (!svc) return { ignored: 'unknown-service' };
  if (!methodMatches(flags.method, svc)) return { ignored: 'wrong-method' };
  const rsId = index.rsId(svc.id, r.rsIp, r.rsPort);
  if (rsId < 0) return { ignored: 'unknown-real-server' };
  const state = ulvsStateOf(r.proto, r.state);
  if (state < 0) return { ignored: 'bad-state' };
  return {
    kind: 'flow', family: 6, proto: r.proto, state,
    clientIp: r.clientIp, clientPort: r.clientPort, vip: r.vip, vport: r.vport, rsIp: r.rsIp, rsPort: r.rsPort,
    service: svc.id, rsId, timeout: r.timeout, nat: svc.forward === FORWARD_NAT,
    persistenceTimeout: svc.persistenceTimeout, persistencePrefix: svc.persistencePrefix6 ?? 128,
  };
}

/** As countingWorker (records.ts) for IPv6: the client's four words folded, as IPVS hashes it. */
export function countingWorker6(f: Pick<ImportedFlow6, 'clientIp' | 'clientPort' | 'vport'>, workers: number): number {
  if (workers <= 1) return 0;
  const c = f.clientIp;
  let fold = 0;
  for (let i = 0; i < 16; i += 4) fold ^= (c[i] << 24) | (c[i + 1] << 16) | (c[i + 2] << 8) | c[i + 3];
  return ((fold ^ (f.clientPort << 16) ^ f.vport) >>> 0) % workers;
}
