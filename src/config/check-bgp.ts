/**
 * bgp_announce: every VIP it announces must be one this director serves (announcing a VIP
 * nobody forwards would draw traffic into a black hole), the include file is never the
 * daemon's own config, and the "down" MED must be worse (higher) than the healthy one.
 */
import { basename } from 'node:path';
import { parseGroupMember } from './raw-schema-services.js';
import { ipToNumber } from '../packet/addr.js';
import { isIpv4 } from './ipv4.js';
import { list, num, obj, str, type Findings, type Obj } from './cross-check-kit.js';

/** Does some virtual server (or a member of its group) have this VIP? */
export function servedVips(cfg: Obj): { exact: Set<string>; ranges: Array<[number, number]> } {
  const exact = new Set<string>();
  const ranges: Array<[number, number]> = [];
  for (const raw of list(cfg.virtual_servers)) {
    const vip = str(obj(raw)?.vip);
    if (vip !== undefined) exact.add(vip.toLowerCase());
  }
  const used = new Set(list(cfg.virtual_servers).map((raw) => str(obj(raw)?.group)).filter((g): g is string => g !== undefined));
  for (const raw of list(cfg.virtual_server_groups)) {
    const group = obj(raw);
    if (!used.has(str(group?.name) ?? '')) continue;
    for (const m of list(group?.members)) {
      const member = typeof m === 'string' ? parseGroupMember(m) : undefined;
      if (member && typeof member !== 'string') ranges.push([ipToNumber(member.first), ipToNumber(member.last)]);
    }
  }
  return { exact, ranges };
}

export function isServed(served: ReturnType<typeof servedVips>, vip: string): boolean {
  if (served.exact.has(vip.toLowerCase())) return true;
  if (!isIpv4(vip)) return false;
  const n = ipToNumber(vip);
  return served.ranges.some(([a, b]) => n >= a && n <= b);
}

const DAEMON_CONFIGS = new Set(['bird.conf', 'bird6.conf', 'frr.conf', 'bgpd.conf', 'gobgpd.conf']);

export function checkBgp(cfg: Obj, r: Findings): void {
  const bgp = obj(cfg.bgp_announce);
  if (!bgp) return;
  const served = servedVips(cfg);
  const seen = new Set<string>();
  list(bgp.vips).forEach((raw, i) => {
    const vip = str(raw);
    if (vip === undefined) return;
    if (seen.has(vip)) r.error(['bgp_announce', 'vips', i], `bgp_announce.vips lists ${vip} twice`);
    seen.add(vip);
    if (!isServed(served, vip)) {
      r.error(['bgp_announce', 'vips', i], `bgp_announce: ${vip} is not a VIP of any virtual server here`,
        'announce only what this director forwards (a route to it would draw traffic nobody serves)');
    }
  });
  const include = str(bgp.include_file);
  if (include !== undefined && DAEMON_CONFIGS.has(basename(include))) {
    r.error(['bgp_announce', 'include_file'], `bgp_announce.include_file ${include} is the daemon's own config`,
      'ulvs writes its own file (e.g. /etc/bird/ulvs-vips.conf) that your bird.conf includes; it never rewrites yours');
  }
  const med = num(bgp.med) ?? 0;
  const downMed = num(bgp.down_med) ?? 1000;
  if (str(bgp.when_down) === 'med' && downMed <= med) {
    r.error(['bgp_announce', 'down_med'], `bgp_announce.down_med ${downMed} is not worse than med ${med}`, 'BGP prefers the lower MED: make down_med higher');
  }
}
