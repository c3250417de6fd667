/**
 * keepalived.conf's language, read the way keepalived reads it (keepalived.conf(5), "ADVANCED
 * CONFIGURATION"): files and includes -> physical lines -> comments stripped -> `@` conditional
 * lines -> `$VAR=` definitions (multi-line ones end each line with `\`) -> `$VAR` / `${VAR}`
 * substitution -> `~SEQ` / `~LST` repetition -> words, with `{` and `}` as words of their own.
 * Every word keeps the FILE:LINE:COL it was written at (substituted text takes the column of
 * its `$`). Every problem is collected; MigrateError lists them all.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { expandGlob } from '../config/glob.js';
import { MAX_INPUT_BYTES, MigrateError, type MigrateDiagnostic, type SourcePos } from './errors.js';
import { MAX_SUBSTITUTION_DEPTH, Parameters } from './keepalived-params.js';
import { closingParen, repeatBindings } from './keepalived-repeat.js';
import { commentStart, expandBraces, fromLine, posAt, slice, tokenize, type PosText, type Token } from './keepalived-words.js';

export { expandBraces, tokenize, type Token } from './keepalived-words.js';

/** One line after every rewrite: its words and the comment written at its end (or alone). */
export interface LogicalLine {
  tokens: Token[];
  comment?: string;
  pos: SourcePos;
}

export interface ReadOptions {
  /** keepalived's -i / config_id: `@NAME` lines are kept when NAME equals it. Default: the host name. */
  configId?: string;
  /** file text for tests; default readFileSync (utf8) */
  readText?: (absPath: string) => string;
}

export interface ReadResult {
  lines: LogicalLine[];
  /** remarks on the input that are not errors (reported with the translation's reports) */
  notes: MigrateDiagnostic[];
  /** absolute paths of every file read, main file first */
  files: string[];
}

/** Bounds on what a few lines can expand to (~SEQ nests; $VAR recursion is bounded in keepalived-params.ts). */
const MAX_EXPANDED_LINES = 1_000_000;
const MAX_INCLUDE_DEPTH = 32;

const DEFINITION = /^(\s*)\$([A-Za-z_][A-Za-z0-9_]*)=/;
const INCLUDE = /^\s*(include[rmwba]?)(\s+|$)/;
const REPEAT = /^\s*~(SEQx?|LST)\(/;

class Reader {
  readonly lines: LogicalLine[] = [];
  readonly files: string[] = [];
  readonly errors: MigrateDiagnostic[] = [];
  /** things worth telling that are not errors */
  readonly notes: MigrateDiagnostic[] = [];
  private readonly params: Parameters;
  private readonly stack: string[] = [];
  private readonly readText: (abs: string) => string;
  private expanded = 0;
  private tooLarge = false;

  constructor(opts: ReadOptions) {
    this.params = new Parameters(opts.configId ?? hostname().split('.')[0], this.errors);
    this.readText = opts.readText ?? ((abs) => {
      const size = statSync(abs).size;
      if (size > MAX_INPUT_BYTES) throw new Error(`is ${size} bytes, more than the ${MAX_INPUT_BYTES} a configuration may have`);
      return readFileSync(abs, 'utf8');
    });
  }

  private error(pos: SourcePos, message: string): void {
    this.errors.push({ ...pos, message });
  }

  readFile(abs: string, display: string, from: SourcePos | null): void {
    if (this.stack.includes(abs)) {
      this.error(from ?? { file: display, line: 1, col: 1 }, `include loop: ${display} is already being read (${this.stack.map((f) => this.display(f)).join(' -> ')})`);
      return;
    }
    if (this.stack.length >= MAX_INCLUDE_DEPTH) {
      this.error(from ?? { file: display, line: 1, col: 1 }, `includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
      return;
    }
    let text: string;
    try {
      text = this.readText(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code ?? (err as Error).message;
      this.error(from ?? { file: display, line: 1, col: 1 }, `cannot read ${display}: ${why}`);
      return;
    }
    if (text.includes('\0')) {
      this.error(from ?? { file: display, line: 1, col: 1 }, `${display} is not a text file (it contains NUL bytes)`);
      return;
    }
    if (text.includes('\u00a0')) {
      // Configs pasted from web pages carry non-breaking spaces; keepalived would take them as
      // part of a word. They were meant as spaces.
      const line = text.slice(0, text.indexOf('\u00a0')).split('\n').length;
      this.notes.push({ file: display, line, col: 1, message: 'non-breaking spaces (U+00A0) in this file were read as spaces (keepalived would not)' });
      text = text.replace(/\u00a0/g, ' ');
    }
    if (!this.files.includes(abs)) this.files.push(abs);
    this.stack.push(abs);
    const physical = text.split(/\r?\n/);
    const dir = dirname(abs);
    let i = 0;
    const next = (): PosText | undefined => (i < physical.length ? fromLine(physical[i], display, ++i, dir) : undefined);
    for (let pt = next(); pt !== undefined && !this.tooLarge; pt = next()) this.processLine(pt, 0, next);
    this.stack.pop();
  }

  private display(abs: string): string {
    const rel = relative(process.cwd(), abs);
    return rel.startsWith('..') ? abs : rel;
  }

  /**
   * One line through every rewrite. `more` hands out the following physical lines (for
   * multi-line definitions); lines that come from a definition's value get none.
   */
  private processLine(raw: PosText, depth: number, more: (() => PosText | undefined) | null): void {
    let pt = raw;
    let comment: string | undefined;
    const cut = commentStart(pt.text);
    if (cut >= 0) {
      comment = pt.text.slice(cut + 1).trim();
      pt = slice(pt, 0, cut);
    }
    if (pt.text.trim() === '') {
      if (comment !== undefined) this.emit({ tokens: [], comment, pos: posAt(raw, cut) });
      return;
    }
    const kept = this.params.conditional(pt);
    if (kept === null) return;
    pt = kept;

    const def = DEFINITION.exec(pt.text);
    if (def) {
      const name = def[2];
      const value = slice(pt, def[0].length);
      if (value.text.trim() === '\\' && more) {
        const lines: PosText[] = [];
        for (let line = more(); line !== undefined; line = more()) {
          const trimmed = line.text.replace(/\s+$/, '');
          if (trimmed.endsWith('\\')) {
            lines.push(slice(line, 0, trimmed.length - 1));
          } else {
            lines.push(line);
            break;
          }
        }
        this.params.define(name, { kind: 'multi', lines });
      } else {
        const start = value.text.length - value.text.trimStart().length;
        this.params.define(name, { kind: 'line', value: slice(value, start, value.text.trimEnd().length) });
      }
      return;
    }

    const include = INCLUDE.exec(pt.text);
    if (include) {
      this.include(pt, include[0].length, include[1], comment);
      return;
    }

    if (REPEAT.test(pt.text)) {
      this.repeat(pt, depth);
      return;
    }

    // A line that is only a multi-line parameter expands to that parameter's lines.
    const whole = /^\s*\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))\s*$/.exec(pt.text);
    const multi = whole ? this.params.get(whole[1] ?? whole[2]) : undefined;
    if (multi?.kind === 'multi') {
      if (depth >= MAX_SUBSTITUTION_DEPTH) {
        this.error(posAt(pt, 0), `parameter $${whole![1] ?? whole![2]} expands into itself`);
        return;
      }
      if (comment !== undefined) this.emit({ tokens: [], comment, pos: posAt(raw, cut) });
      for (const line of multi.lines) this.processLine(line, depth + 1, null);
      return;
    }

    const substituted = this.params.substitute(pt, 0);
    if (substituted === null) return;
    pt = substituted;
    if (pt.text !== kept.text) {
      // `$IF_MAIN=@main` then `$IF_MAIN priority 240`: a conditional can come from a parameter.
      const again = this.params.conditional(pt);
      if (again === null) return;
      pt = again;
      if (DEFINITION.test(pt.text) || REPEAT.test(pt.text)) {
        this.processLine(pt, depth + 1, null);
        return;
      }
    }
    const tokens = tokenize(pt, this.errors);
    if (tokens.length === 0 && comment === undefined) return;
    this.emit({ tokens, ...(comment !== undefined ? { comment } : {}), pos: tokens[0] ?? posAt(raw, 0) });
  }

  private emit(line: LogicalLine): void {
    if (++this.expanded > MAX_EXPANDED_LINES) {
      if (!this.tooLarge) this.error(line.pos, `the configuration expands to more than ${MAX_EXPANDED_LINES} lines`);
      this.tooLarge = true;
      return;
    }
    this.lines.push(line);
  }

  private include(pt: PosText, argStart: number, keyword: string, comment: string | undefined): void {
    const words = tokenize(slice(pt, argStart), this.errors, false);
    const at = posAt(pt, pt.text.length - pt.text.trimStart().length);
    if (words.length === 0) {
      this.error(at, `${keyword} needs a file name`);
      return;
    }
    if (comment !== undefined) this.emit({ tokens: [], comment, pos: at });
    for (const word of words) {
      const found = new Set<string>();
      for (const pattern of expandBraces(word.text)) {
        for (const abs of expandGlob(pattern, pt.dir)) found.add(abs);
      }
      if (found.size === 0) {
        this.error(word, `${keyword} ${word.text}: no such file (relative to ${this.display(pt.dir) || '.'})`);
        continue;
      }
      for (const abs of found) this.readFile(abs, this.display(abs), word);
    }
  }

  /** `~SEQ(var, start, step, end) rest`, `~SEQx(...)`, `~LST(var, v1, v2...)`, `~LST({a,b}, {1,2}...)`. */
  private repeat(pt: PosText, depth: number): void {
    const lead = pt.text.length - pt.text.trimStart().length;
    const at = posAt(pt, lead);
    const open = pt.text.indexOf('(', lead);
    const close = closingParen(pt.text, open);
    if (close < 0) {
      this.error(at, 'unterminated ~SEQ/~LST: missing ")"');
      return;
    }
    const kind = pt.text.slice(lead + 1, open);
    const header = this.params.substitute(slice(pt, open + 1, close), depth);
    if (header === null) return;
    const rest = slice(pt, close + 1);
    const bindings = repeatBindings(kind, header.text, MAX_EXPANDED_LINES);
    if ('error' in bindings) {
      this.error(at, bindings.error);
      return;
    }
    for (const set of bindings.sets) {
      if (this.tooLarge) return;
      for (const [n, v] of set) this.params.define(n, { kind: 'line', value: { ...fromLine(v, at.file, at.line, pt.dir), cols: new Array(v.length).fill(at.col) } });
      this.processLine(rest, depth + 1, null);
    }
  }
}


/**
 * Reads `path` and everything it includes into logical lines. Throws MigrateError (and nothing
 * else) listing every problem: missing or looping includes, unterminated quotes, bad ~SEQ.
 */
export function readKeepalivedConfig(path: string, opts: ReadOptions = {}): ReadResult {
  const result = readKeepalivedLines(path, opts);
  if (result.errors.length > 0) throw new MigrateError(result.errors);
  return result;
}

/** As readKeepalivedConfig, but hands the errors back with the lines that could be read. */
export function readKeepalivedLines(path: string, opts: ReadOptions = {}): ReadResult & { errors: MigrateDiagnostic[] } {
  const reader = new Reader(opts);
  try {
    reader.readFile(resolve(path), path, null);
  } catch (err) {
    reader.errors.push({ file: path, line: 1, col: 1, message: `internal error while reading: ${(err as Error)?.message ?? String(err)}` });
  }
  return { lines: reader.lines, files: reader.files, notes: reader.notes, errors: reader.errors };
}
