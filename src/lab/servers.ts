// The real servers' HTTP service: `ulvs lab serve` (src/lab/real-server.ts) started detached
// inside a node's namespace with the same ulvs (executable or checkout) that runs the lab, tracked by a pidfile (written by the server once it listens, so the pidfile's
// existence means "ready").
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkoutRoot, isEmbedded } from '../appliance/embedded.js';
import { DEFAULT_PREFIX, resolveNode } from './topology.js';

export const LAB_RUN_DIR = '/run/ulvs-lab';
export const LAB_SERVER_PORT = 80;
// Generous: a loaded machine starts three Node processes at once on `lab up`.
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 2_000;
const POLL_MS = 20;
/** `ulvs lab serve`: how the single executable starts the server, and how a live one is recognised. */
const SERVE_SUBCOMMAND = ['lab', 'serve'] as const;
/** The same server for a checkout, without loading the whole CLI (three start at once on `lab up`). */
const SERVE_SCRIPT = 'lab-server.mjs';

function serverCommand(): string[] {
  if (isEmbedded()) return [process.execPath, ...SERVE_SUBCOMMAND];
  return [process.execPath, join(checkoutRoot(import.meta.url), 'scripts', SERVE_SCRIPT)];
}

export function pidfilePath(namespace: string): string {
  return join(LAB_RUN_DIR, `${namespace}.pid`);
}

export function logfilePath(namespace: string): string {
  return join(LAB_RUN_DIR, `${namespace}.log`);
}

export function namespaceExists(namespace: string): boolean {
  return existsSync(join('/run/netns', namespace));
}

/** Pid of the lab server recorded for this namespace if that process is alive and is ours. */
export function runningServerPid(namespace: string): number | undefined {
  const pidfile = pidfilePath(namespace);
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidfile, 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isLabServerFor(pid, pidfile) ? pid : undefined;
}

// A recycled pid or a zombie must not count: the live server's command line names its pidfile
// (a zombie's command line is empty).
function isLabServerFor(pid: number, pidfile: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const serve = argv.indexOf(SERVE_SUBCOMMAND[1]);
    const isServer = (serve > 0 && argv[serve - 1] === SERVE_SUBCOMMAND[0]) || argv.some((a) => a.endsWith(SERVE_SCRIPT));
    return isServer && argv[argv.indexOf('--pidfile') + 1] === pidfile;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ServerTarget {
  /** Namespace name, e.g. 'lab-rs1'. */
  namespace: string;
  /** Name the server answers with, e.g. 'rs1'. */
  short: string;
}

function target(node: string, prefix: string): ServerTarget {
  const resolved = resolveNode(node, prefix);
  if (!resolved.ok) throw new Error(resolved.message);
  return { namespace: resolved.namespace, short: resolved.short };
}

export interface ServerOptions {
  /** Used when `node` is a short name; default 'lab-'. */
  prefix?: string;
  port?: number;
}

/**
 * Starts the HTTP (and UDP echo) server in a node's namespace; resolves once it listens.
 * Idempotent: returns the running server's pid if there is one.
 */
export async function startServer(node: string, options: ServerOptions = {}): Promise<number> {
  const { namespace, short } = target(node, options.prefix ?? DEFAULT_PREFIX);
  if (!namespaceExists(namespace)) {
    throw new Error(`lab: namespace ${namespace} does not exist (run \`ulvs lab up\` first)`);
  }
  const existing = runningServerPid(namespace);
  if (existing !== undefined) return existing;

  mkdirSync(LAB_RUN_DIR, { recursive: true });
  const pidfile = pidfilePath(namespace);
  rmSync(pidfile, { force: true });
  const log = openSync(logfilePath(namespace), 'w');
  const args = ['netns', 'exec', namespace, ...serverCommand()];
  args.push('--name', short, '--port', String(options.port ?? LAB_SERVER_PORT), '--pidfile', pidfile);
  // `ip netns exec` execs ulvs, so the child's pid is the server's pid.
  const child = spawn('ip', args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exit ${code ?? signal}`;
  });
  child.once('error', (error) => {
    exited = error.message;
  });
  child.unref();

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const pid = runningServerPid(namespace);
    if (pid !== undefined) return pid;
    if (exited !== undefined) break;
    await sleep(POLL_MS);
  }
  if (child.pid !== undefined && exited === undefined) process.kill(child.pid, 'SIGKILL');
  const output = readLog(namespace);
  throw new Error(`lab: server in ${namespace} did not start (${exited ?? 'timeout'}): ${output}`);
}

function readLog(namespace: string): string {
  try {
    return readFileSync(logfilePath(namespace), 'utf8').trim().slice(-2000) || '(no output)';
  } catch {
    return '(no log)';
  }
}

/** Stops the server in a node's namespace. Idempotent: returns false if none was running. */
export async function stopServer(node: string, options: Pick<ServerOptions, 'prefix'> = {}): Promise<boolean> {
  const { namespace } = target(node, options.prefix ?? DEFAULT_PREFIX);
  return stopServerInNamespace(namespace);
}

export async function stopServerInNamespace(namespace: string): Promise<boolean> {
  const pid = runningServerPid(namespace);
  if (pid === undefined) {
    rmSync(pidfilePath(namespace), { force: true });
    return false;
  }
  await terminate(pid, STOP_TIMEOUT_MS);
  rmSync(pidfilePath(namespace), { force: true });
  return true;
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return;
    await sleep(POLL_MS);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < killDeadline) await sleep(POLL_MS);
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

// Zombies (state Z) are dead for our purposes; their parent reaps them.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
