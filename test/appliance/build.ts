// The package, built once per test run: test files run in parallel, so the first one builds
// under a lock directory and the others wait; a build newer than every input is reused.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForOrFail } from '../../src/lab/wait.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const OUT = join(REPO, 'build', 'package');
export const EXECUTABLE = join(OUT, 'ulvs');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
export const DEB = join(OUT, `ulvs_${VERSION}_amd64.deb`);
const INPUTS = ['src', 'native/src', 'native/bpf', 'packaging', 'configs/schema.json', 'build/native/Release/ulvs_native.node'];
const LOCK = join(REPO, 'build', '.package-lock');
const STALE_LOCK_MS = 20 * 60_000;

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
}

function fresh(): boolean {
  if (!existsSync(EXECUTABLE) || !existsSync(DEB)) return false;
  const built = Math.min(statSync(EXECUTABLE).mtimeMs, statSync(DEB).mtimeMs);
  return INPUTS.every((p) => newest(join(REPO, p)) < built);
}

/** Builds (or reuses) build/package/ulvs and the .deb; returns the build's duration in ms (0: reused). */
export async function ensurePackage(): Promise<number> {
  mkdirSync(join(REPO, 'build'), { recursive: true });
  // mkdir is atomic: whoever creates the lock builds.
  await waitForOrFail('the package build lock', () => {
    try {
      mkdirSync(LOCK);
      return true;
    } catch {
      // A build killed half-way leaves its lock: one older than any build is stale.
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      return false;
    }
  }, 900_000, 500);
  try {
    if (fresh()) return 0;
    const started = Date.now();
    const r = spawnSync('node', ['packaging/build.mjs'], { cwd: REPO, encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) throw new Error(`npm run package failed: ${r.stderr.slice(-2000)}`);
    return Date.now() - started;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
