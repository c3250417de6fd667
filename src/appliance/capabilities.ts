/**
 * Which Linux capabilities this process holds (/proc/self/status CapEff), so a command can
 * say "needs CAP_NET_ADMIN, CAP_NET_RAW: run as root or grant them" instead of failing on
 * the first EPERM. Root without capabilities (a container's) is not root here.
 */
import { readFileSync } from 'node:fs';

/** Bit numbers from linux/capability.h, for the capabilities ulvs asks about. */
export const CAPABILITY_BITS = {
  CAP_DAC_OVERRIDE: 1,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_RESOURCE: 24,
  CAP_BPF: 39,
  CAP_PERFMON: 38,
} as const;

export type CapabilityName = keyof typeof CAPABILITY_BITS;

/**
 * The set `ulvs run` needs, found by dropping one at a time on kernel 6.18 (docs/ARCHITECTURE.md,
 * "The appliance"): NET_ADMIN (XDP attach, addresses, tc), NET_RAW (AF_XDP and VRRP sockets),
 * BPF + PERFMON (loading the XDP program: without PERFMON the verifier refuses it with EPERM),
 * IPC_LOCK (the UMEM is larger than the default RLIMIT_MEMLOCK).
 */
export const DIRECTOR_CAPABILITIES: readonly CapabilityName[] = ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_BPF', 'CAP_PERFMON', 'CAP_IPC_LOCK'];

/** Parses the hex mask of a /proc/<pid>/status Cap* line. */
export function parseCapabilityMask(status: string, field: 'CapEff' | 'CapPrm' | 'CapBnd' | 'CapAmb' = 'CapEff'): bigint {
  const match = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} line in /proc/self/status`);
  return BigInt(`0x${match[1]}`);
}

export function missingFrom(mask: bigint, needed: readonly CapabilityName[]): CapabilityName[] {
  return needed.filter((name) => (mask & (1n << BigInt(CAPABILITY_BITS[name]))) === 0n);
}

/** The capabilities of `needed` this process lacks (empty: go ahead). */
export function missingCapabilities(needed: readonly CapabilityName[]): CapabilityName[] {
  return missingFrom(parseCapabilityMask(readFileSync('/proc/self/status', 'utf8')), needed);
}

/** The one line a command prints when capabilities are missing. */
export function capabilityMessage(what: string, missing: readonly CapabilityName[]): string {
  return `${what} needs ${missing.join(', ')}: run as root or grant ${missing.length === 1 ? 'it' : 'them'}`;
}
