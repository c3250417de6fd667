/**
 * Reads ulvs.yaml and its includes into one plain value, remembering where every key and value
 * was written (file, line, col) so that later checks can point at the exact spot.
 * Every problem found here is collected, never thrown one by one.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Alias, LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import { expandGlob, hasGlobMagic } from './glob.js';

/** Refuse files larger than this: a config is kilobytes; 10 MB is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;
/** Alias expansions allowed per file ("billion laughs" guard). */
const MAX_ALIASES = 1000;
/** Top-level sections that are maps by name: includes may add names, not repeat them. */
const RECORD_SECTIONS = new Set(['vrrp_scripts', 'track_files']);

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

interface SourceFile {
  abs: string;
  display: string;
  lines: LineCounter;
}

interface Part {
  src: SourceFile;
  root: Record<string, unknown>;
  rootLoc: ContainerLocation;
}

export function at(pos: Position, message: string, hint?: string): Diagnostic {
  return hint === undefined ? { ...pos, message } : { ...pos, message, hint };
}

function positionOf(src: SourceFile, offset: number): Position {
  const { line, col } = src.lines.linePos(offset);
  return { file: src.display, line, col };
}

function nodePosition(src: SourceFile, node: unknown, fallback: Position): Position {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? positionOf(src, range[0]) : fallback;
}

/** Sets a key without letting `__proto__` reach the prototype. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

class Converter {
  private aliases = 0;
  private readonly active = new Set<Node>();

  constructor(
    private readonly src: SourceFile,
    private readonly doc: Document,
    private readonly locations: LocationIndex,
    private readonly errors: Diagnostic[],
  ) {}

  convert(node: unknown, fallback: Position): unknown {
    if (node === null || node === undefined) return null;
    if (node instanceof Alias) {
      const here = nodePosition(this.src, node, fallback);
      if (++this.aliases > MAX_ALIASES) {
        if (this.aliases === MAX_ALIASES + 1) this.errors.push(at(here, `more than ${MAX_ALIASES} aliases`, 'expand them by hand'));
        return null;
      }
      const target = node.resolve(this.doc);
      if (!target) {
        this.errors.push(at(here, `unknown alias *${node.source}`));
        return null;
      }
      if (this.active.has(target)) {
        this.errors.push(at(here, `alias *${node.source} refers to a value that contains it`));
        return null;
      }
      return this.convert(target, here);
    }
    if (isScalar(node)) return node.value ?? null;
    const self = nodePosition(this.src, node, fallback);
    if (isMap(node)) {
      this.active.add(node);
      const obj: Record<string, unknown> = {};
      const entries = new Map<string | number, EntryLocation>();
      for (const pair of node.items) {
        const keyPos = nodePosition(this.src, pair.key, self);
        if (!isScalar(pair.key) || (pair.key.value !== null && typeof pair.key.value === 'object')) {
          this.errors.push(at(keyPos, 'a key must be a plain word, not a list or mapping'));
          continue;
        }
        const key = String(pair.key.value);
        const valuePos = nodePosition(this.src, pair.value, keyPos);
        setOwn(obj, key, this.convert(pair.value, keyPos));
        entries.set(key, { key: keyPos, value: valuePos });
      }
      this.active.delete(node);
      this.locations.set(obj, { self, entries });
      return obj;
    }
    if (isSeq(node)) {
      this.active.add(node);
      const list: unknown[] = [];
      const entries = new Map<string | number, EntryLocation>();
      node.items.forEach((item, i) => {
        const itemPos = nodePosition(this.src, isPair(item) ? item.key : item, self);
        list.push(this.convert(item, itemPos));
        entries.set(i, { value: itemPos });
      });
      this.active.delete(node);
      this.locations.set(list, { self, entries });
      return list;
    }
    if (isPair(node)) {
      // `- a: 1` inside a flow sequence written as `[a: 1]` is a single-pair map.
      const obj: Record<string, unknown> = {};
      const keyPos = nodePosition(this.src, node.key, fallback);
      setOwn(obj, String((node.key as { value?: unknown })?.value ?? ''), this.convert(node.value, keyPos));
      return obj;
    }
    return null;
  }
}

/** Keeps the first line of yaml's error text ("... at line 2, column 1:\n\n<excerpt>"). */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0];
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

function rewriteYamlError(code: string, message: string, text: string, offset: number): { message: string; hint?: string } {
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^\s:#]+/.exec(text.slice(offset))?.[0];
    return { message: key ? `duplicate key "${key}"` : 'duplicate key', hint: 'each key may appear once in a mapping' };
  }
  if (code === 'TAB_AS_INDENT') return { message: 'tab used for indentation', hint: 'YAML indents with spaces only' };
  return { message: yamlMessage(message) };
}

function firstBinaryByte(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    // Control characters other than tab, newline and carriage return do not belong in YAML.
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return i;
    if (b === 0x7f) return i;
  }
  return -1;
}

/** Line and column (in characters) of a byte offset, for errors found before decoding. */
function byteOffsetPosition(bytes: Buffer, offset: number, display: string): Position {
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
  const lineStart = before.lastIndexOf('\n') + 1;
  return { file: display, line: before.split('\n').length, col: [...before.slice(lineStart)].length + 1 };
}

/** Decodes and checks one file; returns null (with errors pushed) when it cannot be used. */
function readSource(abs: string, display: string, from: Position | null, errors: Diagnostic[], given?: Buffer): { text: string } | null {
  const where = from ?? { file: display, line: 1, col: 1 };
  if (given) return checkBytes(given, display, where, errors);
  let size: number;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) {
      errors.push(at(where, `${display} is a directory, not a config file`));
      return null;
    }
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    errors.push(at(where, code === 'ENOENT' ? `${display}: no such file` : `${display}: cannot read (${code ?? String(err)})`));
    return null;
  }
  if (size > MAX_CONFIG_BYTES) {
    errors.push(at(where, `${display} is ${size} bytes, more than the ${MAX_CONFIG_BYTES} allowed`, 'a config file is text of a few kilobytes'));
    return null;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch (err) {
    errors.push(at(where, `${display}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`));
    return null;
  }
  return checkBytes(bytes, display, where, errors);
}

function checkBytes(bytes: Buffer, display: string, where: Position, errors: Diagnostic[]): { text: string } | null {
  if (bytes.length > MAX_CONFIG_BYTES) {
    errors.push(at(where, `${display} is ${bytes.length} bytes, more than the ${MAX_CONFIG_BYTES} allowed`, 'a config file is text of a few kilobytes'));
    return null;
  }
  const bad = firstBinaryByte(bytes);
  if (bad >= 0) {
    errors.push(at(byteOffsetPosition(bytes, bad, display), `not a text file (control byte 0x${bytes[bad].toString(16).padStart(2, '0')})`, 'is this the right file?'));
    return null;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const at16 = Math.max(0, lossy.indexOf('\uFFFD'));
    const badByte = Buffer.byteLength(lossy.slice(0, at16));
    errors.push(at(byteOffsetPosition(bytes, badByte, display), 'not a text file (invalid UTF-8)', 'is this the right file?'));
    return null;
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  return { text };
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

export function formatPos(p: Position): string {
  return `${p.file}:${p.line}:${p.col}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
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
