// The lab's face of src/os/run.ts: every command has a timeout, and failures become
// LabCommandErrors that say which command failed and what it printed.
import { execFile } from 'node:child_process';
import { constants } from 'node:os';
import { COMMAND_TIMEOUT_MS, CommandError, runCommand, type RunResult } from '../os/run.js';

export { COMMAND_TIMEOUT_MS, type RunResult };

export class LabCommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`lab: \`${command}\` failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || '(no output)'}`);
    this.name = 'LabCommandError';
  }
}

export async function run(file: string, args: readonly string[], input?: string): Promise<RunResult> {
  try {
    return await runCommand(file, args, { input });
  } catch (err) {
    if (err instanceof CommandError) throw new LabCommandError(err.command, err.exitCode, err.stderr);
    throw err;
  }
}

/** Runs a POSIX shell script inside a namespace (`set -e`: the first failing line fails it). */
export function runInNamespace(namespace: string, script: string): Promise<RunResult> {
  return run('ip', ['netns', 'exec', namespace, 'sh', '-ec', script]);
}

/** `ip -batch -` in a namespace (or the root one): one process for many ip commands. */
export function ipBatch(namespace: string | undefined, lines: readonly string[]): Promise<RunResult> {
  const ns = namespace === undefined ? [] : ['-n', namespace];
  return run('ip', [...ns, '-batch', '-'], lines.join('\n') + '\n');
}

export interface ExecResult {
  /** Exit code; 128 + signal number if killed (timeout kills with SIGKILL). */
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs argv inside a namespace and reports how it ended (never rejects on a non-zero exit):
 * `await labExec('lab-client', ['curl', '-s', 'http://198.18.0.10/'])`.
 */
export function labExec(
  namespace: string,
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
    const child = execFile(
      'ip',
      ['netns', 'exec', namespace, ...argv],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ code: 0, stdout, stderr, timedOut: false });
          return;
        }
        const signalCode = error.signal ? (constants.signals[error.signal] ?? 0) : 0;
        const code = typeof error.code === 'number' ? error.code : 128 + signalCode;
        resolve({ code, stdout, stderr: stderr || error.message, timedOut: error.killed === true && error.signal === 'SIGKILL' });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
