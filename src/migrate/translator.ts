/**
 * The machinery the keepalived keyword tables run on: a table per keepalived block maps each
 * keyword to what ulvs does with it (translated, or refused with the reason), the Translator
 * walks a block through its table and collects the reports, and the handler factories read the
 * usual value shapes (numbers, timers, flags, scripts). Everything one translation changes lives
 * in its Context, so two translations in one process cannot see each other.
 */
import { closestMatch } from '../config/did-you-mean.js';
import type { MigrateDiagnostic, SourcePos } from './errors.js';
import type { MarkRule } from './iptables-marks.js';
import type { Token } from './keepalived-reader.js';
import type { Statement } from './keepalived-tree.js';
import { OutMap, OutSeq, YamlBuilder } from './yaml-out.js';

export interface TranslateOptions {
  /** dataplane.interface; default: the first vrrp_instance's interface */
  interface?: string;
  /** dataplane.inside (NAT) */
  inside?: string;
  /** iptables MARK rules, to turn `fwmark N` services into groups */
  marks?: Map<number, MarkRule>;
  /** the main file, for reports that belong to no line */
  mainFile: string;
}

export type Handler = (st: Statement, out: OutMap, cx: Context) => void;

/**
 * What ulvs does with a keyword. `ignored` (accepted, no effect) has no keyword today: ulvs
 * reports every keyword it does not translate.
 */
export type Fate = 'translated' | 'refused' | 'ignored';

export interface KeywordRule {
  readonly fate: Fate;
  /** why ulvs refuses (or ignores) the keyword; what the report says in parentheses */
  readonly reason?: string;
  readonly apply: Handler;
}

export type Rules = Record<string, KeywordRule>;

/** The keywords of one keepalived block, in the order did-you-mean considers them. */
export interface KeywordTable {
  /** the keepalived block they are written in: `vrrp_instance`, `TCP_CHECK`, `url`... */
  readonly block: string;
  readonly rules: Readonly<Rules>;
}

/** The YAML sections being filled, one per top-level keepalived block kind. */
export interface Sections {
  global: OutMap;
  statics: OutSeq;
  scripts: OutMap;
  trackFiles: OutMap;
  instances: OutSeq;
  syncGroups: OutSeq;
  groups: OutSeq;
  services: OutSeq;
  /** DPVS's local_address_group blocks (Full NAT), when there are any */
  localGroups?: OutSeq;
  /** virtual_server_groups names given so far (fwmark groups are added once) */
  groupNames: Set<string>;
  /** vrrp_scripts keepalived removes (no `script` line, e.g. only under another `@id`) */
  removedScripts?: Set<string>;
  firstInterface?: string;
  firstNat?: Statement;
  globalFrom?: Statement;
}

/** One translation's state, passed to every handler. */
export interface Context {
  t: Translator;
  opts: TranslateOptions;
  sections: Sections;
  /** the virtual server being translated (real servers inherit its lb_kind) */
  vsKind?: string;
  /** the virtual server being translated is left out (protocol SCTP), reported where it says so */
  dropService?: boolean;
  /** lvs_method lines of real servers and sorry servers in that virtual server */
  perServerMethods?: { st: Statement; kind: string; sorry?: boolean }[];
  /** the url list of each http_get being built (several url blocks append to one list) */
  urlLists: Map<OutMap, OutSeq>;
}

/** Keywords a block may hold several times (each adds, none replaces). */
const REPEATABLE = new Set(['real_server', 'url', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK', 'MISC_CHECK', 'FILE_CHECK', 'BFD_CHECK', 'host']);
const BOOL_TRUE = ['on', 'true', 'yes'];
const BOOL_FALSE = ['off', 'false', 'no'];

export function words(st: Statement): string {
  return st.args.map((a) => a.text).join(' ');
}

export class Translator {
  readonly reports: MigrateDiagnostic[] = [];
  readonly yaml = new YamlBuilder();

  report(pos: SourcePos, message: string): void {
    this.reports.push({ file: pos.file, line: pos.line, col: pos.col, message });
  }

  unsupported(st: Statement | Token, why: string, what?: string): void {
    const tok = 'keyword' in st ? st.keyword : st;
    this.report(tok, `${what ?? tok.text} not supported by ulvs (${why})`);
  }

  unknown(st: Statement, where: string, known: string[]): void {
    const near = closestMatch(st.keyword.text, known);
    this.report(st.keyword, `${st.keyword.text}: unknown keyword in ${where}, not translated${near ? ` (did you mean ${near}?)` : ''}`);
  }

  /** Reports words after the ones a keyword takes. */
  extra(st: Statement, used: number): void {
    if (st.args.length > used) {
      const rest = st.args.slice(used);
      this.report(rest[0], `${st.keyword.text}: extra words "${rest.map((a) => a.text).join(' ')}" not translated`);
    }
  }

  map(): OutMap {
    return new OutMap(this.yaml);
  }

  seq(): OutSeq {
    return new OutSeq(this.yaml);
  }

  arg(st: Statement, i = 0): Token | undefined {
    const a = st.args[i];
    if (a === undefined) this.report(st.keyword, `${st.keyword.text} needs a value, not translated`);
    return a;
  }

  number(st: Statement, i: number, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
    const a = this.arg(st, i);
    if (a === undefined) return undefined;
    const n = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(a.text) ? Number(a.text) : NaN;
    const bad = !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) ||
      (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max);
    if (bad) {
      const range = opts.min !== undefined && opts.max !== undefined ? ` ${opts.min}..${opts.max}` : '';
      this.report(a, `${st.keyword.text}: "${a.text}" is not ${opts.int ? 'a whole number' : 'a number'}${range}, not translated`);
      return undefined;
    }
    return n;
  }

  bool(st: Statement): boolean | undefined {
    const a = st.args[0];
    if (a === undefined) return true;
    const v = a.text.toLowerCase();
    if (BOOL_TRUE.includes(v)) return true;
    if (BOOL_FALSE.includes(v)) return false;
    this.report(a, `${st.keyword.text}: "${a.text}" is not one of on|off|true|false|yes|no, not translated`);
    return undefined;
  }

  /** Walks a block with its table; unknown keywords are reported. */
  walk(block: Statement[] | undefined, table: KeywordTable, out: OutMap, cx: Context): void {
    const seen = new Map<string, Token>();
    for (const st of block ?? []) {
      const kw = st.keyword.text;
      // Own keys only: `constructor` or `toString` in a block is an unknown word, not Object's.
      const rule = Object.hasOwn(table.rules, kw) ? table.rules[kw] : undefined;
      if (!rule) {
        this.unknown(st, table.block, Object.keys(table.rules));
        continue;
      }
      const first = seen.get(kw);
      if (first && !REPEATABLE.has(kw)) {
        this.report(first, `${kw} is given again at line ${st.keyword.line}; as in keepalived the later one is kept and this one is not translated`);
      }
      seen.set(kw, st.keyword);
      rule.apply(st, out, cx);
    }
  }

  /** The NAME of `vrrp_instance NAME { ... }` and the like. */
  named(st: Statement): string | undefined {
    const n = st.args[0];
    if (n === undefined) this.report(st.keyword, `${st.keyword.text} needs a name, not translated`);
    else this.extra(st, 1);
    return n?.text;
  }

  /** A keyword that must have a block. */
  needBlock(st: Statement): Statement[] | undefined {
    if (st.block === undefined) this.report(st.keyword, `${st.keyword.text} needs a { ... } block, not translated`);
    return st.block;
  }
}

/** A table that no translation can change (the tables are shared by every translation). */
export function keywordTable(block: string, rules: Rules): KeywordTable {
  return Object.freeze({ block, rules: Object.freeze({ ...rules }) });
}

// ---- rule factories --------------------------------------------------------------------------

export const translated = (apply: Handler): KeywordRule => ({ fate: 'translated', apply });

/** Refused: reported as `KEYWORD not supported by ulvs (reason)`. */
export const no = (reason: string): KeywordRule =>
  ({ fate: 'refused', reason, apply: (st, _out, { t }) => t.unsupported(st, reason) });

/** Refused, with a report that depends on the words (`ip_family inet`). */
export const refused = (reason: string, apply: Handler): KeywordRule => ({ fate: 'refused', reason, apply });

export const int = (key?: string, min?: number, max?: number): KeywordRule => translated((st, out, { t }) => {
  const n = t.number(st, 0, { int: true, min, max });
  if (n !== undefined) out.set(key ?? st.keyword.text, n, st);
  t.extra(st, 1);
});
export const timer = (key?: string): KeywordRule => translated((st, out, { t }) => {
  const n = t.number(st, 0, { min: 0 });
  if (n !== undefined) out.set(key ?? st.keyword.text, n, st);
  t.extra(st, 1);
});
export const text = (key?: string): KeywordRule => translated((st, out, { t }) => {
  const a = t.arg(st);
  if (a !== undefined) out.set(key ?? st.keyword.text, a.text, st);
  t.extra(st, 1);
});
/** The whole rest of the line (scripts written without quotes). */
export const line = (key?: string): KeywordRule => translated((st, out, { t }) => {
  if (t.arg(st) !== undefined) out.set(key ?? st.keyword.text, words(st), st);
});
export const flag = (key?: string): KeywordRule => translated((st, out, { t }) => {
  const b = t.bool(st);
  if (b !== undefined) out.set(key ?? st.keyword.text, b, st);
  t.extra(st, 1);
});
/**
 * `notify_x SCRIPT [username [groupname]]`: the script alone, or with its own user
 * `{ script, user: "USER [GROUP]" }` (run as that user, checked at load as keepalived does).
 */
export const command = (key?: string): KeywordRule => translated((st, out, { t }) => {
  const a = t.arg(st);
  if (a === undefined) return;
  if (st.args.length === 1) { out.set(key ?? st.keyword.text, a.text, st); return; }
  const m = t.map();
  m.set('script', a.text);
  m.set('user', st.args.slice(1, 3).map((w) => w.text).join(' '));
  out.set(key ?? st.keyword.text, m.compact(), st);
  t.extra(st, 3);
});
/** `user USERNAME [GROUPNAME]`: kept as one "USER [GROUP]" string, as ulvs.yaml spells it. */
export const user = (key = 'user'): KeywordRule => translated((st, out, { t }) => {
  const a = t.arg(st);
  if (a === undefined) return;
  out.set(key, st.args.length > 1 ? `${a.text} ${st.args[1].text}` : a.text, st);
  t.extra(st, 2);
});
/** `weight N [reverse|noreverse]` of vrrp_script, track_file and FILE_CHECK. */
export const weightReverse = (range: number): KeywordRule => translated((st, out, { t }) => {
  const n = t.number(st, 0, { int: true, min: -range, max: range });
  if (n !== undefined) out.set('weight', n, st);
  const r = st.args[1];
  if (r !== undefined) {
    if (r.text === 'reverse') out.set('reverse', true);
    else if (r.text !== 'noreverse') t.report(r, `weight: "${r.text}" is not reverse, not translated`);
  }
  t.extra(st, 2);
});
/** A block of bare names (`notification_email`, a sync group's `group`). */
export const nameList = (key: string): KeywordRule => translated((st, out, { t }) => {
  const list = t.seq();
  for (const e of t.needBlock(st) ?? []) {
    list.push(e.keyword.text, e);
    t.extra(e, 0);
  }
  out.set(key, list, st);
});
