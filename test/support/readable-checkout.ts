// The not-root tests run ulvs as nobody (uid 65534). A checkout under a directory nobody cannot
// enter (a clone in a 0700 home, under `mktemp -d`) would fail them for the wrong reason, so
// they run from a world-readable copy of what `ulvs` loads at run time: package.json (ESM),
// bin/, dist/ and the runtime packages. Made once per test process, removed at exit.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const UNPRIVILEGED_UID = 65534;

let copy: string | undefined;

/** The checkout itself if uid 65534 can read it, else a readable copy (dist/ must be built). */
export function checkoutReadableByNobody(): string {
  if (canRead(join(REPO, 'dist', 'src', 'cli', 'main.js'))) return REPO;
  if (copy !== undefined) return copy;
  if (!existsSync(join(REPO, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error(`${REPO}/dist is missing: run scripts/setup.sh first`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-readable-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const part of ['package.json', 'bin', 'dist']) cpSync(join(REPO, part), join(dir, part), { recursive: true });
  for (const pkg of runtimePackages()) {
    cpSync(join(REPO, 'node_modules', pkg), join(dir, 'node_modules', pkg), { recursive: true, dereference: true });
  }
  // The copy keeps the checkout's modes (a clone made with umask 077 has 0600 files).
  const chmod = spawnSync('chmod', ['-R', 'a+rX', dir], { encoding: 'utf8' });
  if (chmod.status !== 0) throw new Error(`chmod -R a+rX ${dir}: ${chmod.stderr}`);
  chmodSync(dir, 0o755);
  copy = dir;
  return dir;
}

function canRead(path: string): boolean {
  return spawnSync('setpriv', ['--reuid', String(UNPRIVILEGED_UID), '--regid', String(UNPRIVILEGED_UID), '--clear-groups',
    'test', '-r', path]).status === 0;
}

// Build-time dependencies (the addon's toolchain) are not loaded by `ulvs`.
const BUILD_ONLY = new Set(['cmake-js', 'node-addon-api']);

/** The package's dependencies and theirs (npm installs them flat under node_modules/). */
function runtimePackages(): string[] {
  const deps = (pkgJson: string): string[] =>
    Object.keys((JSON.parse(readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  const seen = new Set<string>();
  const queue = deps(join(REPO, 'package.json')).filter((d) => !BUILD_ONLY.has(d));
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...deps(join(REPO, 'node_modules', name, 'package.json')));
  }
  return [...seen];
}
