/**
 * The mail queue: nodemailer sends what src/alerts/plan.ts decided, one mail at a time, in
 * order. Never blocks the caller (VRRP, checks and forwarding only enqueue): a server that is
 * down costs a bounded number of attempts per mail, the queue is bounded, failures are counted
 * and logged once until a mail gets through again.
 */
import nodemailer from 'nodemailer';
import type { Mail, MailSettings } from './plan.js';

export interface MailerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MailCounters {
  mail_sent: number;
  mail_failed: number;
  mail_queued: number;
}

/** What sends one mail; nodemailer's SMTP transport unless a test gives another. */
export type SendMail = (settings: MailSettings, mail: Mail) => Promise<void>;

export interface MailerOptions {
  /** Attempts per mail, first one included (default 3). */
  attempts?: number;
  /** Wait before the first retry, doubled for each next one (default 2000 ms). */
  retryDelayMs?: number;
  /** Mails waiting beyond this are dropped and counted as failed (default 100). */
  maxQueue?: number;
  send?: SendMail;
}

interface Queued { mail: Mail; attempt: number }

export class AlertMailer {
  private readonly queue: Queued[] = [];
  private readonly counts: MailCounters = { mail_sent: 0, mail_failed: 0, mail_queued: 0 };
  private busy = false;
  private failing = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private idle: Array<() => void> = [];
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly maxQueue: number;
  private readonly sendMail: SendMail;

  constructor(private settings: MailSettings, private readonly log: MailerLogger, opts: MailerOptions = {}) {
    this.attempts = Math.max(1, opts.attempts ?? 3);
    this.retryDelayMs = opts.retryDelayMs ?? 2000;
    this.maxQueue = opts.maxQueue ?? 100;
    this.sendMail = opts.send ?? smtpSend;
  }

  /** A reload's settings: mails still queued go to the new server and recipients. */
  update(settings: MailSettings): void {
    this.settings = settings;
  }

  counters(): MailCounters {
    return { ...this.counts, mail_queued: this.queue.length + (this.busy ? 1 : 0) };
  }

  enqueue(mail: Mail): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.counts.mail_failed++;
      this.noteFailure(mail, `queue full (${this.maxQueue} mails waiting)`);
      return;
    }
    this.queue.push({ mail, attempt: 0 });
    this.pump();
  }

  /**
   * Stops taking mail; resolves when the queue is empty or after `withinMs`, whichever comes
   * first (what is still queued then is counted as failed).
   */
  async close(withinMs: number): Promise<void> {
    this.closed = true;
    // No more waiting between attempts: each mail still queued gets one last try.
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; this.pump(); }
    if (this.busy || this.queue.length) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idle.push(resolve)),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, withinMs); }),
      ]);
      clearTimeout(timer);
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.counts.mail_failed += this.queue.splice(0).length;
  }

  private pump(): void {
    if (this.busy || this.retryTimer) return;
    const next = this.queue.shift();
    if (!next) { for (const done of this.idle.splice(0)) done(); return; }
    this.busy = true;
    next.attempt++;
    this.sendMail(this.settings, next.mail).then(
      () => {
        this.busy = false;
        this.counts.mail_sent++;
        if (this.failing) {
          this.failing = false;
          this.log.info({ server: `${this.settings.host}:${this.settings.port}` }, 'alert mail delivery works again');
        }
        this.pump();
      },
      (err: unknown) => {
        this.busy = false;
        const reason = (err as Error)?.message ?? String(err);
        if (next.attempt < this.attempts && !this.closed) {
          // Back to the head: mails keep their order, later ones wait for this one's retries.
          this.queue.unshift(next);
          const delay = this.retryDelayMs * 2 ** (next.attempt - 1);
          this.retryTimer = setTimeout(() => { this.retryTimer = null; this.pump(); }, delay);
          this.retryTimer.unref();
          return;
        }
        this.counts.mail_failed++;
        this.noteFailure(next.mail, `${reason} (after ${next.attempt} attempts)`);
        this.pump();
      },
    );
  }

  /** Logged once per outage: the counters say how many more failed. */
  private noteFailure(mail: Mail, reason: string): void {
    if (this.failing) return;
    this.failing = true;
    this.log.warn({ server: `${this.settings.host}:${this.settings.port}`, subject: mail.subject, err: reason },
      'alert mail not delivered; further failures are only counted (ulvs stats mail_failed)');
  }
}

/**
 * keepalived speaks plain SMTP to its relay (no TLS, no AUTH); so does this transport. Every
 * phase is bounded by smtp_connect_timeout, as keepalived bounds its whole exchange.
 */
export const smtpSend: SendMail = async (s, mail) => {
  const transport = nodemailer.createTransport({
    host: s.host, port: s.port, secure: false, ignoreTLS: true, name: s.heloName,
    connectionTimeout: s.connectTimeoutMs, greetingTimeout: s.connectTimeoutMs, socketTimeout: s.connectTimeoutMs,
  });
  try {
    await transport.sendMail({
      from: s.from, to: s.to, subject: mail.subject, text: `${mail.body}\n`,
      headers: { 'X-Mailer': 'ulvs (Keepalived alerts)' },
    });
  } finally {
    transport.close();
  }
};
