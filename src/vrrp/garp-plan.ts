// keepalived's gratuitous ARP schedule of a new MASTER (vrrp.c vrrp_state_become_master,
// vrrp_scheduler.c vrrp_gratuitous_arp_*_thread, vrrp_arp.c), pure:
// - at once, garp_master_repeat rounds over every VIP and excluded VIP;
// - after garp_master_delay, garp_master_repeat rounds again (none when the delay is 0);
// - from garp_master_delay + garp_master_refresh, every garp_master_refresh seconds,
//   garp_master_refresh_repeat rounds (no refresh when garp_master_refresh is 0);
// - on one interface, two GARPs are at least vrrp_garp_interval apart: the others wait in
//   order (vrrp_arp.c queues them per interface).
// vrrp_min_garp (global_defs) changes the defaults that were not set: one GARP, no second
// burst, no refresh.

export interface GarpTimers {
  garp_master_delay?: number;
  garp_master_repeat?: number;
  garp_master_refresh?: number;
  garp_master_refresh_repeat?: number;
}

/** keepalived's defaults (vrrp.h VRRP_GARP_*), and what vrrp_min_garp makes of them. */
export const GARP_DEFAULTS = { delay: 5, repeat: 5, refresh: 0, refreshRepeat: 1 } as const;
export const MIN_GARP_DEFAULTS = { delay: 0, repeat: 1, refresh: 0, refreshRepeat: 0 } as const;

export interface GarpPlan {
  /** Bursts (ms after becoming MASTER) and their rounds. */
  bursts: { atMs: number; rounds: number }[];
  refresh: { firstAtMs: number; everyMs: number; rounds: number } | null;
}

/** `withRefresh` false: addresses a reload added while MASTER (a burst and the delayed one only). */
export function garpPlan(t: GarpTimers, withRefresh: boolean): GarpPlan {
  const repeat = t.garp_master_repeat ?? GARP_DEFAULTS.repeat;
  const delayMs = (t.garp_master_delay ?? GARP_DEFAULTS.delay) * 1000;
  const refreshMs = (t.garp_master_refresh ?? GARP_DEFAULTS.refresh) * 1000;
  const refreshRounds = t.garp_master_refresh_repeat ?? GARP_DEFAULTS.refreshRepeat;
  const bursts = [{ atMs: 0, rounds: repeat }];
  if (delayMs > 0) bursts.push({ atMs: delayMs, rounds: repeat });
  const refresh = withRefresh && refreshMs > 0 ? { firstAtMs: delayMs + refreshMs, everyMs: refreshMs, rounds: refreshRounds } : null;
  return { bursts: bursts.filter((b) => b.rounds > 0), refresh: refresh && refresh.rounds > 0 ? refresh : null };
}

/** One burst's GARPs in keepalived's order: `rounds` passes over all the addresses. */
export function burstOrder<T>(rounds: number, addresses: readonly T[]): T[] {
  const out: T[] = [];
  for (let r = 0; r < rounds; r++) out.push(...addresses);
  return out;
}

/**
 * When the next GARP queued on an interface may go: at once, or `intervalMs` after the last
 * one sent there (`lastSentMs` null: none yet).
 */
export function nextGarpAt(nowMs: number, lastSentMs: number | null, intervalMs: number): number {
  return intervalMs > 0 && lastSentMs !== null ? Math.max(nowMs, lastSentMs + intervalMs) : nowMs;
}
