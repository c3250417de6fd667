/**
 * keepalived's per-virtual-server switches that act on the checkers, pure (check_api.c,
 * ipwrapper.c):
 * - ha_suspend: while none of the service's addresses is on this director (a VRRP BACKUP),
 *   its checkers are suspended: they do not probe and the real servers keep their state.
 * - omega: on shutdown, the notify_down of every live real server and the quorum_down of the
 *   service run (without omega keepalived runs no notifier when it stops).
 */

import type { NotifyScript } from '../os/notify.js';
export interface SuspendableService {
  id: string;
  ha_suspend?: boolean;
  /** The addresses the service answers on (its VIP, or every VIP of its group). */
  vips?: readonly string[];
}

/** The services whose checkers ha_suspend pauses, given which addresses the director holds. */
export function suspendedServices(services: readonly SuspendableService[], present: (vip: string) => boolean): Set<string> {
  const out = new Set<string>();
  for (const s of services) {
    if (s.ha_suspend !== true) continue;
    if (!(s.vips ?? []).some(present)) out.add(s.id);
  }
  return out;
}

/** A probe shared by several services runs while one of them still wants it. */
export function probePaused(memberServiceIds: readonly string[], suspended: ReadonlySet<string>): boolean {
  return memberServiceIds.length > 0 && memberServiceIds.every((id) => suspended.has(id));
}

export interface OmegaMember { up: boolean; notifyDown?: NotifyScript }
export interface OmegaService { omega?: boolean; quorum_down?: NotifyScript }

/** The scripts keepalived runs at shutdown for one service: only with omega. */
export function shutdownScripts(svc: OmegaService, members: readonly OmegaMember[]): NotifyScript[] {
  if (svc.omega !== true) return [];
  const scripts: NotifyScript[] = [];
  for (const m of members) if (m.up && m.notifyDown) scripts.push(m.notifyDown);
  // ipwrapper.c update_vs_notifies: stopping always takes the quorum down.
  if (svc.quorum_down) scripts.push(svc.quorum_down);
  return scripts;
}
