/**
 * Where things were written: positions of keys and values in the YAML files, the index that
 * maps every loaded map and list back to them, and the lookup from a zod path to a position.
 */
import type { LineCounter } from 'yaml';
import type { Diagnostic } from './diagnostics.js';

export interface Position {
  file: string;
  line: number;
  col: number;
}

export interface EntryLocation {
  /** where the key was written (maps only) */
  key?: Position;
  value: Position;
}

export interface ContainerLocation {
  self: Position;
  entries: Map<string | number, EntryLocation>;
}

/** Where each map and list of the loaded value came from. */
export type LocationIndex = WeakMap<object, ContainerLocation>;

/** One file being read: its absolute path, the name diagnostics show, and its line table. */
export interface SourceFile {
  abs: string;
  display: string;
  lines: LineCounter;
}

export function at(pos: Position, message: string, hint?: string): Diagnostic {
  return hint === undefined ? { ...pos, message } : { ...pos, message, hint };
}

export function positionOf(src: SourceFile, offset: number): Position {
  const { line, col } = src.lines.linePos(offset);
  return { file: src.display, line, col };
}

export function nodePosition(src: SourceFile, node: unknown, fallback: Position): Position {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? positionOf(src, range[0]) : fallback;
}

/** Sets a key without letting `__proto__` reach the prototype. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function formatPos(p: Position): string {
  return `${p.file}:${p.line}:${p.col}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface Located {
  /** where the value at the path was written (or its nearest written ancestor) */
  value: Position;
  /** where its key was written, when it is a map entry */
  key?: Position;
  /** false when the path ends at a key that is not in the file (a missing required key) */
  found: boolean;
}

/** Maps a path in the loaded value (as zod reports it) back to the file. */
export function locate(root: unknown, locations: LocationIndex, path: readonly PropertyKey[]): Located {
  let value: unknown = root;
  let loc = isObjectLike(root) ? locations.get(root) : undefined;
  let here: Located = { value: loc?.self ?? { file: '?', line: 1, col: 1 }, found: true };
  for (const seg of path) {
    if (!loc) return { ...here, found: false };
    const key = typeof seg === 'number' ? seg : String(seg);
    const entry = loc.entries.get(key);
    if (!entry) return { value: loc.self, found: false };
    here = { value: entry.value, key: entry.key, found: true };
    value = isObjectLike(value) ? (value as Record<string | number, unknown>)[key as string] : undefined;
    loc = isObjectLike(value) ? locations.get(value) : undefined;
  }
  return here;
}

function isObjectLike(v: unknown): v is object {
  return v !== null && typeof v === 'object';
}
