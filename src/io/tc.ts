// tc plumbing for the TAP backend (the kernel has u32 + mirred, no flower/matchall):
//   interface ingress: u32 per SteeringRule -> mirred egress redirect dev <tap>
//   tap ingress:       match-all u32        -> mirred egress redirect dev <interface>
// u32 matches fixed offsets, so rules match IPv4 without options (IHL 5) and
// unfragmented packets only; the rest (fragments, ICMP errors: AF_XDP steers those) goes to the kernel.
// IPv6 rules (`protocol ipv6`) match TCP/UDP right after the 40-byte header (no extension
// headers); they sit at their own preferences, as tc keeps one protocol per preference.
import { execFileSync } from 'node:child_process';
import { protocolNumber, type SteeringRule } from './port.js';

/** Our filters' preferences: setSteering alternates between the two so new
 * rules are in place before the old ones go. */
export const TC_PREFS = [4242, 4243] as const;
/** IPv6 rules' preference beside each of TC_PREFS (a preference holds one protocol). */
export const TC_PREF6_OFFSET = 2;
/** Every preference ulvs's filters use (recovery looks for them all). */
export const TC_ALL_PREFS = [...TC_PREFS, ...TC_PREFS.map((p) => p + TC_PREF6_OFFSET)] as const;

export class TcError extends Error {
  readonly code: string;
  readonly syscall = 'tc';
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

function codeOf(stderr: string): string {
  if (/Operation not permitted/i.test(stderr)) return 'EPERM';
  if (/Cannot find device|No such device/i.test(stderr)) return 'ENODEV';
  if (/File exists/i.test(stderr)) return 'EEXIST';
  if (/No such file or directory/i.test(stderr)) return 'ENOENT';
  return 'EIO';
}

/** Runs tc; throws TcError with tc's own message. */
export function tc(args: string[], input?: string): string {
  try {
    return execFileSync('tc', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new TcError(`tc ${args.join(' ')}: ${stderr}`, codeOf(stderr));
  }
}

function tryTc(args: string[]): boolean {
  try {
    tc(args);
    return true;
  } catch {
    return false;
  }
}

function ipText(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

/** The `tc -batch` line steering one rule to the tap. */
export function steeringFilterLine(ifname: string, tapName: string, pref: number, rule: SteeringRule): string {
  const address = rule.kind === 'service' ? 'dst' : 'src';
  if (rule.ip6 !== undefined) {
    return [
      `filter add dev ${ifname} parent ffff: pref ${pref + TC_PREF6_OFFSET} protocol ipv6 u32`,
      `match ip6 protocol ${protocolNumber(rule.protocol)} 0xff`, // the transport right after the fixed header
      `match ip6 ${address} ${rule.ip6}/128`,
      `match u16 ${rule.port} 0xffff at ${rule.kind === 'service' ? 42 : 40}`,
      `action mirred egress redirect dev ${tapName}`,
    ].join(' ');
  }
  const portOffset = rule.kind === 'service' ? 22 : 20; // IHL 5: ports right after the 20-byte header
  return [
    `filter add dev ${ifname} parent ffff: pref ${pref} protocol ip u32`,
    'match u8 0x45 0xff at 0', // IPv4, IHL 5 (fixed port offsets)
    'match u16 0 0x3fff at 6', // not a fragment
    `match ip protocol ${protocolNumber(rule.protocol)} 0xff`,
    `match ip ${address} ${ipText(rule.ip)}/32`,
    `match u16 ${rule.port} 0xffff at ${portOffset}`,
    `action mirred egress redirect dev ${tapName}`,
  ].join(' ');
}

/** Whether the interface has any ingress filter left (ours removed first). */
function hasIngressFilters(ifname: string): boolean {
  try {
    return tc(['filter', 'show', 'dev', ifname, 'parent', 'ffff:']).trim().length > 0;
  } catch {
    return false;
  }
}

export function removeSteering(ifname: string): void {
  for (const pref of TC_ALL_PREFS) tryTc(['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(pref)]);
}

/** Sets up both directions; returns whether the ingress qdisc is ours to remove. */
export function installTapPlumbing(ifname: string, tapName: string): boolean {
  // A previous ulvs that died left filters redirecting to a tap that is gone.
  removeSteering(ifname);
  let ownsQdisc = tryTc(['qdisc', 'add', 'dev', ifname, 'handle', 'ffff:', 'ingress']);
  if (!ownsQdisc && !hasIngressFilters(ifname)) ownsQdisc = true; // stale and empty: ours now
  tc(['qdisc', 'add', 'dev', tapName, 'handle', 'ffff:', 'ingress']);
  tc(['filter', 'add', 'dev', tapName, 'parent', 'ffff:', 'pref', String(TC_PREFS[0]), 'protocol', 'all',
    'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', ifname]);
  return ownsQdisc;
}

/** Installs `rules` under `pref`, then removes the other pref's filters. */
export function replaceSteering(ifname: string, tapName: string, pref: number, rules: SteeringRule[]): void {
  const lines = rules.map((r) => steeringFilterLine(ifname, tapName, pref, r));
  for (const p of [pref, pref + TC_PREF6_OFFSET]) tryTc(['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(p)]);
  if (lines.length > 0) tc(['-batch', '-'], lines.join('\n') + '\n');
  const old = pref === TC_PREFS[0] ? TC_PREFS[1] : TC_PREFS[0];
  for (const p of [old, old + TC_PREF6_OFFSET]) tryTc(['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(p)]);
}

/** Removes our filters, and the ingress qdisc too when `ownsQdisc` and no
 * one else's filters remain on it. */
export function removeTapPlumbing(ifname: string, ownsQdisc: boolean): void {
  removeSteering(ifname);
  if (ownsQdisc && !hasIngressFilters(ifname)) tryTc(['qdisc', 'del', 'dev', ifname, 'handle', 'ffff:', 'ingress']);
}
