/**
 * Reads ulvs.yaml and its includes into one plain value, remembering where every key and value
 * was written (file, line, col) so that later checks can point at the exact spot.
 * Every problem found here is collected, never thrown one by one.
 */
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import { expandGlob, hasGlobMagic } from './glob.js';
import { readSource } from './source-bytes.js';
import {
  at,
  formatPos,
  isPlainObject,
  nodePosition,
  positionOf,
  setOwn,
  type ContainerLocation,
  type EntryLocation,
  type LocationIndex,
  type Position,
  type SourceFile,
} from './source-positions.js';
import { Converter, rewriteYamlError, yamlMessage } from './yaml-convert.js';

// The pieces importers use live in these modules; source.ts stays the one place to import from.
export { MAX_CONFIG_BYTES } from './source-bytes.js';
export { at, formatPos, isPlainObject, locate } from './source-positions.js';
export type { ContainerLocation, EntryLocation, Located, LocationIndex, Position } from './source-positions.js';

/** Top-level sections that are maps by name: includes may add names, not repeat them. */
const RECORD_SECTIONS = new Set(['vrrp_scripts', 'track_files']);

export interface LoadedSource {
  /** the merged top-level mapping (include: removed), or null when loading failed */
  value: Record<string, unknown> | null;
  locations: LocationIndex;
  /** absolute paths of every file read, main file first (for autoreload) */
  files: string[];
  /** display name -> absolute path */
  paths: Map<string, string>;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

interface Part {
  src: SourceFile;
  root: Record<string, unknown>;
  rootLoc: ContainerLocation;
}

class TreeLoader {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly locations: LocationIndex = new WeakMap();
  readonly parts: Part[] = [];
  readonly paths = new Map<string, string>();
  private readonly seen = new Map<string, Position | null>();

  load(abs: string, display: string, chain: string[], from: Position | null, given?: Buffer): void {
    this.seen.set(abs, from);
    this.paths.set(display, abs);
    const read = readSource(abs, display, from, this.errors, given);
    if (!read) return;
    const lines = new LineCounter();
    const src: SourceFile = { abs, display, lines };
    const docs = parseAllDocuments(read.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    const start = { file: display, line: 1, col: 1 };
    if (list.length === 0 || (list.length === 1 && list[0].contents === null && list[0].errors.length === 0)) {
      const d = at(start, from ? 'included file is empty' : 'config file is empty', 'expected a mapping such as "virtual_servers:"');
      (from ? this.warnings : this.errors).push(d);
      return;
    }
    let syntaxOk = true;
    for (const doc of list) {
      for (const e of doc.errors) {
        syntaxOk = false;
        const { message, hint } = rewriteYamlError(e.code, e.message, read.text, e.pos[0]);
        this.errors.push(at(positionOf(src, e.pos[0]), message, hint));
      }
      for (const w of doc.warnings) {
        this.warnings.push(at(positionOf(src, w.pos[0]), yamlMessage(w.message)));
      }
    }
    if (list.length > 1) {
      const second = list[1];
      this.errors.push(at(nodePosition(src, second.contents, positionOf(src, second.range[0])), 'more than one YAML document in one file', 'remove the "---" separator or move the rest to an included file'));
      return;
    }
    if (!syntaxOk) return;
    const doc = list[0];
    const converter = new Converter(src, doc, this.locations, this.errors);
    const root = converter.convert(doc.contents, start);
    if (root === null || typeof root !== 'object' || Array.isArray(root)) {
      this.errors.push(at(nodePosition(src, doc.contents, start), 'the top level must be a mapping (key: value), like "virtual_servers:"'));
      return;
    }
    const rootObj = root as Record<string, unknown>;
    const rootLoc = this.locations.get(rootObj)!;
    this.parts.push({ src, root: rootObj, rootLoc });
    this.followIncludes(src, rootObj, rootLoc, [...chain, abs]);
  }

  private followIncludes(src: SourceFile, root: Record<string, unknown>, rootLoc: ContainerLocation, chain: string[]): void {
    if (!Object.prototype.hasOwnProperty.call(root, 'include')) return;
    const value = root.include;
    const entry = rootLoc.entries.get('include')!;
    delete root.include;
    const patterns: { pattern: string; pos: Position }[] = [];
    if (typeof value === 'string') patterns.push({ pattern: value, pos: entry.value });
    else if (Array.isArray(value)) {
      const loc = this.locations.get(value)!;
      value.forEach((p, i) => {
        const pos = loc.entries.get(i)?.value ?? entry.value;
        if (typeof p === 'string' && p.length > 0) patterns.push({ pattern: p, pos });
        else this.errors.push(at(pos, 'include entries must be file names or globs'));
      });
    } else if (value !== null) {
      this.errors.push(at(entry.value, 'include must be a list of file names or globs'));
    }
    const dir = dirname(src.abs);
    const displayDir = dirname(src.display);
    for (const { pattern, pos } of patterns) {
      const matches = expandGlob(pattern, dir);
      if (matches.length === 0) {
        if (hasGlobMagic(pattern)) this.warnings.push(at(pos, `include "${pattern}" matches no file`));
        else this.errors.push(at(pos, `included file "${pattern}" does not exist`, `looked for ${resolve(dir, pattern)}`));
        continue;
      }
      for (const abs of matches) {
        const display = isAbsolute(pattern) ? abs : join(displayDir, relative(dir, abs));
        if (chain.includes(abs)) {
          const loop = [...chain.slice(chain.indexOf(abs)), abs].map((p) => this.displayOf(p)).join(' -> ');
          this.errors.push(at(pos, `include loop: ${loop}`));
          continue;
        }
        if (this.seen.has(abs)) {
          const first = this.seen.get(abs);
          this.errors.push(at(pos, `${display} is included twice`, first ? `first included at ${first.file}:${first.line}:${first.col}` : 'it is the main file'));
          continue;
        }
        this.load(abs, display, chain, pos);
      }
    }
  }

  private displayOf(abs: string): string {
    for (const [display, p] of this.paths) if (p === abs) return display;
    return abs;
  }

  /** One mapping out of all files: lists are concatenated, named maps joined, the rest once. */
  merge(): Record<string, unknown> | null {
    if (this.parts.length === 0) return null;
    const [main, ...rest] = this.parts;
    const merged: Record<string, unknown> = {};
    const mergedLoc: ContainerLocation = { self: main.rootLoc.self, entries: new Map() };
    this.locations.set(merged, mergedLoc);
    for (const part of [main, ...rest]) {
      for (const key of Object.keys(part.root)) {
        const value = part.root[key];
        const entry = part.rootLoc.entries.get(key)!;
        const firstEntry = mergedLoc.entries.get(key);
        if (!firstEntry) {
          setOwn(merged, key, value);
          mergedLoc.entries.set(key, entry);
          continue;
        }
        const existing = merged[key];
        if (Array.isArray(existing) && Array.isArray(value)) {
          merged[key] = this.joinLists(existing, value, firstEntry);
        } else if (RECORD_SECTIONS.has(key) && isPlainObject(existing) && isPlainObject(value)) {
          merged[key] = this.joinRecords(key, existing, value, firstEntry);
        } else {
          this.errors.push(at(entry.key ?? entry.value, `"${key}" is already set in ${formatPos(firstEntry.key ?? firstEntry.value)}`, 'each section may be set in one file only'));
        }
      }
    }
    return merged;
  }

  private joinLists(a: unknown[], b: unknown[], firstEntry: EntryLocation): unknown[] {
    const aLoc = this.locations.get(a);
    const bLoc = this.locations.get(b);
    const joined = [...a, ...b];
    const entries = new Map<string | number, EntryLocation>();
    a.forEach((_, i) => { const e = aLoc?.entries.get(i); if (e) entries.set(i, e); });
    b.forEach((_, i) => { const e = bLoc?.entries.get(i); if (e) entries.set(a.length + i, e); });
    this.locations.set(joined, { self: aLoc?.self ?? firstEntry.value, entries });
    return joined;
  }

  private joinRecords(section: string, a: Record<string, unknown>, b: Record<string, unknown>, firstEntry: EntryLocation): Record<string, unknown> {
    const aLoc = this.locations.get(a);
    const bLoc = this.locations.get(b);
    const joined: Record<string, unknown> = {};
    const entries = new Map<string | number, EntryLocation>();
    for (const k of Object.keys(a)) {
      setOwn(joined, k, a[k]);
      const e = aLoc?.entries.get(k);
      if (e) entries.set(k, e);
    }
    for (const k of Object.keys(b)) {
      const e = bLoc?.entries.get(k);
      const first = entries.get(k);
      if (Object.prototype.hasOwnProperty.call(joined, k)) {
        if (e) this.errors.push(at(e.key ?? e.value, `${section} "${k}" is already defined${first ? ` at ${formatPos(first.key ?? first.value)}` : ''}`));
        continue;
      }
      setOwn(joined, k, b[k]);
      if (e) entries.set(k, e);
    }
    this.locations.set(joined, { self: aLoc?.self ?? firstEntry.value, entries });
    return joined;
  }
}

/**
 * Reads `path` and everything it includes. Never throws: problems come back as diagnostics.
 * With `text`, that is the main file's content (migrate's output, stdin); `path` then only
 * names it in diagnostics and anchors relative includes.
 */
export function loadSource(path: string, text?: string | Buffer): LoadedSource {
  const loader = new TreeLoader();
  const abs = resolve(path);
  loader.load(abs, path, [], null, text === undefined ? undefined : Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));
  // Files that read cleanly are merged and validated even if merging finds a clash, so that
  // the clash and the schema's findings are reported together.
  const value = loader.errors.length === 0 ? loader.merge() : null;
  return {
    value,
    locations: loader.locations,
    files: [...loader.paths.values()],
    paths: loader.paths,
    errors: loader.errors,
    warnings: loader.warnings,
  };
}
