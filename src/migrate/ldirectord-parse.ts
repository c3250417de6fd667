/**
 * ldirectord.cf's lines: `key=value` settings, `virtual=` (or `virtual6=`) starting a block of
 * indented settings, unindented ones global; comments kept for the YAML.
 */
import { MigrateError, type MigrateDiagnostic, type SourcePos } from './errors.js';

export interface Setting extends SourcePos {
  key: string;
  /** the value's words, quotes removed */
  values: string[];
  raw: string;
  commentsBefore: string[];
  comment?: string;
}

export interface VirtualBlock {
  head: Setting;
  settings: Setting[];
}

/** Splits a value into words; "quoted words" keep their spaces. */
function splitWords(text: string, at: SourcePos, errors: MigrateDiagnostic[]): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|([^\s,"']+)|(["'])/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[4] !== undefined) {
      errors.push({ ...at, col: at.col + m.index, message: `unterminated quoted string (add the closing ${m[4]})` });
      break;
    }
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

function commentStart(text: string): number {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return i;
  }
  return -1;
}

/** Reads the file into global settings and virtual blocks; MigrateError on lines it cannot read. */
export function parseLdirectord(text: string, file: string): { globals: Setting[]; virtuals: VirtualBlock[] } {
  const errors: MigrateDiagnostic[] = [];
  const globals: Setting[] = [];
  const virtuals: VirtualBlock[] = [];
  let pending: string[] = [];
  if (text.includes('\0')) throw new MigrateError([{ file, line: 1, col: 1, message: `${file} is not a text file (it contains NUL bytes)` }]);
  text.split(/\r?\n/).forEach((physical, index) => {
    const line = index + 1;
    const cut = commentStart(physical);
    const comment = cut >= 0 ? physical.slice(cut + 1).trim() : undefined;
    const body = (cut >= 0 ? physical.slice(0, cut) : physical).replace(/\s+$/, '');
    if (body.trim() === '') {
      if (comment !== undefined) pending.push(comment);
      return;
    }
    const indent = body.length - body.trimStart().length;
    const m = /^([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(body.trimStart());
    if (!m) {
      errors.push({ file, line, col: indent + 1, message: `"${body.trim()}" is not key=value` });
      return;
    }
    const valueCol = indent + 1 + body.trimStart().indexOf(m[2]);
    const setting: Setting = {
      file, line, col: indent + 1, key: m[1].toLowerCase(), raw: m[2],
      values: splitWords(m[2], { file, line, col: valueCol }, errors),
      commentsBefore: pending, ...(comment !== undefined ? { comment } : {}),
    };
    pending = [];
    if (setting.key === 'virtual' || setting.key === 'virtual6') {
      if (indent > 0) errors.push({ file, line, col: 1, message: `${setting.key}= starts a service and must not be indented` });
      virtuals.push({ head: setting, settings: [] });
    } else if (indent > 0) {
      const current = virtuals[virtuals.length - 1];
      if (!current) errors.push({ file, line, col: 1, message: `indented ${setting.key}= before any virtual= line` });
      else current.settings.push(setting);
    } else globals.push(setting);
  });
  if (errors.length > 0) throw new MigrateError(errors);
  return { globals, virtuals };
}
