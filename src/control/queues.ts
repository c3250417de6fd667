// How many dataplane workers (one per RX queue) a director starts. An AF_XDP socket takes the
// packets of one RX queue only (the kernel refuses a redirect to a socket bound to another),
// so on an interface with more RX queues than workers, whatever RSS puts on the others goes to
// the kernel's stack and is not forwarded: found by bench/queues-lab.ts, where a director with
// queues 1 on two-queue veths forwarded 52 % of what it was offered. Hence: dataplane.queues
// left out means one worker per RX queue, and a number that does not match is refused at start
// with the interface's count, never accepted and half-forwarded. TAP steers with tc filters
// ahead of the queues, so it keeps the configured count (default 1).
import { readdirSync } from 'node:fs';

export interface QueuesInput {
  /** dataplane.queues as written; undefined: left out. */
  configured: number | undefined;
  /** The interface's RX queues (sysfs), or null when they could not be read. */
  rxQueues: number | null;
  io: 'afxdp' | 'tap' | 'auto';
  ifname: string;
  /** A Full NAT service is configured: its replies must land on their connection's worker. */
  fullNat: boolean;
}

export type QueuesDecision =
  | { ok: true; queues: number; note: string | null }
  | { ok: false; error: string };

export function resolveQueues(i: QueuesInput): QueuesDecision {
  if (i.io === 'tap') return { ok: true, queues: i.configured ?? 1, note: null };
  if (i.rxQueues === null) {
    const queues = i.configured ?? 1;
    return { ok: true, queues, note: `dataplane.queues: ${queues} (${i.ifname}'s RX queues could not be read from sysfs: if it has more, packets on the others are not forwarded)` };
  }
  if (i.fullNat && i.rxQueues > 1) {
    return { ok: false, error: `${i.ifname} has ${i.rxQueues} RX queues and lb_kind FNAT needs one: a real server's reply to a local port can arrive on another queue than its connection (ethtool -L ${i.ifname} combined 1)` };
  }
  if (i.configured === undefined) {
    return { ok: true, queues: i.rxQueues, note: i.rxQueues > 1 ? `dataplane.queues: ${i.rxQueues} (one worker per RX queue of ${i.ifname})` : null };
  }
  if (i.configured < i.rxQueues) {
    const unserved = i.rxQueues - i.configured === 1 ? `queue ${i.configured}` : `queues ${i.configured}-${i.rxQueues - 1}`;
    return { ok: false, error: `dataplane.queues is ${i.configured} but ${i.ifname} has ${i.rxQueues} RX queues: AF_XDP takes packets per queue, so what RSS puts on ${unserved} would reach the kernel, not ulvs; set dataplane.queues: ${i.rxQueues} (or leave it out), or give ${i.ifname} fewer (ethtool -L ${i.ifname} combined N)` };
  }
  if (i.configured > i.rxQueues) {
    return { ok: false, error: `dataplane.queues is ${i.configured} but ${i.ifname} has ${i.rxQueues} RX queue${i.rxQueues === 1 ? '' : 's'}: set dataplane.queues: ${i.rxQueues} (or leave it out)` };
  }
  return { ok: true, queues: i.configured, note: null };
}

/**
 * NAT's inside interface: each worker takes the RX queue of its own number there too, so the
 * inside needs as many RX queues as there are workers (replies on another would be lost).
 */
export function insideQueuesError(inside: string, rxQueues: number | null, queues: number, io: QueuesInput['io']): string | null {
  if (io === 'tap' || rxQueues === null || rxQueues === queues) return null;
  return `the inside interface ${inside} has ${rxQueues} RX queue${rxQueues === 1 ? '' : 's'} and the dataplane runs ${queues} workers (one per queue of both interfaces): `
    + `give ${inside} ${queues} (ethtool -L ${inside} combined ${queues})${rxQueues > queues ? ', or the outside interface as many as it' : ''}`;
}

/** RX queues of an interface from sysfs (`queues/rx-N`), or null when unreadable. */
export function rxQueueCount(ifname: string): number | null {
  try {
    const n = readdirSync(`/sys/class/net/${ifname}/queues`).filter((e) => /^rx-\d+$/.test(e)).length;
    return n > 0 ? n : null;
  } catch {
    return null;
  }
}
