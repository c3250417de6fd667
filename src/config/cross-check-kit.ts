/**
 * What the cross-checks share: the finding they report, readers that take the loaded value as
 * written (it may be malformed: the checks run even when the schema found errors), the names
 * the blocks point at, and whether a script exists.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export type Severity = 'error' | 'warning';
export type Path = (string | number)[];

export interface Finding {
  severity: Severity;
  path: Path;
  /** point at the key (true) or at its value (false) */
  atKey: boolean;
  message: string;
  hint?: string;
  /** set when the finding refers back to another spot ("first defined at ...") */
  related?: Path;
}

export interface CrossCheckEnv {
  /** directory of the file that wrote `path`, for relative script names */
  dirOf(path: Path): string;
  /** `FILE:LINE:COL` of `path`, for "first defined at" hints */
  where(path: Path): string;
}

export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
export function has(o: Obj | undefined, key: string): boolean {
  return o !== undefined && Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;
}
export function trackedName(v: unknown): string | undefined {
  return str(v) ?? str(obj(v)?.name);
}

/** First word of a command line, honouring simple quotes: `"/a b/x.sh" arg` -> `/a b/x.sh`. */
export function commandPath(command: string): string {
  const t = command.trim();
  const q = t[0];
  if (q === '"' || q === "'") {
    const end = t.indexOf(q, 1);
    return end > 0 ? t.slice(1, end) : t.slice(1);
  }
  return t.split(/\s+/)[0];
}

export type ScriptState = 'ok' | 'missing' | 'not-executable';

export function scriptState(program: string, baseDir: string): ScriptState {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : resolve(baseDir, program)]
    : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean).map((d) => join(d, program));
  let sawFile = false;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      sawFile = true;
      accessSync(c, constants.X_OK);
      return 'ok';
    } catch {
      // try the next one
    }
  }
  return sawFile ? 'not-executable' : 'missing';
}

export const SHELL_BUILTINS = new Set(['[', '[[', 'test', 'exit', 'true', 'false', 'echo', 'kill']);

/** The findings of one check run, in the order they were found. */
export class Findings {
  readonly list: Finding[] = [];

  error(path: Path, message: string, hint?: string, atKey = false): void {
    this.list.push({ severity: 'error', path, atKey, message, ...(hint ? { hint } : {}) });
  }

  warn(path: Path, message: string, hint?: string, atKey = false): void {
    this.list.push({ severity: 'warning', path, atKey, message, ...(hint ? { hint } : {}) });
  }
}

/** The names blocks point at, gathered before any check runs. */
export interface Names {
  scripts: string[];
  trackFiles: string[];
  /** every vrrp_instances name, repeats included */
  instances: string[];
  /** each virtual_server_groups name and the index it is first defined at */
  serverGroups: Map<string, number>;
}

export function gatherNames(cfg: Obj): Names {
  const serverGroups = new Map<string, number>();
  list(cfg.virtual_server_groups).forEach((raw, i) => {
    const name = str(obj(raw)?.name);
    if (name !== undefined && !serverGroups.has(name)) serverGroups.set(name, i);
  });
  return {
    scripts: Object.keys(obj(cfg.vrrp_scripts) ?? {}),
    trackFiles: Object.keys(obj(cfg.track_files) ?? {}),
    instances: list(cfg.vrrp_instances).map((raw) => str(obj(raw)?.name)).filter((n): n is string => n !== undefined),
    serverGroups,
  };
}
