/**
 * The headers of keepalived's repetition lines: `~SEQ(var, start, step, end)`, `~SEQx(...)`
 * (hexadecimal), `~LST(var, v1, v2...)` and `~LST({a,b}, {1,2}...)`, turned into the parameter
 * values of each repetition. Pure: the reader substitutes the header first and runs the lines.
 */
import { NAME } from './keepalived-params.js';

/** For each repetition, the (name, value) pairs it binds. */
export type Bindings = Array<Array<[string, string]>>;

/** Index of the `)` that closes the `(` at `open`, or -1 when there is none. */
export function closingParen(text: string, open: number): number {
  let level = 0;
  let close = -1;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') level++;
    else if (text[i] === ')' && --level === 0) {
      close = i;
      break;
    }
  }
  return close;
}

/**
 * The bindings of `~kind(header)`, or why the header is wrong. A ~SEQ stops once it has more
 * than `limit` repetitions (the reader reports the expansion as too large).
 */
export function repeatBindings(kind: string, header: string, limit: number): { sets: Bindings } | { error: string } {
  const sets: Bindings = [];
  if (kind === 'LST') {
    const parts = splitTopLevel(header);
    const names = unbrace(parts[0] ?? '');
    if (names.length === 0 || !names.every((n) => NAME.test(n)) || parts.length < 2) {
      return { error: '~LST needs a variable (or {a, b}) and at least one value' };
    }
    for (const part of parts.slice(1)) {
      const values = unbrace(part);
      if (values.length !== names.length) {
        return { error: `~LST value "${part.trim()}" has ${values.length} item(s) for ${names.length} variable(s)` };
      }
      sets.push(names.map((n, i) => [n, values[i]]));
    }
    return { sets };
  }
  const args = header.split(',').map((s) => s.trim());
  const name = args[0] ?? '';
  const nums = args.slice(1).map((s) => (/^-?(0x[0-9a-fA-F]+|\d+)$/.test(s) ? Number(s.replace(/^(-?)0x/, '$10x')) : NaN));
  if (!NAME.test(name) || nums.length < 1 || nums.length > 3 || nums.some((n) => !Number.isFinite(n))) {
    return { error: `~${kind} needs (var, [start, [step,]] end) with whole numbers, not (${header.trim()})` };
  }
  const end = nums[nums.length - 1];
  const start = nums.length >= 2 ? nums[0] : end >= 0 ? 1 : -1;
  const step = nums.length === 3 ? nums[1] : end >= start ? 1 : -1;
  if (step === 0 || (step > 0 && end < start) || (step < 0 && end > start)) {
    return { error: `~${kind}(${header.trim()}) never reaches its end` };
  }
  const hex = kind === 'SEQx';
  for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
    sets.push([[name, hex ? v.toString(16) : String(v)]]);
    if (sets.length > limit) break;
  }
  return { sets };
}

/** Splits `a, {b, c}, d` on top-level commas. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  out.push(s.slice(from));
  return out;
}

function unbrace(s: string): string[] {
  const t = s.trim();
  if (t.startsWith('{') && t.endsWith('}')) return t.slice(1, -1).split(',').map((x) => x.trim());
  return t === '' ? [] : [t];
}
