// Test support for TUN end to end: test/e2e/decap.py run in a real server's namespace stands in
// for the kernel's ipip / ip_gre / fou decapsulation, which this machine's kernel lacks.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './director.js';

export const DECAP_TOOL = join(REPO, 'test/e2e/decap.py');

export interface DecapCounts { ipip: number; gre: number; gue: number; bad: number; greChecksummed: number; gueHeaders: string[] }
export interface Decap { stop(): Promise<DecapCounts> }

/**
 * Starts the decapsulator in `namespace` writing into the TUN device `dev` (`spec`: ipip, gre,
 * gue:PORT, comma-separated); resolves once its sockets are open. stop() returns its counts.
 */
export function startDecap(namespace: string, dev: string, spec: string, seconds = 600): Promise<Decap> {
  const child = spawn('ip', ['netns', 'exec', namespace, 'python3', DECAP_TOOL, dev, spec, String(seconds)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const decap: Decap = {
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      const last = out.trim().split('\n').pop() ?? '';
      try { return JSON.parse(last) as DecapCounts; } catch { throw new Error(`decap.py in ${namespace} printed no counts: ${out}${err}`); }
    },
  };
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`decap.py did not start in ${namespace}: ${err}`)); }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready"')) { clearTimeout(timer); res(decap); }
    });
    void exited.then(() => { clearTimeout(timer); rej(new Error(`decap.py exited in ${namespace}: ${err}`)); });
  });
}
