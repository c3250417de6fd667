/**
 * The seam between "running from a checkout" and "running as the single executable"
 * (packaging/build.mjs). Everything that finds a file next to the code asks here:
 * the addon and the XDP object (assets extracted to a private directory, then dlopen'd),
 * the dataplane worker (embedded source, started with eval), and the command that starts
 * ulvs again as a child (the lab's real servers).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as sea from 'node:sea';
import { fileURLToPath } from 'node:url';

/** Asset names in packaging/sea-config.json. */
export const ASSET_ADDON = 'ulvs_native.node';
export const ASSET_XDP_OBJECT = 'ulvs_xdp.o';
export const ASSET_WORKER = 'dataplane-worker.cjs';

/** True inside build/package/ulvs (a Node single executable application). */
export function isEmbedded(): boolean {
  return sea.isSea();
}

/** The directory holding package.json (a checkout), from src/... (tap) or dist/src/... (compiled). */
export function checkoutRoot(fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`ulvs: no package.json above ${fileURLToPath(fromUrl)}`);
}

/** How to start ulvs again as a child: the executable itself, or node + bin/ulvs.js. */
export function selfCommand(): { file: string; args: string[] } {
  if (isEmbedded()) return { file: process.execPath, args: [] };
  return { file: process.execPath, args: [join(checkoutRoot(import.meta.url), 'bin', 'ulvs.js')] };
}

/** The dataplane worker as `new Worker()` takes it: embedded source (eval) or the module file. */
export function dataplaneWorkerSource(moduleUrl: URL): { source: string | URL; eval: boolean } {
  if (!isEmbedded()) return { source: moduleUrl, eval: false };
  return { source: sea.getAsset(ASSET_WORKER, 'utf8'), eval: true };
}

let extracted: { addon: string; xdpObject: string } | undefined;

/**
 * Where the embedded addon and XDP object were written. A directory per (uid, content hash),
 * 0700 and ours, so another user cannot swap the library we dlopen; files are written beside
 * and renamed in, so a concurrent start never loads half a file. Directories mounted noexec
 * cannot hold a library we dlopen: the first candidate where the addon loads wins.
 */
export function extractedAssets(load: (addonPath: string) => void): { addon: string; xdpObject: string } {
  if (extracted) return extracted;
  const addon = Buffer.from(sea.getAsset(ASSET_ADDON));
  const xdp = Buffer.from(sea.getAsset(ASSET_XDP_OBJECT));
  const digest = createHash('sha256').update(addon).update(xdp).digest('hex').slice(0, 16);
  const uid = process.getuid?.() ?? 0;
  const failures: string[] = [];
  for (const base of runtimeDirCandidates(uid)) {
    const dir = join(base, `ulvs-${uid}-${digest}`);
    try {
      ensurePrivateDir(dir, uid);
      const paths = { addon: join(dir, ASSET_ADDON), xdpObject: join(dir, ASSET_XDP_OBJECT) };
      writeIfDifferent(paths.addon, addon);
      writeIfDifferent(paths.xdpObject, xdp);
      load(paths.addon);
      return (extracted = paths);
    } catch (err) {
      const missing = missingSharedLibrary(err as Error);
      if (missing !== undefined) throw new Error(missing);
      failures.push(`${dir}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`ulvs: cannot extract the native addon to any private directory (set ULVS_RUNTIME_DIR to an exec-mounted one): ${failures.join('; ')}`);
}

function runtimeDirCandidates(uid: number): string[] {
  const env = process.env;
  const list = [env.ULVS_RUNTIME_DIR, env.CACHE_DIRECTORY, env.RUNTIME_DIRECTORY, uid === 0 ? '/run/ulvs' : undefined,
    env.XDG_RUNTIME_DIR, tmpdir(), '/dev/shm'];
  // systemd passes several directories colon-separated; the first is ours.
  return [...new Set(list.filter((d): d is string => !!d).map((d) => d.split(':')[0]))];
}

function ensurePrivateDir(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid) throw new Error('exists and is not a directory of ours');
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

function writeIfDifferent(path: string, content: Buffer): void {
  if (existsSync(path) && readFileSync(path).equals(content)) return;
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temp, content, { mode: 0o500 });
  renameSync(temp, path);
}

/** The addon links these dynamically: Debian's static archives are not PIC, so a .node cannot hold them. */
export const ADDON_SHARED_LIBRARIES = 'libxdp.so.1 (libxdp1), libbpf.so.1 (libbpf1), libelf.so.1 (libelf1), libz.so.1 (zlib1g)';

/** dlopen's "libX.so.N: cannot open shared object file" as one line naming what to install. */
export function missingSharedLibrary(err: Error): string | undefined {
  const match = /([\w.+-]+\.so[.\d]*): cannot open shared object file/.exec(err.message);
  if (!match) return undefined;
  return `ulvs: the native addon needs the shared library ${match[1]}, which is not installed; it needs ${ADDON_SHARED_LIBRARIES}`;
}
