// The packet port contract (docs/ARCHITECTURE.md "native/ and src/io/").
import { isIpv6 } from '../packet/addr6.js';

export type Backend = 'afxdp' | 'tap';

// Descriptor actions and layout, third word of each [offset, length, action] triple. The addon
// defines the same numbers (native/src/backend.h) and exports them as `constants`; test/io
// checks the two agree. Plain constants here so the hot loop reads no object property.
export const DROP = 0;
export const TX = 1;
export const TX_OTHER = 2;
/** To the director's own stack, unchanged (a local real server of a mixed service). */
export const LOCAL = 3;
/** uint32 words per descriptor. */
export const DESC_WORDS = 3;
/** Bytes of headroom before each received packet (IPIP fits in place). */
export const HEADROOM = 256;

export interface SteeringRule {
  kind: 'service' | 'reply';
  ip: number; // host order; 0 for an IPv6 rule
  port: number;
  protocol: 'tcp' | 'udp';
  /** An IPv6 rule's address (text); `ip` is then ignored. */
  ip6?: string;
}

export interface PacketPortStats {
  rxPackets: number;
  txPackets: number;
  txDropped: number;
  badDescriptors: number;
  otherMissing: number;
  /** LOCAL frames the director's own stack took / did not (absent in fakes). */
  localDelivered?: number;
  localDropped?: number;
}

export interface PacketPort {
  readonly backend: Backend;
  readonly ifname: string;
  readonly mac: Uint8Array;
  readonly frames: Uint8Array;
  readonly frameSize: number;
  /** AF_XDP only: how the XDP program is attached. */
  readonly xdpMode?: 'native' | 'generic';
  /** Why the backend is not the one asked for ('auto' fell back to tap), or why XDP is generic. */
  readonly fallbackReason?: string;
  receive(descs: Uint32Array, max: number): number;
  transmit(descs: Uint32Array, count: number, other?: PacketPort): void;
  setSteering(rules: SteeringRule[]): void;
  readableFd(): number;
  /** Drop counters (ulvs extension; fakes in tests may leave it out). */
  stats?(): PacketPortStats;
  close(): void;
}

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export function protocolNumber(protocol: 'tcp' | 'udp'): number {
  return protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
}

export function validateSteeringRules(rules: SteeringRule[]): void {
  for (const r of rules) {
    if (r.kind !== 'service' && r.kind !== 'reply') throw new TypeError(`steering rule kind must be 'service' or 'reply', got ${String(r.kind)}`);
    if (!Number.isInteger(r.ip) || r.ip < 0 || r.ip > 0xffffffff) throw new TypeError(`steering rule ip must be a uint32 (host order), got ${r.ip}`);
    if (!Number.isInteger(r.port) || r.port < 0 || r.port > 0xffff) throw new TypeError(`steering rule port must be 0-65535, got ${r.port}`);
    if (r.protocol !== 'tcp' && r.protocol !== 'udp') throw new TypeError(`steering rule protocol must be 'tcp' or 'udp', got ${String(r.protocol)}`);
    if (r.ip6 !== undefined && !isIpv6(r.ip6)) throw new TypeError(`steering rule ip6 must be an IPv6 address, got ${r.ip6}`);
  }
}
