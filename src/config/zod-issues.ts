/**
 * Turns zod issues into diagnostics a person can act on: the position of the offending key or
 * value, a message that names the key and the value written, and a did-you-mean.
 */
import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import { didYouMean } from './did-you-mean.js';
import { at, locate, type LocationIndex } from './source.js';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];
type AnySchema = z.core.$ZodType;

interface Context {
  root: unknown;
  locations: LocationIndex;
  schema: AnySchema;
}

function valueAt(root: unknown, path: Path): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg as string];
  }
  return v;
}

/** `weight`, or `unicast_peer[1]` for a list entry. */
function label(path: Path): string {
  if (path.length === 0) return 'the file';
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    const parent = path.length > 1 ? String(path[path.length - 2]) : 'list';
    return `${parent}[${last}]`;
  }
  const parent = path.length > 1 ? path[path.length - 2] : undefined;
  if (parent === 'vrrp_scripts' || parent === 'track_files') return `${parent} "${String(last)}"`;
  return String(last);
}

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  null: 'nothing',
};

function unwrap(s: AnySchema): AnySchema {
  for (;;) {
    const def = s._zod.def as unknown as { type: string; innerType?: AnySchema; in?: AnySchema; getter?: () => AnySchema };
    if (def.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(def.type)) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else if (def.type === 'lazy' && def.getter) s = def.getter();
    else return s;
  }
}

/** The schemas a path can reach (several through unions). */
function schemasAt(schema: AnySchema, path: Path): AnySchema[] {
  let current = [schema];
  for (const seg of path) {
    const next: AnySchema[] = [];
    const visit = (s: AnySchema): void => {
      const u = unwrap(s);
      const def = u._zod.def as unknown as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema; valueType?: AnySchema; options?: AnySchema[] };
      if (def.type === 'union' && def.options) def.options.forEach(visit);
      else if (def.type === 'object' && def.shape && typeof seg === 'string' && def.shape[seg]) next.push(def.shape[seg]);
      else if (def.type === 'array' && def.element && typeof seg === 'number') next.push(def.element);
      else if (def.type === 'record' && def.valueType && typeof seg === 'string') next.push(def.valueType);
    };
    current.forEach(visit);
    current = next;
  }
  return current;
}

/** Keys a mapping at `path` may have (for did-you-mean on unknown keys). */
export function allowedKeysAt(schema: AnySchema, path: Path): string[] {
  const keys = new Set<string>();
  const visit = (s: AnySchema): void => {
    const u = unwrap(s);
    const def = u._zod.def as unknown as { type: string; shape?: Record<string, AnySchema>; options?: AnySchema[] };
    if (def.type === 'union' && def.options) def.options.forEach(visit);
    else if (def.type === 'object' && def.shape) Object.keys(def.shape).forEach((k) => keys.add(k));
  };
  schemasAt(schema, path).forEach(visit);
  return [...keys];
}

function prefixed(issue: Issue, prefix: Path): Issue {
  return { ...issue, path: [...prefix, ...issue.path] } as Issue;
}

/** The value itself has the wrong shape for this member (not something inside it). */
function isRootMismatch(i: Issue): boolean {
  if (i.path.length !== 0) return false;
  if (i.code === 'invalid_type' || i.code === 'invalid_value') return true;
  return i.code === 'invalid_union' && i.errors.every((branch) => branch.some((b) => isRootMismatch(b as Issue)));
}

/** Picks the union member the user most likely meant: the one whose shape matched. */
function bestUnionBranch(issue: Extract<Issue, { code: 'invalid_union' }>): Issue[] | null {
  let best: Issue[] | null = null;
  let bestScore = Infinity;
  for (const branch of issue.errors) {
    if (branch.some(isRootMismatch)) continue;
    if (branch.length < bestScore) {
      best = branch as Issue[];
      bestScore = branch.length;
    }
  }
  return best;
}

function unionExpectation(issue: Extract<Issue, { code: 'invalid_union' }>): string {
  const wanted: string[] = [];
  for (const branch of issue.errors) {
    for (const i of branch) {
      if (i.path.length !== 0) continue;
      if (i.code === 'invalid_union') wanted.push(unionExpectation(i));
      if (i.code === 'invalid_type') wanted.push(EXPECTED[i.expected] ?? i.expected);
      if (i.code === 'invalid_value') wanted.push(...i.values.map((v) => JSON.stringify(v)));
    }
  }
  return [...new Set(wanted)].join(' or ');
}

function rangeMessage(issue: Extract<Issue, { code: 'too_small' | 'too_big' }>, name: string, value: unknown): string {
  const small = issue.code === 'too_small';
  const bound = small ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'array':
    case 'set':
      return small ? `${name} needs at least ${bound} entr${bound === 1 ? 'y' : 'ies'}` : `${name} has more than ${bound} entries`;
    case 'string':
      return small ? (bound === 1 ? `${name} must not be empty` : `${name} must be at least ${bound} characters`) : `${name} must be at most ${bound} characters`;
    default: {
      const relation = small ? (inclusive ? 'at least' : 'more than') : (inclusive ? 'at most' : 'less than');
      return `${name} must be ${relation} ${bound}, not ${describeValue(value)}`;
    }
  }
}

export function issueToDiagnostics(issue: Issue, ctx: Context): Diagnostic[] {
  const path = issue.path;
  const name = label(path);
  const value = valueAt(ctx.root, path);
  const where = locate(ctx.root, ctx.locations, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const keyWhere = locate(ctx.root, ctx.locations, [...path, key]);
        const hint = didYouMean(key, allowedKeysAt(ctx.schema, path));
        const inside = path.length === 0 ? 'at the top level' : `in ${label(path)}`;
        return at(keyWhere.key ?? keyWhere.value, `unknown key "${key}" ${inside}`, hint);
      });
    case 'invalid_union': {
      const branch = bestUnionBranch(issue);
      if (branch) return branch.flatMap((i) => issueToDiagnostics(prefixed(i, path), ctx));
      return [at(where.value, `${name} must be ${unionExpectation(issue)}, not ${describeValue(value)}`)];
    }
    case 'invalid_type':
      if (value === undefined) {
        return [at(where.value, `missing required key "${String(path[path.length - 1])}"${path.length > 1 ? ` in ${label(path.slice(0, -1))}` : ''}`)];
      }
      return [at(where.value, `${name} must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(value)}`)];
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
      return [at(where.value, `${name} must be one of ${options.join(', ')}, not ${describeValue(value)}`, hint)];
    }
    case 'too_small':
    case 'too_big':
      return [at(where.value, rangeMessage(issue, name, value))];
    case 'invalid_format':
      if (issue.format === 'regex') return [at(where.value, `${name} ${describeValue(value)} ${issue.message}`)];
      return [at(where.value, `${name} ${describeValue(value)} is not a valid ${issue.format}`)];
    case 'custom': {
      const text = issue.message;
      const describesValue = /^(is|must)\b/.test(text);
      return [at(where.value, describesValue ? `${name} ${describeValue(value)} ${text}` : `${name}: ${text}`)];
    }
    default:
      return [at(where.value, `${name}: ${issue.message}`)];
  }
}
