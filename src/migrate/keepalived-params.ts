/**
 * keepalived's parameters (keepalived.conf(5), "ADVANCED CONFIGURATION"): the values `$NAME=`
 * lines define, `$NAME` / `${NAME}` substitution (with the built-ins _PWD, _INSTANCE, _HASH,
 * _BANG, _RANDOM), and the `@id` / `@^id` conditional lines, which compare against the config id.
 */
import type { MigrateDiagnostic, SourcePos } from './errors.js';
import { fromLine, posAt, slice, type PosText } from './keepalived-words.js';

/** Bound on $VAR recursion (a parameter that refers to itself). */
export const MAX_SUBSTITUTION_DEPTH = 32;

export const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

export type VarValue = { kind: 'line'; value: PosText } | { kind: 'multi'; lines: PosText[] };

export class Parameters {
  private readonly vars = new Map<string, VarValue>();

  /** Problems are pushed onto `errors` (the reader's list) so they keep the order they were met in. */
  constructor(
    private readonly configId: string,
    private readonly errors: MigrateDiagnostic[],
  ) {}

  private error(pos: SourcePos, message: string): void {
    this.errors.push({ ...pos, message });
  }

  define(name: string, value: VarValue): void {
    this.vars.set(name, value);
  }

  get(name: string): VarValue | undefined {
    return this.vars.get(name);
  }

  /** `@id rest` keeps rest when id is the config id; `@^id rest` when it is not. null: dropped. */
  conditional(pt: PosText): PosText | null {
    const m = /^\s*@(\^?)(\S*)\s*/.exec(pt.text);
    if (!m) return pt;
    const equal = m[2] === this.configId;
    if (m[1] === '^' ? equal : !equal) return null;
    return slice(pt, m[0].length);
  }

  /** `$NAME` (followed by whitespace or the end) and `${NAME}`; undefined names stay. */
  substitute(pt: PosText, depth: number): PosText | null {
    if (!pt.text.includes('$')) return pt;
    if (depth > MAX_SUBSTITUTION_DEPTH) {
      this.error(posAt(pt, pt.text.indexOf('$')), 'parameter substitution does not end (a parameter refers to itself)');
      return null;
    }
    let text = '';
    const cols: number[] = [];
    const t = pt.text;
    let i = 0;
    while (i < t.length) {
      if (t[i] === '$') {
        let name: string | undefined;
        let end = i;
        let args = '';
        if (t[i + 1] === '{') {
          const close = t.indexOf('}', i + 2);
          if (close > 0) {
            const inner = t.slice(i + 2, close).trim();
            const m = NAME.exec(inner);
            if (m) {
              name = m[0];
              args = inner.slice(m[0].length).trim();
              end = close + 1;
            }
          }
        } else {
          const m = NAME.exec(t.slice(i + 1));
          if (m && (i + 1 + m[0].length === t.length || /\s/.test(t[i + 1 + m[0].length]))) {
            name = m[0];
            end = i + 1 + m[0].length;
          }
        }
        const found = name !== undefined ? this.valueOf(name, args, pt) : undefined;
        if (found !== undefined) {
          // Substituted text is reported where it was used, not where it was defined.
          const value = { ...found, file: pt.file, line: pt.line, cols: found.cols.map(() => pt.cols[i]) };
          const inner = this.substitute(value, depth + 1);
          if (inner === null) return null;
          text += inner.text;
          for (let k = 0; k < inner.text.length; k++) cols.push(pt.cols[i]);
          i = end;
          continue;
        }
      }
      text += t[i];
      cols.push(pt.cols[i]);
      i++;
    }
    return { ...pt, text, cols };
  }

  private valueOf(name: string, args: string, at: PosText): PosText | undefined {
    const make = (s: string): PosText => fromLine(s, at.file, at.line, at.dir);
    switch (name) {
      case '_PWD': return make(at.dir);
      case '_INSTANCE': return make(this.configId);
      case '_HASH': return make('#');
      case '_BANG': return make('!');
      case '_RANDOM': {
        const [min = 0, max = 32767] = args.split(/\s+/).filter(Boolean).map(Number);
        return make(String(Math.floor(min + Math.random() * (max - min + 1))));
      }
    }
    const v = this.vars.get(name);
    if (v === undefined) return undefined;
    // A multi-line value inside a line reads as its lines joined (keepalived splices them).
    return v.kind === 'line' ? v.value : make(v.lines.map((l) => l.text).join(' '));
  }
}
