/**
 * `ulvs migrate`'s core: keepalived.conf or ldirectord.cf -> ulvs YAML text, the reports of what
 * was not translated, and the result of validating that YAML as check-config would.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError, loadConfigText, type Diagnostic } from '../config/index.js';
import { MigrateError, type MigrateDiagnostic } from './errors.js';
import { collectMarkRules } from './iptables-marks.js';
import { readKeepalivedLines } from './keepalived-reader.js';
import { translateKeepalived, type Translation } from './keepalived-translate.js';
import { buildTreeLenient } from './keepalived-tree.js';
import { looksLikeLdirectord, readLdirectordFile } from './ldirectord.js';
import { keepalivedParts, losses, yamlParts, type Loss, type PartCounts } from './losses.js';

export { MigrateError, formatMigrateDiagnostic, formatReport, type MigrateDiagnostic } from './errors.js';
export { readKeepalivedConfig, tokenize, type LogicalLine, type ReadResult, type Token } from './keepalived-reader.js';
export { buildTree, type Statement } from './keepalived-tree.js';
export { parseMarkRule, collectMarkRules } from './iptables-marks.js';
export { formatLosses, type Loss } from './losses.js';

export type SourceFormat = 'keepalived' | 'ldirectord';

export interface MigrateOptions {
  from?: SourceFormat;
  /** dataplane.interface */
  interface?: string;
  /** dataplane.inside (NAT) */
  inside?: string;
  /** keepalived's config id (-i): which `@id` lines are kept. Default: the host name. */
  routerId?: string;
  /** iptables-save output (or iptables commands) whose MARK rules explain fwmark services */
  iptables?: string;
  /** file text for tests and fuzzing; default: the file system */
  readText?: (path: string) => string;
}

export interface MigrateResult {
  from: SourceFormat;
  yaml: string;
  /** keywords not translated and why, as FILE:LINE */
  reports: MigrateDiagnostic[];
  /** problems check-config finds in the YAML (empty when it validates) */
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** virtual servers, real servers, instances and checkers of the input the YAML lacks */
  lost: Loss[];
}

/** Name the migrated YAML's own diagnostics carry (it is not a file yet). */
export const MIGRATED_NAME = 'migrated.yaml';

function detect(path: string, opts: MigrateOptions): SourceFormat {
  if (opts.from) return opts.from;
  if (/\.cf$/.test(path)) return 'ldirectord';
  try {
    const text = (opts.readText ?? ((p: string) => readFileSync(p, 'utf8')))(path);
    return looksLikeLdirectord(text) ? 'ldirectord' : 'keepalived';
  } catch {
    return 'keepalived'; // the reader reports the unreadable file
  }
}

/**
 * Translates `path`. Throws MigrateError (only) when the input cannot be read or parsed;
 * untranslatable keywords are `reports`, and the YAML's validation is `errors`/`warnings`.
 */
export function migrateFile(path: string, opts: MigrateOptions = {}): MigrateResult {
  const from = detect(path, opts);
  let translation: Translation;
  let asked: PartCounts | undefined;
  try {
    if (from === 'ldirectord') {
      translation = readLdirectordFile(path, { interface: opts.interface, inside: opts.inside, readText: opts.readText });
    } else {
      const read = readKeepalivedLines(path, { configId: opts.routerId, readText: opts.readText });
      const built = buildTreeLenient(read.lines);
      const problems = [...read.errors, ...built.errors];
      if (problems.length > 0) throw new MigrateError(sortPositions(problems));
      const markLines = read.lines.filter((l) => l.comment !== undefined)
        .map((l) => ({ text: l.comment!, where: `${l.pos.file}:${l.pos.line}` }));
      if (opts.iptables !== undefined) {
        let text: string;
        try {
          text = readFileSync(opts.iptables, 'utf8');
        } catch (err) {
          throw new MigrateError([{ file: opts.iptables, line: 1, col: 1, message: `cannot read --iptables file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
        }
        text.split('\n').forEach((l, i) => markLines.push({ text: l, where: `${opts.iptables}:${i + 1}` }));
      }
      translation = translateKeepalived(built.tree, {
        interface: opts.interface, inside: opts.inside, marks: collectMarkRules(markLines), mainFile: path,
      });
      translation.reports.unshift(...read.notes);
      asked = keepalivedParts(built.tree);
    }
    asked ??= translation.asked;
  } catch (err) {
    if (err instanceof MigrateError) throw err;
    throw new MigrateError([{ file: path, line: 1, col: 1, message: `internal error while migrating: ${(err as Error)?.message ?? String(err)}` }]);
  }
  const { builder, root, reports } = translation;
  builder.doc.contents = root.node;
  builder.doc.commentBefore = ` Migrated by \`ulvs migrate\` from ${basename(path)} (${from === 'keepalived' ? 'keepalived.conf' : 'ldirectord.cf'}).` +
    (reports.length > 0 ? `\n ${reports.length} thing${reports.length === 1 ? ' was' : 's were'} not translated: see the report on stderr.` : '');
  const yaml = builder.doc.toString({ lineWidth: 0 });
  let errors: Diagnostic[] = [];
  let warnings: Diagnostic[] = [];
  try {
    warnings = loadConfigText(yaml, MIGRATED_NAME).warnings;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors = err.diagnostics;
    warnings = err.warnings;
  }
  const lost = asked ? losses(asked, yamlParts(yaml)) : [];
  return { from, yaml, reports: sortPositions(reports), errors, warnings, lost };
}

/** File by file in the order first seen, then by line and column (include order is kept). */
function sortPositions(list: MigrateDiagnostic[]): MigrateDiagnostic[] {
  const fileOrder = new Map<string, number>();
  for (const d of list) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
  return [...list].sort((a, b) => fileOrder.get(a.file)! - fileOrder.get(b.file)! || a.line - b.line || a.col - b.col);
}
