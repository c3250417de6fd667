/**
 * The alerts room as the director uses it: hand it the config and the events, it mails what
 * keepalived would. Holds the only state keepalived keeps for mail (the last state mailed per
 * instance and sync group, so a repeated state is not mailed twice).
 */
import {
  alertIndex, groupMails, instanceMails, mailState, quorumMails, realServerMails, removedServerMails, shutdownServerMails,
  type AlertConfig, type AlertIndex, type AliveOf,
} from './events.js';
import { AlertMailer, type MailCounters, type MailerLogger, type MailerOptions } from './mailer.js';
import type { Mail } from './plan.js';

export { AlertMailer, type MailCounters } from './mailer.js';

/** How long a stopping director waits for its last mails ("Stopping") to leave. */
const STOP_FLUSH_MS = 5000;

export class DirectorAlerts {
  private index: AlertIndex;
  private mailer: AlertMailer | null = null;
  private readonly lastInstance = new Map<string, string>();
  private readonly lastGroup = new Map<string, string>();
  private readonly totals: MailCounters = { mail_sent: 0, mail_failed: 0, mail_queued: 0 };

  constructor(config: AlertConfig, private readonly log: MailerLogger, private readonly opts: MailerOptions = {}) {
    this.index = alertIndex(config);
    this.apply(config);
  }

  /**
   * A (re)loaded config: new recipients, server and per-block switches. With `alive` (a
   * reload), live real servers the new config drops mail "=> Removing <=".
   */
  apply(config: AlertConfig, alive?: AliveOf): void {
    const before = this.index;
    this.index = alertIndex(config);
    const s = this.index.settings;
    if (s && this.mailer) this.mailer.update(s);
    else if (s) this.mailer = new AlertMailer(s, this.log, this.opts);
    else if (this.mailer) { this.retire(this.mailer); this.mailer = null; }
    if (alive) this.send(removedServerMails(before, this.index, alive));
  }

  /** Before the checks stop: omega services mail "=> Shutting down <=" per live real server. */
  shuttingDown(alive: AliveOf): void {
    this.send(shutdownServerMails(this.index, alive));
  }

  instanceMoved(instance: string, to: string): void {
    if (mailState(to) === null || this.lastInstance.get(instance) === to) return;
    this.lastInstance.set(instance, to);
    this.send(instanceMails(this.index, instance, to));
  }

  groupMoved(group: string, to: string): void {
    if (mailState(to) === null || this.lastGroup.get(group) === to) return;
    this.lastGroup.set(group, to);
    this.send(groupMails(this.index, group, to));
  }

  realServerChanged(e: Parameters<typeof realServerMails>[1]): void {
    this.send(realServerMails(this.index, e));
  }

  quorumChanged(e: Parameters<typeof quorumMails>[1], initial = false): void {
    this.send(quorumMails(this.index, e, initial));
  }

  counters(): MailCounters {
    const live = this.mailer?.counters() ?? { mail_sent: 0, mail_failed: 0, mail_queued: 0 };
    return {
      mail_sent: this.totals.mail_sent + live.mail_sent,
      mail_failed: this.totals.mail_failed + live.mail_failed,
      mail_queued: live.mail_queued,
    };
  }

  /** keepalived mails "Stopping" for each instance and group that mailed before; bounded wait. */
  async stop(): Promise<void> {
    for (const [name, state] of this.lastInstance) if (state !== 'STOP') this.instanceMoved(name, 'STOP');
    for (const [name, state] of this.lastGroup) if (state !== 'STOP') this.groupMoved(name, 'STOP');
    await this.mailer?.close(STOP_FLUSH_MS);
  }

  private send(mails: Mail[]): void {
    for (const m of mails) this.mailer?.enqueue(m);
  }

  /** Mail switched off by a reload: what is queued still goes, its counts are kept. */
  private retire(mailer: AlertMailer): void {
    void mailer.close(STOP_FLUSH_MS).then(() => {
      const c = mailer.counters();
      this.totals.mail_sent += c.mail_sent;
      this.totals.mail_failed += c.mail_failed;
    });
  }
}
