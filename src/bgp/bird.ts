/**
 * bird2, pure: the include file ulvs writes (one static protocol per address family, a host
 * route per announced VIP with its bgp_med) and the readers of birdc's answers. The routes go
 * through ulvs's liveness interface (or are `unreachable`): they exist only to be exported over
 * BGP; the user's bird.conf exports `where proto = "ulvs_vips"` to its BGP peers and should not
 * export them to the kernel.
 */
import { isIP } from 'node:net';
import type { Announcement } from './decision.js';

/** The first line of every file ulvs writes: a file without it is not ours and is never overwritten. */
export const INCLUDE_HEADER = '# Written by ulvs (bgp_announce): do not edit, ulvs rewrites this file.';

/**
 * `via`: the interface the routes go through (src/bgp/liveness.ts): bird drops them when it goes
 * away with the ulvs process. Without one they are `unreachable` (they outlive a killed ulvs).
 */
export function renderInclude(protocol: string, announcements: ReadonlyMap<string, Announcement>, via?: string): string {
  const target = via ? `via "${via}"` : 'unreachable';
  const routes = (family: 4 | 6): string[] => [...announcements]
    .filter(([vip, a]) => a.announce && isIP(vip) === family)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([vip, a]) => `  route ${vip}/${family === 4 ? 32 : 128} ${target} { bgp_med = ${(a as { med: number }).med}; };`);
  const block = (name: string, channel: string, lines: string[]): string => [`protocol static ${name} {`, `  ${channel};`, ...lines, '}'].join('\n');
  const parts = [INCLUDE_HEADER, block(protocol, 'ipv4', routes(4))];
  // The IPv6 protocol only when some VIP is IPv6: a bird.conf without IPv6 stays valid.
  if ([...announcements.keys()].some((vip) => isIP(vip) === 6)) parts.push(block(`${protocol}6`, 'ipv6', routes(6)));
  return parts.join('\n') + '\n';
}

/** Is this existing file one ulvs wrote (or empty)? */
export function isOurInclude(text: string): boolean {
  return text.trim() === '' || text.startsWith(INCLUDE_HEADER);
}

/** `birdc configure`'s verdict: birdc exits 0 even when bird refuses the config. */
export function configureOutcome(output: string): { ok: true } | { ok: false; error: string } {
  if (/Reconfigured|Reconfiguration in progress|Reconfiguration already in progress|Reconfiguration confirmed/.test(output)) return { ok: true };
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l && !/^BIRD .* ready\.$/.test(l) && !/^Reading configuration/.test(l));
  return { ok: false, error: lines.join('; ') || 'birdc configure printed nothing' };
}

export interface BgpSession {
  name: string;
  /** bird's protocol state: up, start, down, ... */
  state: string;
  /** bird's info column: Established, Active, Connect, Idle ... with the last error */
  info: string;
}

/** The BGP rows of `birdc show protocols`. */
export function parseProtocols(output: string): BgpSession[] {
  const out: BgpSession[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+BGP\s+(\S+)\s+(\S+)\s+(\S+(?:\s\d\d:\d\d:\d\d(?:\.\d+)?)?)\s*(.*)$/.exec(line);
    if (m) out.push({ name: m[1], state: m[3], info: m[5].trim().replace(/\s+/g, ' ') });
  }
  return out;
}

/** The sessions in one line (ulvs status text). */
export function sessionSummary(sessions: readonly BgpSession[]): string {
  if (sessions.length === 0) return 'no BGP protocol';
  return sessions.map((s) => `${s.name} ${s.info.split(' ')[0] || s.state}`).join(', ');
}
