/**
 * Two services must not both claim a packet: every VIP:port a service answers (its vip, or the
 * members of its group) is a claim, and claims of different services must not overlap.
 */
import { parseGroupMember } from './raw-schema.js';
import { parseIpv4 } from './ipv4.js';
import { list, num, obj, str, type CrossCheckEnv, type Findings, type Obj, type Path } from './cross-check-kit.js';

interface Range { first: number; last: number; port: number; text: string }

/** Each virtual_server_groups entry's members as address ranges (the first entry of a name). */
function groupRanges(cfg: Obj): Map<string, Range[]> {
  const ranges = new Map<string, Range[]>();
  list(cfg.virtual_server_groups).forEach((raw) => {
    const g = obj(raw);
    const name = str(g?.name);
    if (name === undefined || ranges.has(name)) return;
    const members: Range[] = [];
    for (const m of list(g?.members)) {
      const parsed = typeof m === 'string' ? parseGroupMember(m) : undefined;
      if (parsed && typeof parsed !== 'string') {
        members.push({ first: parseIpv4(parsed.first)!, last: parseIpv4(parsed.last)!, port: parsed.port, text: m as string });
      }
    }
    ranges.set(name, members);
  });
  return ranges;
}

/** Every VIP:port the services answer, in service order. */
export function serviceClaims(cfg: Obj): Claim[] {
  const ranges = groupRanges(cfg);
  const claims: Claim[] = [];
  list(cfg.virtual_servers).forEach((raw, i) => {
    const vs = obj(raw);
    if (!vs) return;
    const base: Path = ['virtual_servers', i];
    const protocol = str(vs.protocol) ?? 'TCP';
    const vip = str(vs.vip);
    const vport = num(vs.port);
    const vipValue = vip !== undefined ? parseIpv4(vip) : null;
    if (vipValue !== null) {
      claims.push({ protocol, first: vipValue, last: vipValue, port: vport ?? 0, text: `${vip}:${vport ?? 0}`, path: [...base, 'vip'], viaGroup: false, service: i });
    } else if (str(vs.group) !== undefined) {
      for (const r of ranges.get(str(vs.group)!) ?? []) {
        claims.push({ protocol, first: r.first, last: r.last, port: r.port, text: `"${r.text}" of group "${str(vs.group)}"`, path: [...base, 'group'], viaGroup: true, group: str(vs.group), service: i });
      }
    }
  });
  return claims;
}

/** A VIP range and port a service answers. */
export interface Claim {
  protocol: string;
  first: number;
  last: number;
  /** 0 = every port */
  port: number;
  text: string;
  path: Path;
  viaGroup: boolean;
  group?: string;
  service: number;
}

/**
 * Two services must not claim the same VIP:port (port 0 claims every port). Exact vip:port
 * repeats are reported above as "defined twice"; this finds the overlaps groups bring.
 */
export function checkOverlaps(cfg: Obj, r: Findings, env: CrossCheckEnv): void {
  const claims = serviceClaims(cfg);
  if (!claims.some((c) => c.viaGroup)) return;
  const reported = new Set<number>();
  for (const later of claims) {
    if (reported.has(later.service)) continue;
    for (const earlier of claims) {
      if (earlier.service >= later.service) continue;
      if (!earlier.viaGroup && !later.viaGroup) continue;
      if (earlier.protocol !== later.protocol) continue;
      // The same group twice is already "defined twice".
      if (earlier.group !== undefined && earlier.group === later.group) continue;
      if (earlier.last < later.first || later.last < earlier.first) continue;
      if (earlier.port !== later.port && earlier.port !== 0 && later.port !== 0) continue;
      r.error(later.path, `${later.protocol} ${later.text} overlaps ${earlier.text}`, `claimed first at ${env.where(earlier.path)}`);
      reported.add(later.service);
      break;
    }
  }
}
