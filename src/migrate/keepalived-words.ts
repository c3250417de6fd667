/**
 * keepalived.conf's words: text that keeps the source column of every character, comments
 * found outside quotes, quotes and escapes, `{` and `}` as words of their own, and the csh-style
 * braces of include patterns. The reader (keepalived-reader.ts) does the lines and includes
 * around it, with parameters in keepalived-params.ts and repetitions in keepalived-repeat.ts.
 */
import type { MigrateDiagnostic, SourcePos } from './errors.js';

export interface Token extends SourcePos {
  text: string;
  /** written (at least partly) between quotes: never a brace or a keyword */
  quoted: boolean;
}

/** Text with the source column of every character (line and file are per text). */
export interface PosText {
  text: string;
  cols: number[];
  file: string;
  line: number;
  /** directory of the file it came from: ${_PWD} and relative includes */
  dir: string;
}

export function slice(pt: PosText, start: number, end = pt.text.length): PosText {
  return { ...pt, text: pt.text.slice(start, end), cols: pt.cols.slice(start, end) };
}

export function posAt(pt: PosText, index: number): SourcePos {
  const col = index < pt.cols.length ? pt.cols[index] : (pt.cols[pt.cols.length - 1] ?? 0) + 1;
  return { file: pt.file, line: pt.line, col };
}

export function fromLine(text: string, file: string, line: number, dir: string): PosText {
  const cols = new Array<number>(text.length);
  for (let i = 0; i < text.length; i++) cols[i] = i + 1;
  return { text, cols, file, line, dir };
}

/** Index where a `#` or `!` comment starts outside quotes, or -1. */
export function commentStart(text: string): number {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' || c === '!') return i;
  }
  return -1;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Reads one escape after a backslash at `i` (inside quotes); returns the text and the next index. */
function readEscape(text: string, i: number): [string, number] {
  const c = text[i + 1];
  if (c === undefined) return ['\\', i + 1];
  if (c in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[c], i + 2];
  if (/[0-7]/.test(c)) {
    const m = /^[0-7]{1,3}/.exec(text.slice(i + 1))![0];
    return [String.fromCharCode(parseInt(m, 8) & 255), i + 1 + m.length];
  }
  if (c === 'x') {
    const m = /^[0-9a-fA-F]+/.exec(text.slice(i + 2));
    if (m) return [String.fromCharCode(parseInt(m[0].slice(-2), 16)), i + 2 + m[0].length];
  }
  if (c === 'c' && i + 2 < text.length) return [String.fromCharCode(text.charCodeAt(i + 2) & 31), i + 3];
  return [c, i + 2];
}

/** Words as keepalived splits them: whitespace-separated, quotes grouped, braces alone. */
export function tokenize(pt: PosText, errors: MigrateDiagnostic[], bracesSplit = true): Token[] {
  const tokens: Token[] = [];
  const { text } = pt;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = posAt(pt, i);
    if (bracesSplit && (c === '{' || c === '}')) {
      tokens.push({ ...start, text: c, quoted: false });
      i++;
      continue;
    }
    let word = '';
    let quoted = false;
    while (i < text.length && !/\s/.test(text[i]) && (!bracesSplit || (text[i] !== '{' && text[i] !== '}'))) {
      const q = text[i];
      // An undefined ${NAME} stays as written: its braces are not blocks.
      const ref = q === '$' && text[i + 1] === '{' ? /^\$\{[^{}\s]*\}/.exec(text.slice(i)) : null;
      if (ref) {
        word += ref[0];
        i += ref[0].length;
        continue;
      }
      if (q !== '"' && q !== "'") {
        word += q;
        i++;
        continue;
      }
      quoted = true;
      const open = i;
      i++;
      let closed = false;
      while (i < text.length) {
        if (text[i] === q) {
          closed = true;
          i++;
          break;
        }
        if (text[i] === '\\') {
          const [s, next] = readEscape(text, i);
          word += s;
          i = next;
        } else word += text[i++];
      }
      if (!closed) {
        errors.push({ ...posAt(pt, open), message: `unterminated quoted string (add the closing ${q})` });
        return tokens;
      }
    }
    tokens.push({ ...start, text: word, quoted });
  }
  return tokens;
}

/** csh-style braces in include patterns: `{a,b}x` -> `ax`, `bx` (nested allowed). */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        const parts: string[] = [];
        let from = open + 1;
        for (const comma of commas) {
          parts.push(pattern.slice(from, comma));
          from = comma + 1;
        }
        parts.push(pattern.slice(from, i));
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        return parts.flatMap((p) => expandBraces(head + p + tail));
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [pattern];
}
