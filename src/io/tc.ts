// tc plumbing for the TAP backend (the kernel has u32 + mirred, no flower/matchall):
//   interface ingress: u32 per SteeringRule -> mirred egress redirect dev <tap>
//   tap ingress:       match-all u32        -> mirred egress redirect dev <interface>
// u32 matches fixed offsets, so rules match IPv4 without options (IHL 5). What the XDP program
// steers besides (native/bpf/ulvs_xdp.c) is spelt out in u32 filters too:
//   ICMP errors quoting a service's VIP:port (as source) or a NAT real server's ip:port (as
//   destination), the quoted header without options: 2 filters per rule (u32 has no "or":
//   types 3 and 11 share their bits under mask 0xf7, and so do 4 and 12).
//   fragments to a VIP / from a NAT real server (the port-0 "whole address" rules): the first
//   fragment (MF, offset 0) and later ones (any of the 13 offset bits set): 14 per address.
// IPv6 rules (`protocol ipv6`) match TCP/UDP right after the 40-byte header (no extension
// headers), fragments whose fragment header comes right after it (the port-0 rules, 1 filter),
// and ICMPv6 errors quoting them (2 filters per rule, as IPv4);
// they sit at their own preferences, as tc keeps one protocol per preference.
import { execFile, execFileSync } from 'node:child_process';
import { protocolNumber, type SteeringRule } from './port.js';
import { ipv6Words, parseIpv6 } from '../packet/addr6.js';

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

/** tc without blocking the caller's thread (the director's main thread applies steering). */
export function tcAsync(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('tc', args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (!err) { resolve(stdout); return; }
      const text = String(stderr || err.message).trim();
      reject(new TcError(`tc ${args.join(' ')}: ${text}`, codeOf(text)));
    });
    // tc may exit before reading its input (a refused `filter del` does at once): the exit
    // callback reports that, so a broken pipe on stdin is not an error of its own.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
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

// Offsets in an IPv4 packet without options carrying an ICMP error that quotes a header
// without options: the quoted IP header starts at 28 (20 + the 8-byte ICMP header).
const QUOTED_IP = 28;
const QUOTED_PROTOCOL = QUOTED_IP + 9;
const QUOTED_SRC = QUOTED_IP + 12;
const QUOTED_DST = QUOTED_IP + 16;
const QUOTED_SRC_PORT = QUOTED_IP + 20;
const QUOTED_DST_PORT = QUOTED_IP + 22;
/** ICMP error types under mask 0xf7: 3 (unreachable) with 11 (time exceeded), 4 (source quench) with 12 (parameter problem). */
const ICMP_ERROR_TYPE_PAIRS = [3, 4] as const;
const FRAGMENT_OFFSET_BITS = 13;
// An ICMPv6 error right after the 40-byte header quotes an IPv6 header at 48 (40 + the 8-byte
// ICMPv6 header): its source at 56, destination at 72, then the transport's ports at 88.
const QUOTED6_IP = 48;
const QUOTED6_SRC = QUOTED6_IP + 8;
const QUOTED6_DST = QUOTED6_IP + 24;
const QUOTED6_PORTS = QUOTED6_IP + 40;
/** ICMPv6 error types as (value, mask): 0-3 (1 unreachable, 2 too big, 3 time exceeded; 0 is unassigned), then 4 (parameter problem). */
const ICMPV6_ERROR_TYPES = [[0, '0xfc'], [4, '0xff']] as const;

function hex32(ip: number): string {
  return `0x${(ip >>> 0).toString(16).padStart(8, '0')}`;
}

/** The `tc -batch` lines steering one rule to the tap. */
export function steeringFilterLines(ifname: string, tapName: string, pref: number, rule: SteeringRule): string[] {
  const head = `filter add dev ${ifname} parent ffff: pref ${pref} protocol ip u32 match u8 0x45 0xff at 0`; // IPv4, IHL 5
  const action = `action mirred egress redirect dev ${tapName}`;
  const protocol = protocolNumber(rule.protocol);
  const address = rule.kind === 'service' ? 'dst' : 'src';
  if (rule.ip6 !== undefined) {
    const head6 = `filter add dev ${ifname} parent ffff: pref ${pref + TC_PREF6_OFFSET} protocol ipv6 u32`;
    const lines6 = [[
      head6,
      `match ip6 protocol ${protocol} 0xff`, // the transport right after the fixed header
      `match ip6 ${address} ${rule.ip6}/128`,
      `match u16 ${rule.port} 0xffff at ${rule.kind === 'service' ? 42 : 40}`,
      action,
    ].join(' ')];
    if (rule.port === 0) {
      // Whole address: every fragment of its datagrams, the fragment header right after the
      // fixed header (next header 44 at 6), its next header (the transport) at 40. One filter,
      // where IPv4 needs 14: the offset need not be matched. A fragment header behind other
      // extension headers is rare and goes to the kernel (the XDP program walks up to 4).
      lines6.push([head6, 'match ip6 protocol 44 0xff', `match u8 ${protocol} 0xff at 40`, `match ip6 ${address} ${rule.ip6}/128`, action].join(' '));
      return lines6;
    }
    // ICMPv6 errors about this rule's packets, right after the fixed header, quoting TCP/UDP
    // right after the quoted fixed header (as the XDP program; icmp6.ts follows them).
    const words = ipv6Words(parseIpv6(rule.ip6));
    const quotedIp = rule.kind === 'service' ? QUOTED6_SRC : QUOTED6_DST;
    for (const [type, mask] of ICMPV6_ERROR_TYPES) {
      lines6.push([
        head6,
        'match ip6 protocol 58 0xff',
        `match u8 ${type} ${mask} at 40`,
        `match u8 0x60 0xf0 at ${QUOTED6_IP}`,
        `match u8 ${protocol} 0xff at ${QUOTED6_IP + 6}`,
        ...words.map((w, i) => `match u32 ${hex32(w)} 0xffffffff at ${quotedIp + 4 * i}`),
        `match u16 ${rule.port} 0xffff at ${rule.kind === 'service' ? QUOTED6_PORTS : QUOTED6_PORTS + 2}`,
        action,
      ].join(' '));
    }
    return lines6;
  }
  if (rule.port === 0) {
    // Whole address: every fragment of its datagrams (the later ones carry no ports).
    const lines = [`${head} match u16 0x2000 0x3fff at 6 match ip protocol ${protocol} 0xff match ip ${address} ${ipText(rule.ip)}/32 ${action}`];
    for (let bit = 0; bit < FRAGMENT_OFFSET_BITS; bit++) {
      const m = `0x${(1 << bit).toString(16)}`;
      lines.push(`${head} match u16 ${m} ${m} at 6 match ip protocol ${protocol} 0xff match ip ${address} ${ipText(rule.ip)}/32 ${action}`);
    }
    return lines;
  }
  const portOffset = rule.kind === 'service' ? 22 : 20; // IHL 5: ports right after the 20-byte header
  const lines = [[
    head,
    'match u16 0 0x3fff at 6', // not a fragment
    `match ip protocol ${protocol} 0xff`,
    `match ip ${address} ${ipText(rule.ip)}/32`,
    `match u16 ${rule.port} 0xffff at ${portOffset}`,
    action,
  ].join(' ')];
  // ICMP errors about this rule's packets: a service's reply (quoted source VIP:port) or a
  // client's packet to a NAT real server (quoted destination ip:port).
  const quotedIp = rule.kind === 'service' ? QUOTED_SRC : QUOTED_DST;
  const quotedPort = rule.kind === 'service' ? QUOTED_SRC_PORT : QUOTED_DST_PORT;
  for (const type of ICMP_ERROR_TYPE_PAIRS) {
    lines.push([
      head,
      'match u16 0 0x3fff at 6',
      'match ip protocol 1 0xff',
      `match u8 ${type} 0xf7 at 20`,
      `match u8 0x45 0xff at ${QUOTED_IP}`,
      `match u8 ${protocol} 0xff at ${QUOTED_PROTOCOL}`,
      `match u32 ${hex32(rule.ip)} 0xffffffff at ${quotedIp}`,
      `match u16 ${rule.port} 0xffff at ${quotedPort}`,
      action,
    ].join(' '));
  }
  return lines;
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

function allSteeringLines(ifname: string, tapName: string, pref: number, rules: SteeringRule[]): string[] {
  return rules.flatMap((r) => steeringFilterLines(ifname, tapName, pref, r));
}

/** Installs `rules` under `pref`, then removes the other pref's filters. */
export function replaceSteering(ifname: string, tapName: string, pref: number, rules: SteeringRule[]): void {
  const lines = allSteeringLines(ifname, tapName, pref, rules);
  for (const p of [pref, pref + TC_PREF6_OFFSET]) tryTc(['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(p)]);
  if (lines.length > 0) tc(['-batch', '-'], lines.join('\n') + '\n');
  const old = pref === TC_PREFS[0] ? TC_PREFS[1] : TC_PREFS[0];
  for (const p of [old, old + TC_PREF6_OFFSET]) tryTc(['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(p)]);
}

/** replaceSteering without blocking: the same filters, tc run asynchronously. */
export async function replaceSteeringAsync(ifname: string, tapName: string, pref: number, rules: SteeringRule[]): Promise<void> {
  const lines = allSteeringLines(ifname, tapName, pref, rules);
  const del = async (p: number) => {
    for (const q of [p, p + TC_PREF6_OFFSET]) await tcAsync(['filter', 'del', 'dev', ifname, 'parent', 'ffff:', 'pref', String(q)]).catch(() => '');
  };
  await del(pref);
  if (lines.length > 0) await tcAsync(['-batch', '-'], lines.join('\n') + '\n');
  await del(pref === TC_PREFS[0] ? TC_PREFS[1] : TC_PREFS[0]);
}

/** Removes our filters, and the ingress qdisc too when `ownsQdisc` and no
 * one else's filters remain on it. */
export function removeTapPlumbing(ifname: string, ownsQdisc: boolean): void {
  removeSteering(ifname);
  if (ownsQdisc && !hasIngressFilters(ifname)) tryTc(['qdisc', 'del', 'dev', ifname, 'handle', 'ffff:', 'ingress']);
}
