// Running commands: the one home for every room (control, vrrp, health, lab). No shell, always
// a timeout, and a failure is an Error that says which command failed and what it printed.
import { execFile, execFileSync } from 'node:child_process';

/** Default bound on any command ulvs runs itself (ip, tc, ethtool, sysctl...). */
export const COMMAND_TIMEOUT_MS = 20_000;

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  timeoutMs?: number;
}

/** A command that exited non-zero, was killed by its timeout, or could not start. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(`${command}: ${stderr.trim() || '(no output)'}`);
    this.name = 'CommandError';
  }
}

/** Runs argv (no shell) and resolves with what it printed; rejects with a CommandError. */
export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === 'number' ? error.code : null;
          const timedOut = error.killed === true;
          const why = timedOut ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr || error.message;
          reject(new CommandError([file, ...args].join(' '), code, why, timedOut));
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command and returns its stdout (the common case of the director's ip/tc calls). */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return (await runCommand(file, args, options)).stdout;
}

/** Synchronous variant for exit paths, where the event loop may not run again. Bounded too. */
export function runSync(file: string, args: readonly string[], timeoutMs: number = COMMAND_TIMEOUT_MS): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
}
