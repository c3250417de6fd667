// keepalived's notify feature, the one implementation for VRRP (notify, notify_master...) and
// checkers (notify_up/notify_down, quorum_up/quorum_down). Fire and forget: the caller never
// waits. Every script is bounded: still running after the timeout, its whole process group is
// killed (a notify script that forks must not outlive it).
import { spawn } from 'node:child_process';
import { splitCommandLine } from './words.js';
import { prepareScript, type RunAs } from './script-user.js';

/** keepalived gives notify scripts no timeout of their own; ulvs bounds them all at this. */
export const NOTIFY_TIMEOUT_MS = 60_000;

export interface NotifyLogger {
  warn(obj: object, msg?: string): void;
}

export interface NotifyOptions {
  timeoutMs?: number;
  logger?: NotifyLogger;
  /**
   * Who runs it (keepalived's script_user, enable_script_security); default: the default
   * script user (keepalived_script if it exists, else ulvs's own user). See os/script-user.ts.
   */
  runAs?: RunAs;
}

/**
 * A configured notify script: its line, or `{ script, user }` when it runs as its own user
 * (keepalived's `notify_master "/path/script" USER [GROUP]`; user is "USER [GROUP]").
 */
export type NotifyScript = string | { script: string; user: string };

/** What to execute and how to name it in logs. */
export interface NotifyCommand {
  argv: readonly string[];
  /** The configured line, as the operator wrote it. */
  line: string;
  /** The script's own "USER [GROUP]": wins over the runner's (script_user, keepalived_script). */
  user?: string;
}

function parts(script: NotifyScript): { line: string; user?: string } {
  return typeof script === 'string' ? { line: script } : { line: script.script, user: script.user };
}

export interface NotifyOutcome {
  code: number | null;
  signal: string | null;
  error?: string;
}

/**
 * VRRP notify: keepalived appends its arguments (TYPE NAME STATE [PRIORITY]) to the configured
 * line. The line runs through /bin/sh, so redirections in it work as they always have in ulvs.
 */
export function vrrpNotifyCommand(script: NotifyScript, args: readonly string[]): NotifyCommand {
  const { line, user } = parts(script);
  return { line, argv: ['/bin/sh', '-c', `${line} "$@"`, 'sh', ...args], ...(user ? { user } : {}) };
}

/** Checker notify: run as given, split into words like keepalived's quoted strings, no shell. */
export function checkerNotifyCommand(script: NotifyScript): NotifyCommand {
  const { line, user } = parts(script);
  return { line, argv: splitCommandLine(line), ...(user ? { user } : {}) };
}

export function runNotify(command: NotifyCommand, options: NotifyOptions = {}): Promise<NotifyOutcome> {
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  const failed = (error: string): NotifyOutcome => {
    options.logger?.warn({ command: command.line, err: error }, 'notify script failed to start');
    return { code: null, signal: null, error };
  };
  return new Promise((resolve) => {
    const runAs = command.user ? { ...options.runAs, user: command.user } : options.runAs ?? {};
    const prepared = prepareScript(command.argv, runAs);
    if ('refused' in prepared) { resolve(failed(prepared.refused)); return; }
    const { file, args, uid, gid } = prepared;
    let child;
    try {
      child = spawn(file, args, { detached: true, stdio: 'ignore', uid, gid });
    } catch (err) {
      resolve(failed(reasonOf(err)));
      return;
    }
    const c = child;
    c.unref();
    const timer = setTimeout(() => {
      options.logger?.warn({ command: command.line, timeoutMs }, 'notify script killed after its timeout');
      try { if (c.pid) process.kill(-c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    timer.unref();
    c.once('error', (err) => { clearTimeout(timer); resolve(failed(reasonOf(err))); });
    c.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
}

function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.message === 'string') return e.message;
  return String(err);
}
