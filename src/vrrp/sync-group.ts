// keepalived's vrrp_sync_group: members move together, and one member's fault is the group's.
// Pure: which group each instance is in, why a member is in FAULT, and who follows a move.
import type { VrrpSyncGroupConfig } from './config.js';
import type { VrrpEvent, VrrpState } from './state.js';
import { trackingFaultReason, type TrackedState } from './tracking.js';

/** The parts of a running instance these decisions read (the speaker's instances have them). */
export interface SyncMember {
  cfg: { name: string };
  syncGroup: string | null;
  params: { basePriority: number };
  tracked: readonly TrackedState[];
  runtime: { state: VrrpState };
}

export type GroupState = 'MASTER' | 'BACKUP' | 'FAULT';

/** instance name -> its sync group. A name listed in two groups ends in the last one. */
export function syncGroupsByInstance(groups: readonly VrrpSyncGroupConfig[] | undefined, instanceNames: readonly string[]): Map<string, string> {
  const known = new Set(instanceNames);
  const out = new Map<string, string>();
  for (const group of groups ?? []) {
    for (const member of group.group) if (known.has(member)) out.set(member, group.name);
  }
  return out;
}

/** Why the instance must be in FAULT: its own tracking, or (sync group) a member's. */
export function faultReason<T extends SyncMember>(inst: T, all: readonly T[]): string | null {
  const own = trackingFaultReason(inst.params.basePriority, inst.tracked);
  if (own !== null || inst.syncGroup === null) return own;
  for (const other of all) {
    if (other !== inst && other.syncGroup === inst.syncGroup && trackingFaultReason(other.params.basePriority, other.tracked) !== null) {
      return `sync group ${inst.syncGroup}: ${other.cfg.name} faulty`;
    }
  }
  return null;
}

export interface GroupMove<T> {
  group: string;
  to: GroupState;
  /** In order, per other member: the events to dispatch to it (not to propagate again). */
  followers: { member: T; events: VrrpEvent[] }[];
}

/**
 * After `mover` went from `from` to `to` on `ev`: the group move the others follow, or null.
 * A move that itself followed the group (`ev` is a sync, or `propagate` is false) does not
 * echo back. A member that is in FAULT only because the group was leaves it with the group.
 */
export function groupMove<T extends SyncMember>(
  mover: T, all: readonly T[], ev: VrrpEvent, propagate: boolean,
  transition: { from: VrrpState; to: VrrpState; reason: string },
): GroupMove<T> | null {
  const { from, to, reason } = transition;
  const group = mover.syncGroup;
  if (!propagate || ev.type === 'sync' || group === null) return null;
  if (to !== 'MASTER' && to !== 'BACKUP' && to !== 'FAULT') return null;
  const why = `sync group ${group}: ${mover.cfg.name} ${reason}`;
  const followers: GroupMove<T>['followers'] = [];
  for (const other of all) {
    if (other === mover || other.syncGroup !== group) continue;
    const events: VrrpEvent[] = [];
    if (from === 'FAULT' && other.runtime.state === 'FAULT' && faultReason(other, all) === null) events.push({ type: 'faultCleared' });
    events.push({ type: 'sync', to, why });
    followers.push({ member: other, events });
  }
  return { group, to, followers };
}
