/**
 * IPv6 virtual servers (issue 16): what ulvs forwards over IPv6 is DR, NAT66 and TUN (AF_XDP and TAP,
 * persistence included);
 * what it does not yet is refused here with the reason, never accepted and skipped. Also the
 * IPv6 side of persistence_granularity (a prefix length, as ipvsadm -M), link-local servers
 * (no interface to reach them by), and two IPv6 services claiming one VIP:port (check-overlaps.ts
 * covers IPv4).
 */
import { has, list, num, obj, str, type Findings, type Obj, type Path } from './cross-check-kit.js';
import { familyOf, isLinkLocal, type Family } from './ipv6.js';
import { isNetmask } from './ipv4.js';
import { parseGroupMember, ipv6Value } from './raw-schema-services.js';

/** lb_kinds the IPv6 dataplane forwards; the others are refused with these reasons. */
const KIND_REFUSED: Record<string, string> = {
  FNAT: 'Full NAT is IPv4-only in ulvs (its local address pools and port ranges are IPv4): use lb_kind DR or NAT for an IPv6 service',
};

function serviceFamily(vs: Obj, groups: Map<string, Family>): Family | null {
  const vip = str(vs.vip);
  if (vip !== undefined) return familyOf(vip);
  return groups.get(str(vs.group) ?? '') ?? null;
}

export function checkIpv6Services(cfg: Obj, r: Findings): void {
  const groups = new Map<string, Family>();
  const groupMembers = new Map<string, { vip: string; port: number }[]>();
  for (const raw of list(cfg.virtual_server_groups)) {
    const g = obj(raw);
    const name = str(g?.name);
    if (name === undefined || groups.has(name)) continue;
    const members = list(g?.members).map((m) => (typeof m === 'string' ? parseGroupMember(m) : null));
    const first = members.find((m) => m !== null && typeof m !== 'string');
    if (first && typeof first !== 'string') groups.set(name, familyOf(first.first) ?? 4);
    const expanded: { vip: string; port: number }[] = [];
    for (const m of members) {
      if (m === null || typeof m === 'string' || familyOf(m.first) !== 6) continue;
      for (let v = ipv6Value(m.first); v <= ipv6Value(m.last); v++) expanded.push({ vip: v.toString(16), port: m.port });
    }
    groupMembers.set(name, expanded);
  }
  const claimed = new Map<string, Path>();
  list(cfg.virtual_servers).forEach((raw, vi) => {
    const vs = obj(raw);
    if (!vs) return;
    const base: Path = ['virtual_servers', vi];
    const family = serviceFamily(vs, groups);
    checkGranularity(vs, base, family, r);
    const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
    if (family === 4 && kind === 'TUN') {
      list(vs.real_servers).forEach((rs, ri) => {
        const ip = str(obj(rs)?.ip);
        if (ip !== undefined && familyOf(ip) === 6) {
          r.error([...base, 'real_servers', ri, 'ip'], `real server ${ip} is IPv6 under an IPv4 TUN service: ulvs tunnels IPv4 in IPv4 only (IPVS can tunnel one family in the other)`);
        }
      });
    }
    if (family !== 6) return;
    if (KIND_REFUSED[kind] !== undefined) r.error([...base, has(vs, 'lb_kind') ? 'lb_kind' : 'lvs_method'], KIND_REFUSED[kind]);
    const servers: [Path, string | undefined, string][] = list(vs.real_servers).map((rs, ri) => [[...base, 'real_servers', ri, 'ip'], str(obj(rs)?.ip), 'real server']);
    if (has(vs, 'sorry_server')) servers.push([[...base, 'sorry_server', 'ip'], str(obj(vs.sorry_server)?.ip), 'sorry server']);
    for (const [path, ip, role] of servers) {
      if (ip === undefined) continue;
      if (kind === 'TUN' && familyOf(ip) === 4) {
        r.error(path, `${role} ${ip} is IPv4 under an IPv6 TUN service: ulvs tunnels IPv6 in IPv6 only (IPVS can tunnel one family in the other)`,
          'give the server its IPv6 address');
      }
      if (isLinkLocal(ip)) {
        r.error(path, `link-local ${role} ${ip} has no interface`,
          'a link-local address means something only on one interface, and a virtual server names none: give the server a global address');
      } else if (familyOf(ip) === 6 && (ip === '::1' || ip === str(vs.vip))) {
        r.error(path, `${role} ${ip} is this director: local forwarding is IPv4-only in ulvs`, 'give the server another address than the director\'s');
      }
    }
    // One IPv6 VIP:port for one service (check-overlaps.ts does IPv4 ranges).
    const protocol = str(vs.protocol) ?? 'TCP';
    const vip = str(vs.vip);
    const addresses = vip !== undefined ? [{ vip: ipv6Value(vip).toString(16), port: num(vs.port) ?? 0 }] : groupMembers.get(str(vs.group) ?? '') ?? [];
    for (const a of addresses) {
      const key = `${protocol} ${a.vip} ${a.port}`;
      const first = claimed.get(key);
      if (first === undefined) { claimed.set(key, base); continue; }
      r.error([...base, vip !== undefined ? 'vip' : 'group'], `this service claims an IPv6 VIP:port that virtual_servers.${first[1]} claims too`,
        'one VIP:port and protocol belongs to one virtual server');
      break;
    }
  });
}

/** A netmask for IPv4 services, a prefix length for IPv6 ones (keepalived's pgr_handler). */
function checkGranularity(vs: Obj, base: Path, family: Family | null, r: Findings): void {
  if (!has(vs, 'persistence_granularity') || family === null) return;
  const value = vs.persistence_granularity;
  const path = [...base, 'persistence_granularity'];
  if (family === 6 && typeof value === 'string' && isNetmask(value)) {
    r.error(path, `persistence_granularity ${value} is a netmask, but this virtual server is IPv6`, 'write a prefix length, e.g. 64 (as ipvsadm -M 64)');
  } else if (family === 4 && typeof value === 'number') {
    r.error(path, `persistence_granularity ${value} is a prefix length, but this virtual server is IPv4`, 'write a netmask, e.g. 255.255.255.0');
  }
}
