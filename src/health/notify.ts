/**
 * notify_up / notify_down / quorum_up / quorum_down: run as given, with no arguments added,
 * like keepalived's notify_exec for real servers and virtual servers (ipwrapper.c
 * do_rs_notifies / do_vs_notifies). Fire and forget: the health loop never waits for them;
 * a script that is still running after `timeoutMs` has its process group killed.
 */
import { spawn } from 'node:child_process';
import { splitCommandLine } from './misc.js';
import { errorReason } from './types.js';

export interface NotifyOutcome {
  code: number | null;
  signal: string | null;
  error?: string;
}

export const NOTIFY_TIMEOUT_MS = 60_000;

export function runNotifyScript(command: string, timeoutMs: number = NOTIFY_TIMEOUT_MS): Promise<NotifyOutcome> {
  return new Promise((resolve) => {
    const argv = splitCommandLine(command);
    if (argv.length === 0) { resolve({ code: null, signal: null, error: 'empty command' }); return; }
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
    } catch (err) {
      resolve({ code: null, signal: null, error: errorReason(err) });
      return;
    }
    const c = child;
    c.unref();
    const timer = setTimeout(() => { try { if (c.pid) process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    timer.unref();
    c.once('error', (err) => { clearTimeout(timer); resolve({ code: null, signal: null, error: errorReason(err) }); });
    c.once('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
}
