// Which notify scripts a VRRP move runs, with keepalived's arguments. Pure: the speaker hands
// the commands to os/notify.ts, which runs them (fire and forget, bounded).
import { vrrpNotifyCommand, type NotifyCommand } from '../os/notify.js';
import type { VrrpInstanceConfig, VrrpSyncGroupConfig } from './config.js';

export type InstanceNotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';
export type GroupNotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** notify_<state> with no arguments, then the generic notify with INSTANCE NAME STATE PRIORITY. */
export function instanceNotifications(cfg: VrrpInstanceConfig, state: InstanceNotifyState, priority: number): NotifyCommand[] {
  const specific = { MASTER: cfg.notify_master, BACKUP: cfg.notify_backup, FAULT: cfg.notify_fault, STOP: cfg.notify_stop }[state];
  const out: NotifyCommand[] = [];
  if (specific) out.push(vrrpNotifyCommand(specific, []));
  if (cfg.notify) out.push(vrrpNotifyCommand(cfg.notify, ['INSTANCE', cfg.name, state, String(priority)]));
  return out;
}

/**
 * A sync group's notify_<state>, then its generic notify with GROUP NAME STATE 0 (keepalived
 * vrrp_notify.c: "the prio will be indicated as zero for a group"). STOP: on shutdown, after
 * the instances' notify_stop.
 */
export function groupNotifications(group: VrrpSyncGroupConfig, state: GroupNotifyState): NotifyCommand[] {
  const specific = { MASTER: group.notify_master, BACKUP: group.notify_backup, FAULT: group.notify_fault, STOP: group.notify_stop }[state];
  const out: NotifyCommand[] = [];
  if (specific) out.push(vrrpNotifyCommand(specific, []));
  if (group.notify) out.push(vrrpNotifyCommand(group.notify, ['GROUP', group.name, state, '0']));
  return out;
}
