/**
 * `ulvs realserver`: what a real server behind a DR or TUN director needs (the seeds'
 * realserver / lvs_dr.sh scripts), as pure decisions. Given the VIPs, the mode and what the
 * machine has now, `planStart` says what to change and records what was there before, so
 * `planStop` puts back exactly those values (not zeros) and removes only what start added.
 */
import { isIP } from 'node:net';

export type RealServerMode = 'dr' | 'tun';

/** The tunnel device the kernel's ipip module creates (fallback device, any source). */
export const TUNNEL_DEVICE = 'tunl0';

export interface Address { dev: string; address: string }

/** What the machine has now: addresses (with prefix length) and the sysctls that matter. */
export interface CurrentState {
  addresses: Address[];
  /** 'net.ipv4.conf.all.arp_ignore' -> '0'; keys the machine lacks are absent. */
  sysctls: Record<string, string>;
  tunnelDevice: boolean;
  tunnelUp: boolean;
}

export type Step =
  | { kind: 'sysctl'; key: string; from: string; to: string }
  | { kind: 'addr-add'; dev: string; address: string }
  | { kind: 'addr-del'; dev: string; address: string }
  | { kind: 'link-up'; dev: string };

/** Recorded at start (the state file): enough for stop to undo exactly that. */
export interface RealServerRecord {
  version: 1;
  mode: RealServerMode;
  vips: string[];
  /** Only the addresses start added (one already there is the admin's and stays). */
  added: Address[];
  /** Values before the first start changed them. */
  priorSysctls: Record<string, string>;
}

/** A VIP as the director announces it: a unicast IPv4/IPv6 host address. */
export function validateVip(text: string): string | undefined {
  const family = isIP(text);
  if (family === 0) return `${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  if (family === 4) {
    const first = Number(text.split('.')[0]);
    if (text === '0.0.0.0' || text === '255.255.255.255') return `${text} is not a host address`;
    if (first === 127) return `${text} is a loopback address`;
    if (first >= 224) return `${text} is a multicast or reserved address`;
  } else {
    const lower = text.toLowerCase();
    if (lower === '::' || lower === '::1') return `${text} is not a host address`;
    if (lower.startsWith('ff')) return `${text} is a multicast address`;
  }
  return undefined;
}

/** Checks VIPs and mode together; the first problem as one sentence. */
export function validateRequest(vips: string[], mode: RealServerMode): string | undefined {
  if (vips.length === 0) return 'give at least one --vip';
  for (const vip of vips) {
    const problem = validateVip(vip);
    if (problem) return `--vip ${problem}`;
    if (mode === 'tun' && isIP(vip) === 6) return `--vip ${vip}: mode tun uses ${TUNNEL_DEVICE}, which carries IPv4 only`;
  }
  return undefined;
}

export function hostAddress(vip: string): string {
  return `${vip}/${isIP(vip) === 6 ? 128 : 32}`;
}

/** Where the VIP lives: lo for DR, the tunnel device for TUN. */
export function vipDevice(mode: RealServerMode): string {
  return mode === 'tun' ? TUNNEL_DEVICE : 'lo';
}

/**
 * The sysctls a mode wants: never answer ARP for the VIP on another interface (arp_ignore=1),
 * never source ARP from it (arp_announce=2), on `all` (the kernel takes the max of all and the
 * device) and the VIP's device; TUN also relaxes reverse-path filtering, since decapsulated
 * packets arrive on tunl0 for an address routed elsewhere.
 */
export function desiredSysctls(vips: string[], mode: RealServerMode): Record<string, string> {
  if (!vips.some((v) => isIP(v) === 4)) return {};
  const dev = vipDevice(mode);
  const wanted: Record<string, string> = {};
  for (const d of ['all', dev]) {
    wanted[`net.ipv4.conf.${d}.arp_ignore`] = '1';
    wanted[`net.ipv4.conf.${d}.arp_announce`] = '2';
  }
  if (mode === 'tun') {
    wanted['net.ipv4.conf.all.rp_filter'] = '0';
    wanted[`net.ipv4.conf.${dev}.rp_filter`] = '0';
  }
  return wanted;
}

function hasAddress(state: CurrentState, a: Address): boolean {
  return state.addresses.some((x) => x.dev === a.dev && x.address === a.address);
}

/**
 * Steps to bring the machine to the wanted state, and the record to keep. `previous` is the
 * record of an earlier start (idempotence: its prior values stay the ones restored).
 */
export function planStart(vips: string[], mode: RealServerMode, state: CurrentState, previous?: RealServerRecord):
  { steps: Step[]; record: RealServerRecord } {
  const steps: Step[] = [];
  const dev = vipDevice(mode);
  const added: Address[] = previous?.mode === mode ? [...previous.added] : [];
  const priorSysctls: Record<string, string> = { ...(previous?.priorSysctls ?? {}) };
  if (mode === 'tun' && !state.tunnelUp) steps.push({ kind: 'link-up', dev });
  for (const vip of vips) {
    const address = { dev, address: hostAddress(vip) };
    if (hasAddress(state, address)) continue;
    steps.push({ kind: 'addr-add', ...address });
    if (!added.some((a) => a.dev === dev && a.address === address.address)) added.push(address);
  }
  for (const [key, to] of Object.entries(desiredSysctls(vips, mode))) {
    const from = state.sysctls[key];
    if (from === undefined || from === to) continue;
    steps.push({ kind: 'sysctl', key, from, to });
    if (!(key in priorSysctls)) priorSysctls[key] = from;
  }
  const allVips = [...new Set([...(previous?.mode === mode ? previous.vips : []), ...vips])];
  return { steps, record: { version: 1, mode, vips: allVips, added, priorSysctls } };
}

/** Steps that undo a start: recorded sysctl values back, the addresses start added removed. */
export function planStop(record: RealServerRecord, state: CurrentState): Step[] {
  const steps: Step[] = [];
  for (const a of record.added) if (hasAddress(state, a)) steps.push({ kind: 'addr-del', ...a });
  for (const [key, to] of Object.entries(record.priorSysctls)) {
    const from = state.sysctls[key];
    if (from !== undefined && from !== to) steps.push({ kind: 'sysctl', key, from, to });
  }
  return steps;
}

export interface StatusLine { what: string; ok: boolean; detail: string }

/** What is in place and what is missing for these VIPs in this mode. */
export function describeStatus(vips: string[], mode: RealServerMode, state: CurrentState): StatusLine[] {
  const dev = vipDevice(mode);
  const lines: StatusLine[] = [];
  if (mode === 'tun') {
    lines.push({ what: `${dev} device`, ok: state.tunnelDevice && state.tunnelUp,
      detail: !state.tunnelDevice ? 'missing (no ipip module)' : state.tunnelUp ? 'up' : 'down' });
  }
  for (const vip of vips) {
    const ok = hasAddress(state, { dev, address: hostAddress(vip) });
    lines.push({ what: `${hostAddress(vip)} on ${dev}`, ok, detail: ok ? 'in place' : 'missing' });
  }
  for (const [key, want] of Object.entries(desiredSysctls(vips, mode))) {
    const have = state.sysctls[key];
    lines.push({ what: key, ok: have === want, detail: have === want ? `= ${have}` : `= ${have ?? '(absent)'}, wants ${want}` });
  }
  return lines;
}

/** The command line a step runs (what --dry-run prints). */
export function stepCommand(step: Step): string[] {
  switch (step.kind) {
    case 'sysctl': return ['sysctl', '-q', '-w', `${step.key}=${step.to}`];
    case 'addr-add': return ['ip', 'addr', 'add', step.address, 'dev', step.dev];
    case 'addr-del': return ['ip', 'addr', 'del', step.address, 'dev', step.dev];
    case 'link-up': return ['ip', 'link', 'set', step.dev, 'up'];
  }
}
