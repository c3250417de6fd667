/**
 * MISC_CHECK as keepalived: run misc_path (split into words like keepalived's quoted strings,
 * no shell), cut it at misc_timeout (default delay_loop) by signalling its whole process
 * group (SIGTERM, SIGKILL a second later), and read the exit status:
 * 0 up, 1 down; with misc_dynamic, 2-255 up with weight status - 2, else any non-zero down.
 */
import { spawn } from 'node:child_process';
import { scriptSlots } from './script-slots.js';
import type { CheckResult, CheckTarget, RunOptions } from './types.js';
import { errorReason } from './types.js';
import { runProbe } from './probe.js';
import { splitCommandLine } from '../os/words.js';
import { prepareScript, type RunAs } from '../os/script-user.js';

export interface MiscCheckParams {
  misc_path: string;
  misc_timeout?: number;
  misc_dynamic?: boolean;
  delay_loop?: number;
  /** MISC_CHECK's `user` with script_user and enable_script_security (health/plan.ts). */
  run_as?: RunAs;
}

const KILL_GRACE_MS = 1000;

// Re-exported: callers and tests have always found it here.
export { splitCommandLine };

/** Pure: keepalived's reading of a misc script's exit status. */
export function judgeMiscExit(code: number | null, signal: string | null, dynamic: boolean): CheckResult {
  if (code === null) return { ok: false, reason: `script killed by ${signal ?? 'signal'}` };
  if (code === 0) return { ok: true, reason: 'script exit 0' };
  if (code === 1 || !dynamic) return { ok: false, reason: `script exit ${code}` };
  return { ok: true, weight: code - 2, reason: `script exit ${code}: weight ${code - 2}` };
}

/** Signal a detached child's whole group; the child may already be gone. */
function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try { process.kill(-pid, sig); } catch { /* already gone */ }
}

export function runMiscCheck(_target: CheckTarget, params: MiscCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  const timeoutS = params.misc_timeout && params.misc_timeout > 0 ? params.misc_timeout
    : params.delay_loop && params.delay_loop > 0 ? params.delay_loop : 60;
  return runProbe(timeoutS * 1000, opts.signal, `script timed out after ${timeoutS}s`, (ctx) => {
    const argv = splitCommandLine(params.misc_path ?? '');
    if (argv.length === 0) { ctx.finish({ ok: false, reason: 'empty misc_path' }); return; }
    const prepared = prepareScript(argv, params.run_as ?? {});
    if ('refused' in prepared) { ctx.finish({ ok: false, reason: `script refused: ${prepared.refused}` }); return; }
    void scriptSlots.acquire().then((release) => {
      // Timed out (or aborted) while waiting for a slot: never started.
      if (ctx.settled) { release(); return; }
      spawnScript(release);
    });
    const spawnScript = (release: () => void): void => {
      const child = spawn(prepared.file, prepared.args, { detached: true, stdio: 'ignore', uid: prepared.uid, gid: prepared.gid });
      child.once('exit', release);
      child.once('error', release);
      let exited = false;
      child.once('error', (err) => ctx.finish({ ok: false, reason: `script: ${errorReason(err)}` }));
      child.once('exit', (code, signal) => {
        exited = true;
        ctx.finish(judgeMiscExit(code, signal, params.misc_dynamic === true));
      });
      ctx.onSettle(() => {
        if (exited) return;
        // The script (and anything it forked) outlived the probe: end the whole group.
        killGroup(child.pid, 'SIGTERM');
        const t = setTimeout(() => { if (!exited) killGroup(child.pid, 'SIGKILL'); }, KILL_GRACE_MS);
        t.unref();
        child.once('exit', () => clearTimeout(t));
      });
    };
  });
}
