/**
 * keepalived's enable_script_security path check (core/notify.c check_security): a script run
 * as root is only safe when neither it nor any directory on its path can be changed by anybody
 * but root. Each component must be owned by root; the file, and directories without the sticky
 * bit, must be neither world-writable nor writable by a non-root group. Pure over a stat seam.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export interface StatLike {
  uid: number;
  gid: number;
  mode: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}

export type StatFn = (path: string) => StatLike;

const S_ISVTX = 0o1000;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;

/** Every prefix keepalived stats for `/a/b/c`: `/`, `/a`, `/a/b`, `/a/b/c`. */
export function pathComponents(file: string): string[] {
  const parts = file.split('/').filter((p) => p !== '');
  const out = ['/'];
  for (let i = 1; i <= parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

/**
 * null when `file` (absolute) is safe, else keepalived's reason. Symbolic links are not
 * followed here: the caller checks the resolved path too, as keepalived does.
 */
export function unsafeComponent(file: string, stat: StatFn = lstatSync): string | null {
  const parts = pathComponents(file);
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    let st: StatLike;
    try { st = stat(parts[i]); } catch { return `check_script_secure could not find script '${file}' - disabling`; }
    if ((!last && !st.isDirectory()) || (last && !st.isFile() && !st.isSymbolicLink())) {
      return `Wrong file type found in script path '${file}'.`;
    }
    const writableDir = st.isDirectory() && (st.mode & S_ISVTX) === 0;
    const groupOrWorld = (st.gid !== 0 && (st.mode & S_IWGRP) !== 0) || (st.mode & S_IWOTH) !== 0;
    if (st.uid !== 0 || ((writableDir || st.isFile()) && groupOrWorld)) {
      return `Unsafe permissions found for script '${file}' - disabling. (${parts[i]}: owner ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`;
    }
  }
  return null;
}

/** The program a command line runs, found as execvp would (PATH for a bare name). */
export function programPath(program: string, baseDir = process.cwd(), path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | null {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : resolve(baseDir, program)]
    : path.split(delimiter).filter(Boolean).map((d) => join(d, program));
  for (const c of candidates) {
    try { if (statSync(c).isFile()) return c; } catch { /* next */ }
  }
  return null;
}

/**
 * keepalived's verdict on a script that runs as root: null = may run. Checks the path as
 * written and, when it goes through a symbolic link, the file it resolves to.
 */
export function scriptRefusal(program: string, stat: StatFn = lstatSync, baseDir?: string): string | null {
  const found = programPath(program, baseDir);
  if (found === null) return `Cannot find script ${program} in path - disabling`;
  const direct = unsafeComponent(found, stat);
  if (direct) return direct;
  let real: string;
  try { real = realpathSync(found); } catch { return `Script ${program} cannot be accessed - disabling`; }
  return real === found ? null : unsafeComponent(real, stat);
}
