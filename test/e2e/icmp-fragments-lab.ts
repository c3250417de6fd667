// Test support for the issue-17 e2e files: the raw packet tool (raw-packets.py) run in a lab
// namespace, UDP answer servers on real servers, and tshark captures that say when they listen.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { labExec } from '../../src/lab/index.js';
import { REPO, ulvsIn } from './director.js';

export const RAW_TOOL = join(REPO, 'test/e2e/raw-packets.py');

/** Runs the packet tool in `namespace` and parses its JSON line. */
export async function raw<T>(namespace: string, args: string[]): Promise<T> {
  const r = await labExec(namespace, ['python3', RAW_TOOL, ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`raw-packets.py ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** A UDP answer server (bounded to 600 s by the tool itself); kill() ends it. */
export function udpServer(namespace: string, bind: string, port: number, name: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', namespace, 'python3', RAW_TOOL, 'udp-server', bind, String(port), name], { stdio: 'ignore' });
}

export interface Capture { lines: () => Promise<string[]>; stop: () => void }

/**
 * tshark in `namespace` on `ifname` with a capture filter, printing `fields`; resolves once it
 * captures. lines() waits for it to end (`count` packets or `seconds`). `options`: more tshark
 * arguments (e.g. `-o udp.check_checksum:TRUE`).
 */
export function capture(namespace: string, ifname: string, filter: string, fields: string[], count: number, seconds: number,
  options: readonly string[] = [], startMs = 30_000): Promise<Capture> {
  const args = ['netns', 'exec', namespace, 'tshark', '-i', ifname, '-n', '-l', '-f', filter, '-c', String(count), '-a', `duration:${seconds}`,
    '-o', 'ip.check_checksum:TRUE', ...options, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])];
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const ended = new Promise<void>((res) => child.once('exit', () => res()));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`tshark did not start: ${err}`)); }, startMs);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/Capturing on/.test(err)) {
        clearTimeout(timer);
        res({ lines: async () => { await ended; return out.split('\n').filter((l) => l.trim() !== ''); }, stop: () => child.kill('SIGTERM') });
      }
    });
    void ended.then(() => { clearTimeout(timer); rej(new Error(`tshark exited: ${err}`)); });
  });
}

export async function statsOf(namespace: string): Promise<Record<string, number>> {
  const r = await ulvsIn(namespace, ['stats', '--json']);
  if (r.code !== 0) throw new Error(`ulvs stats failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}
