/**
 * The announcement decision, pure (ExaBGP healthcheck's semantics). Each VIP is looked at once
 * per interval: healthy when at least one of its services has a usable real server. A VIP in
 * INIT or DOWN is announced only after `rise` consecutive healthy looks; an UP one goes DOWN
 * after `fall` consecutive unhealthy looks (damping against flapping). A disabled director and
 * a stopping one override health at once: disabled follows `when_down`, stopping always
 * withdraws (the daemon outlives ulvs: a route left behind would draw traffic to nobody).
 */

export type VipHealthState = 'init' | 'up' | 'down';
/** What the daemon is told for one VIP: a route with a MED, or none. */
export type Announcement = { announce: true; med: number } | { announce: false };

export interface DecisionSettings {
  rise: number;
  fall: number;
  whenDown: 'withdraw' | 'med';
  med: number;
  downMed: number;
}

export interface VipDamping {
  state: VipHealthState;
  /** consecutive looks, all healthy or all unhealthy (`lastHealthy`), that point toward a change */
  streak: number;
  lastHealthy: boolean | null;
}

export const INITIAL_DAMPING: VipDamping = { state: 'init', streak: 0, lastHealthy: null };

/** One look at a VIP's health: the damped state after it. */
export function observe(prev: VipDamping, healthy: boolean, s: Pick<DecisionSettings, 'rise' | 'fall'>): VipDamping {
  const towardChange = healthy ? prev.state !== 'up' : prev.state !== 'down';
  if (!towardChange) return { state: prev.state, streak: 0, lastHealthy: healthy };
  // INIT moves either way: a look of the other kind starts the count again.
  const streak = (prev.lastHealthy === healthy ? prev.streak : 0) + 1;
  if (streak >= (healthy ? s.rise : s.fall)) return { state: healthy ? 'up' : 'down', streak: 0, lastHealthy: healthy };
  return { state: prev.state, streak, lastHealthy: healthy };
}

export interface DirectorMode {
  /** `ulvs bgp disable` or the disable file */
  disabled: boolean;
  /** a clean stop has begun */
  stopping: boolean;
}

/** What to tell the daemon for a VIP in this damped state. */
export function announcementFor(state: VipHealthState, mode: DirectorMode, s: DecisionSettings): Announcement {
  if (mode.stopping) return { announce: false };
  const down = mode.disabled || state !== 'up';
  if (!down) return { announce: true, med: s.med };
  // INIT is never announced, not even with the worse MED: nothing is known yet.
  if (s.whenDown === 'med' && (state !== 'init' || mode.disabled)) return { announce: true, med: s.downMed };
  return { announce: false };
}

/** Why a VIP has the announcement it has (ulvs status). */
export function announcementReason(state: VipHealthState, mode: DirectorMode): string {
  if (mode.stopping) return 'stopping';
  if (mode.disabled) return 'disabled';
  if (state === 'init') return 'waiting for rise';
  return state === 'up' ? 'healthy' : 'no usable real server';
}

/** Usable real servers per VIP from the services forwarded now (several ports share a VIP). */
export function usableByVip(services: ReadonlyArray<{ vips: readonly string[]; usable: number }>): Map<string, number> {
  const out = new Map<string, number>();
  for (const svc of services) for (const vip of new Set(svc.vips)) out.set(vip, (out.get(vip) ?? 0) + svc.usable);
  return out;
}
