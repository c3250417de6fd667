import type { UlvsConfig, VirtualServerConfig } from '../config/index.js';
import { ipToNumber, numberToIp } from '../packet/addr.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/parse.js';
import { DEFAULT_MTU } from '../packet/rewrite.js';
import { tunnelKindOf } from '../packet/tunnels.js';
import {
  FORWARD_DR, FORWARD_FNAT, FORWARD_NAT, FORWARD_TUN, type ForwardMethod, type ServiceAddress, type Snapshot, type SnapshotService,
} from '../dataplane/snapshot.js';
import type { SchedulerName } from '../schedulers/types.js';
import { defaultServiceId } from '../health/plan.js';
import { picksUpMidFlow } from '../dataplane/tcp-pickup.js';
import { familyOf } from '../config/ipv6.js';
import { formatIpv6, ipv6Words, parseIpv6 } from '../packet/addr6.js';
import { foldIpv6 } from '../schedulers/hash.js';
import { ipv6Value } from '../config/raw-schema-services.js';

const FORWARD_OF: Record<string, ForwardMethod> = { DR: FORWARD_DR, NAT: FORWARD_NAT, TUN: FORWARD_TUN, FNAT: FORWARD_FNAT };

/**
 * Stable ids for services and real-server endpoints: flows and counters are keyed by them, so
 * an endpoint keeps its id across reloads while it stays in the config.
 */
export class IdRegistry {
  private readonly ids = new Map<string, number>();
  private next = 1;

  idOf(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.next++;
      if (id >= 65536) throw new Error('more than 65535 real-server endpoints over the director\'s life: restart it');
      this.ids.set(key, id);
    }
    return id;
  }
}

export function serviceKey(vs: Pick<VirtualServerConfig, 'vip' | 'port' | 'protocol' | 'group'>): string {
  return vs.group ? `${vs.protocol} group ${vs.group}` : `${vs.protocol} ${vs.vip}:${vs.port}`;
}

/** The VIP:ports of a service: its own, or every member of its virtual_server_group. */
export function serviceAddresses(config: UlvsConfig, vs: VirtualServerConfig): ServiceAddress[] {
  if (!vs.group) {
    if (vs.vip === undefined || vs.port === undefined) return [];
    return [familyOf(vs.vip) === 6 ? { vip: 0, vport: vs.port, vip6: canonicalIpv6(vs.vip) } : { vip: ipToNumber(vs.vip), vport: vs.port }];
  }
  const group = config.virtual_server_groups.find((g) => g.name === vs.group);
  const out: ServiceAddress[] = [];
  for (const m of group?.members ?? []) {
    // Port 0 members ("every port") have no ulvs equivalent: the XDP steering is by port.
    if (m.port === 0) continue;
    if (familyOf(m.first) === 6) {
      // At most MAX_IPV6_GROUP_RANGE addresses per member (raw-schema-services.ts).
      for (let v = ipv6Value(m.first); v <= ipv6Value(m.last); v++) out.push({ vip: 0, vport: m.port, vip6: ipv6OfValue(v) });
      continue;
    }
    for (let ip = ipToNumber(m.first); ip <= ipToNumber(m.last); ip++) out.push({ vip: ip >>> 0, vport: m.port });
  }
  return out;
}

/** The text a service address is known by (ownership, listing): dotted IPv4 or canonical IPv6. */
export function addressText(a: ServiceAddress): string {
  return a.vip6 ?? numberToIp(a.vip);
}

export function canonicalIpv6(text: string): string {
  return formatIpv6(parseIpv6(text));
}

function ipv6OfValue(v: bigint): string {
  const bytes = new Uint8Array(16);
  for (let i = 15; i >= 0; i--, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return formatIpv6(bytes);
}

/** A server's address fields in the snapshot: IPv4 as a number, IPv6 as text and its fold. */
function serverAddress(ip: string): { ip: number; ip6?: string } {
  if (familyOf(ip) !== 6) return { ip: ipToNumber(ip) };
  const [w0, w1, w2, w3] = ipv6Words(parseIpv6(ip));
  return { ip: foldIpv6(w0, w1, w2, w3), ip6: canonicalIpv6(ip) };
}

export function realServerKey(vs: VirtualServerConfig, ip: string, port: number): string {
  return `${serviceKey(vs)} -> ${ip}:${port}`;
}

/** What the health checks say of one real server of one service. */
export interface HealthState { up: boolean; weight?: number }

/** Runtime facts the config does not hold: next-hop MACs and health state. */
export interface CompileContext {
  macOf(ip: string): string | null;
  /** Health of `ip:port` in the service named as the health room names it; undefined = unchecked (up). */
  healthOf(serviceId: string, rsKey: string): HealthState | undefined;
  /** The service's sorry server takes the traffic (quorum lost). */
  sorryActive(serviceId: string): boolean;
  /** false while a VRRP instance holds this VIP on another director (we are BACKUP/FAULT). */
  ownsVip(vip: string): boolean;
  /** The kernel routes `ip` to this director itself (its own address); 127/8 and VIPs always are. */
  isLocal?(ip: string): boolean;
  tunnelSource: number;
  /** dataplane.interface's MTU (default 1500). */
  mtu?: number;
  tunnelSource6?: string | null;
}

/** IPVS's LOCALNODE: a destination on the director itself (loopback, its own address, a VIP). */
export function isLocalDestination(ip: string, vips: ReadonlySet<string>, ctx: Pick<CompileContext, 'isLocal'>): boolean {
  return ip.startsWith('127.') || vips.has(ip) || (ctx.isLocal?.(ip) ?? false);
}

/**
 * Local forwarding. When every live destination is local the service is left to the kernel
 * (Snapshot `kernel`: not steered, so it costs nothing per packet). When some are local and
 * some remote (mixed), the service stays steered and the dataplane hands each connection bound
 * to a local server to the director's own stack, unchanged (LOCAL verdict). Unchanged means
 * to VIP:port: a local server on another port cannot be reached (ulvs does not rewrite packets
 * it gives its own kernel, whose reply would then leave from the wrong port), so it takes no
 * connections; check-config refuses it where it can tell (127/8, the VIP) and the director
 * logs it for its own addresses.
 */
export function applyLocalForwarding<R extends { weight: number; available: boolean; local?: boolean; port?: number }>(
  servers: R[], vports: readonly number[] = [],
): { kernel: boolean; servers: R[]; unreachable: R[] } {
  const unreachable = servers.filter((r) => r.local && !samePort(r.port, vports));
  const usable = unreachable.length === 0 ? servers
    : servers.map((r) => (unreachable.includes(r) ? { ...r, weight: 0, available: false } : r));
  const live = usable.filter((r) => r.available && r.weight > 0);
  const kernel = live.length > 0 && live.every((r) => r.local);
  return { kernel, servers: usable, unreachable };
}

/** Port 0 (the client's port) or every VIP port the same as the server's. */
function samePort(port: number | undefined, vports: readonly number[]): boolean {
  return port === undefined || port === 0 || vports.every((v) => v === 0 || v === port);
}

/** Full NAT's local addresses and groups (config order: a restart-only part of the config). */
export function compileLocalAddresses(config: UlvsConfig): Pick<Snapshot, 'localAddresses' | 'localGroups'> {
  if (config.local_address_groups.length === 0) return {};
  const localAddresses: NonNullable<Snapshot['localAddresses']> = [];
  const localGroups = config.local_address_groups.map((g) => g.addresses.map((a) => {
    localAddresses.push({ ip: ipToNumber(a.ip), portMin: g.port_min, portMax: g.port_max, outside: a.dev === config.dataplane.interface });
    return localAddresses.length - 1;
  }));
  return { localAddresses, localGroups };
}

/** Config (+ runtime facts) -> the plain snapshot the dataplane workers read. */
export function compileSnapshot(config: UlvsConfig, ids: IdRegistry, ctx: CompileContext, version: number): Snapshot {
  const services: SnapshotService[] = [];
  const vips = new Set(config.virtual_servers.flatMap((vs) => serviceAddresses(config, vs).map(addressText)));
  // Local forwarding is IPv4-only (an IPv6 server that is the director is refused at load).
  const local = (ip: string): boolean => familyOf(ip) !== 6 && isLocalDestination(ip, vips, ctx);
  config.virtual_servers.forEach((vs, index) => {
    // The dataplane forwards for exactly the VIPs this director owns.
    const addresses = serviceAddresses(config, vs).filter((a) => ctx.ownsVip(a.vip6 ?? numberToIp(a.vip)));
    const ipv6 = addresses.some((a) => a.vip6 !== undefined);
    if (addresses.length === 0) return;
    const healthId = defaultServiceId(vs, index);
    let realServers = vs.real_servers.map((rs) => {
      const key = realServerKey(vs, rs.ip, rs.port);
      const health = ctx.healthOf(healthId, `${rs.ip}:${rs.port}`);
      const up = health?.up ?? true;
      // inhibit_on_failure (ldirectord's quiescent): a failed server stays with weight 0, so
      // its established connections carry on; otherwise it leaves the table.
      const weight = up ? health?.weight ?? rs.weight : rs.inhibit_on_failure ? 0 : rs.weight;
      return {
        rsId: ids.idOf(key),
        ...serverAddress(rs.ip),
        port: rs.port,
        weight,
        available: up || rs.inhibit_on_failure,
        mac: ctx.macOf(rs.ip),
        uthreshold: rs.uthreshold ?? 0,
        lthreshold: rs.lthreshold ?? 0,
        local: local(rs.ip),
        ...(vs.lb_kind === 'TUN' && rs.tun_type !== undefined && rs.tun_type !== 'ipip'
          ? { tunnel: tunnelKindOf(rs.tun_type, rs.tun_flags), tunnelPort: rs.tun_port ?? 0 } : {}),
      };
    });
    const sorry = vs.sorry_server;
    const sorryEntry = (weight: number) => sorry && {
      rsId: ids.idOf(`${serviceKey(vs)} sorry ${sorry.ip}:${sorry.port}`),
      ...serverAddress(sorry.ip), port: sorry.port, weight, available: true,
      mac: ctx.macOf(sorry.ip), uthreshold: 0, lthreshold: 0, local: local(sorry.ip),
    };
    if (sorry && ctx.sorryActive(healthId)) {
      // keepalived adds the sorry server when quorum is lost and removes it when it returns.
      realServers = [...realServers.filter((r) => r.available && r.weight > 0), sorryEntry(1)!];
    } else if (sorry && vs.sorry_server_inhibit) {
      // sorry_server_inhibit: inhibit_on_failure for the sorry server: with quorum back it
      // stays with weight 0, so the connections it holds carry on instead of being cut.
      realServers = [...realServers, sorryEntry(0)!];
    }
    const localForwarding = applyLocalForwarding(realServers, addresses.map((a) => a.vport));
    realServers = localForwarding.servers;
    services.push({
      id: ids.idOf(serviceKey(vs)),
      kernel: localForwarding.kernel,
      addresses,
      protocol: vs.protocol === 'TCP' ? IPPROTO_TCP : IPPROTO_UDP,
      forward: FORWARD_OF[vs.lb_kind],
      scheduler: vs.lb_algo as SchedulerName,
      schedulerFlags: { shPort: vs.sh_port, shFallback: vs.sh_fallback, mhPort: vs.mh_port, mhFallback: vs.mh_fallback },
      persistenceTimeout: vs.persistence_timeout,
      persistenceMask: ipv6 ? 0xffffffff : ipToNumber(vs.persistence_granularity),
      // IPv6: a prefix length; the IPv4 default netmask (never written for IPv6: check-ipv6-services.ts) is /128.
      ...(ipv6 ? { family: 6 as const, persistencePrefix6: /^\d+$/.test(vs.persistence_granularity) ? Number(vs.persistence_granularity) : 128 } : {}),
      onePacket: vs.ops,
      sloppyTcp: vs.protocol === 'TCP' && picksUpMidFlow(config.dataplane.sloppy_tcp, vs.lb_algo as SchedulerName),
      realServers,
      ...(vs.lb_kind === 'FNAT' ? { localGroup: config.local_address_groups.findIndex((g) => g.name === vs.laddr_group_name) } : {}),
    });
  });
  return { version, services, tunnelSource: ctx.tunnelSource, ...(ctx.tunnelSource6 ? { tunnelSource6: ctx.tunnelSource6 } : {}), mtu: ctx.mtu ?? DEFAULT_MTU, ...compileLocalAddresses(config) };
}

/**
 * Whether the config has an IPv6 virtual server, whatever VIPs this director holds now (a
 * BACKUP's snapshot has no services, yet it installs synced IPv6 flows and templates).
 */
export function hasIpv6Services(config: UlvsConfig): boolean {
  return config.virtual_servers.some((vs) => serviceAddresses(config, vs).some((a) => a.vip6 !== undefined));
}
