/**
 * Turns one parsed YAML document into plain values, recording in the location index where
 * every map and list was written, and words yaml's own errors the way ulvs reports them.
 */
import { Alias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.js';
import { at, nodePosition, setOwn, type EntryLocation, type LocationIndex, type Position, type SourceFile } from './source-positions.js';

/** Alias expansions allowed per file ("billion laughs" guard). */
const MAX_ALIASES = 1000;

export class Converter {
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
export function yamlMessage(message: string): string {
  const first = message.split('\n')[0];
  return first.replace(/ at line \d+, column \d+:?$/, '');
}

export function rewriteYamlError(code: string, message: string, text: string, offset: number): { message: string; hint?: string } {
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^\s:#]+/.exec(text.slice(offset))?.[0];
    return { message: key ? `duplicate key "${key}"` : 'duplicate key', hint: 'each key may appear once in a mapping' };
  }
  if (code === 'TAB_AS_INDENT') return { message: 'tab used for indentation', hint: 'YAML indents with spaces only' };
  return { message: yamlMessage(message) };
}
