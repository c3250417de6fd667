// What the failover tests share: 30 keep-alive HTTP connections streaming through the VIP from
// the lab's client (test/e2e/keepalive-streams.mjs), the directors' VRRP state read from their
// logs (polling `ulvs status` would load the machine), and which connections broke.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO, ulvsIn, type RunningDirector } from './director.js';

const STREAMS = join(REPO, 'test/e2e/keepalive-streams.mjs');
export const CONNECTIONS = 30;
export const EVERY_MS = 50;
/** A connection that got no answer in the last STALL_MS of a run has broken. */
export const STALL_MS = 2500;

export interface Stream { answers: number[]; bodies: string[]; error: string | null }

export interface StreamingClient {
  /** Every connection has had its first answer. */
  ready: Promise<void>;
  /** Ends the streams and returns what each saw. */
  stop(): Promise<Stream[]>;
  kill(): void;
}

/** The streaming client in the client namespace. */
export function streamingClient(namespace: string, vip: string, connections = CONNECTIONS): StreamingClient {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, STREAMS, vip, '80', String(connections), String(EVERY_MS), '120000'],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const ready = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`client not ready in 45 s: ${out} ${err}`)), 45_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) { clearTimeout(timer); res(); }
    });
    child.once('exit', (code) => { clearTimeout(timer); rej(new Error(`client exited ${code}: ${out} ${err}`)); });
  });
  // 'close', not 'exit': the streams' JSON (hundreds of KB) may still be in the pipe at exit.
  const exited = new Promise<number | null>((res) => child.once('close', res));
  const stop = async (): Promise<Stream[]> => {
    child.stdin.end('stop\n');
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(kill);
    if (code !== 0) throw new Error(`client exited ${code}: ${err}`);
    return JSON.parse(out.slice('ready\n'.length)) as Stream[];
  };
  return { ready, stop, kill: () => child.kill('SIGKILL') };
}

/** The director's last VRRP state for the instance, from its own log. */
export function stateOf(dir: RunningDirector, instance = 'VI_1'): string | undefined {
  const moves = [...dir.log().matchAll(new RegExp(`VRRP ${instance}: \\w+ -> (\\w+)`, 'g'))];
  return moves.at(-1)?.[1];
}

export async function statsOf(ns: string): Promise<Record<string, number>> {
  return JSON.parse((await ulvsIn(ns, ['stats', '--json'])).stdout) as Record<string, number>;
}

/** Connections that ended in an error or got no answer in the last STALL_MS before `endAt`. */
export function brokenStreams(streams: readonly Stream[], endAt: number): number {
  return streams.filter((s) => s.error !== null || !s.answers.some((a) => a > endAt - STALL_MS)).length;
}

/** Connections with no answer between `from` and `to` (ms since the epoch). */
export function silentBetween(streams: readonly Stream[], from: number, to: number): number {
  return streams.filter((s) => !s.answers.some((a) => a > from && a <= to)).length;
}

export function errorTally(streams: readonly Stream[]): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const s of streams) errors[s.error ?? 'none'] = (errors[s.error ?? 'none'] ?? 0) + 1;
  return errors;
}
