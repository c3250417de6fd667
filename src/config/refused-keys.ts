/**
 * Keys the schema takes only so that they can be refused where they are written, with the
 * reason: `FILE:LINE:COL: KEY not supported by ulvs (why)`. A keepalived user who writes one gets
 * an answer rather than an "unknown key" or, worse, a key accepted and ignored. Refusing another
 * key is one line here (plus its key in raw-schema*.ts). Paths are key paths as key-paths.ts
 * writes them; `*` stands for any one key (a checker kind, a record's name).
 */
import type { Path } from './cross-check-kit.js';

export const REFUSED_KEYS: Readonly<Record<string, string>> = {
  'virtual_servers[].fwmark':
    'ulvs bypasses netfilter, so there are no firewall marks: list the VIP:ports the iptables rule matched in a virtual_server_groups entry and use "group:"',
  'virtual_servers[].real_servers[].*.bind_if':
    'checks leave from sockets that cannot be bound to a device (no SO_BINDTODEVICE): use bindto with an address of that interface',
  'track_files.*.init_file':
    'ulvs reads track files but never creates or writes them: create the file before ulvs starts (systemd ExecStartPre)',
};

export interface RefusedKey {
  /** where the key is written in the loaded value */
  path: Path;
  key: string;
  reason: string;
}

/**
 * Matches a key path pattern against a path of key-paths.ts: segments equal, `*` for any one
 * key, and a leading `**.` for any depth (`**.retry` is every block's retry).
 */
export function keyPathMatches(pattern: string, path: string): boolean {
  const anyDepth = pattern.startsWith('**.');
  const p = (anyDepth ? pattern.slice(3) : pattern).split('.');
  const q = path.split('.');
  if (anyDepth ? q.length < p.length : q.length !== p.length) return false;
  const tail = q.slice(q.length - p.length);
  return p.every((seg, i) => seg === tail[i] || (seg === '*' && !tail[i].endsWith('[]')));
}

type Value = unknown;
function isObject(v: Value): v is Record<string, Value> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every place in `root` (the value as written) where a refused key is set. */
export function findRefusedKeys(root: Value, table: Readonly<Record<string, string>> = REFUSED_KEYS): RefusedKey[] {
  const found: RefusedKey[] = [];
  for (const [pattern, reason] of Object.entries(table)) {
    const segments = pattern.split('.');
    const visit = (value: Value, at: Path, i: number): void => {
      if (!isObject(value)) return;
      const seg = segments[i];
      const isList = seg.endsWith('[]');
      const key = isList ? seg.slice(0, -2) : seg;
      const keys = key === '*' ? Object.keys(value) : [key];
      for (const k of keys) {
        if (!Object.prototype.hasOwnProperty.call(value, k) || value[k] === undefined) continue;
        const child = value[k];
        if (i === segments.length - 1) {
          found.push({ path: [...at, k], key: k, reason });
        } else if (isList) {
          if (Array.isArray(child)) child.forEach((item, j) => visit(item, [...at, k, j], i + 1));
        } else {
          visit(child, [...at, k], i + 1);
        }
      }
    };
    visit(root, [], 0);
  }
  return found;
}
