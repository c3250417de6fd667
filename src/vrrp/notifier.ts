// Runs the notify scripts of VRRP moves: an instance's on each of its moves, a sync group's
// once per group move (keepalived). Fire and forget: the speaker never waits for a script.
import { runNotify, type NotifyCommand, type NotifyLogger } from '../os/notify.js';
import type { RunAs } from '../os/script-user.js';
import type { VrrpInstanceConfig, VrrpSyncGroupConfig } from './config.js';
import { groupNotifications, instanceNotifications, type GroupNotifyState, type InstanceNotifyState } from './notify-plan.js';

export class VrrpNotifier {
  /** Last state each sync group announced. */
  private readonly groupStates = new Map<string, GroupNotifyState>();

  /** `runAs`: read at each run, so a reload's script_user applies to the next script. */
  constructor(private readonly log: NotifyLogger, private readonly runAs: () => RunAs | undefined = () => undefined) {}

  instanceMoved(cfg: VrrpInstanceConfig, state: InstanceNotifyState, priority: number): void {
    for (const command of instanceNotifications(cfg, state, priority)) this.run(command);
  }

  /** `group` undefined: the group is no longer configured; the move is still remembered. */
  groupMoved(name: string, group: VrrpSyncGroupConfig | undefined, state: GroupNotifyState): void {
    if (this.groupStates.get(name) === state) return;
    this.groupStates.set(name, state);
    if (!group) return;
    for (const command of groupNotifications(group, state)) this.run(command);
  }

  /** A reload changed the group: its next move notifies whatever the state. */
  forgetGroup(name: string): void {
    this.groupStates.delete(name);
  }

  private run(command: NotifyCommand): void {
    void runNotify(command, { logger: this.log, runAs: this.runAs() });
  }
}
