/**
 * keepalived's include globs (`*`, `?`, `[...]`, per path segment), without a dependency:
 * Node 20 has no fs.glob. Results are sorted, like glob(3), so include order is stable.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

export function hasGlobMagic(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function segmentRegExp(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = segment.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp('^' + out + '$');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Absolute paths of the regular files `pattern` (relative to `baseDir`) names. */
export function expandGlob(pattern: string, baseDir: string): string[] {
  const full = isAbsolute(pattern) ? pattern : join(baseDir, pattern);
  if (!hasGlobMagic(pattern)) return isFile(full) ? [resolve(full)] : [];
  const segments = resolve(full).split(sep).filter((s) => s.length > 0);
  let dirs: string[] = [sep];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const dir of dirs) {
      if (!hasGlobMagic(seg)) {
        const p = join(dir, seg);
        if (last ? isFile(p) : isDir(p)) next.push(p);
        continue;
      }
      const re = segmentRegExp(seg);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        // Like the shell, wildcards do not match hidden files.
        if (n.startsWith('.') && !seg.startsWith('.')) continue;
        if (!re.test(n)) continue;
        const p = join(dir, n);
        if (last ? isFile(p) : isDir(p)) next.push(p);
      }
    }
    dirs = next;
  }
  return dirs;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
