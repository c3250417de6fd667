/**
 * What `ulvs migrate` says about its input: errors (the input cannot be read, exit 2) and
 * reports (a keyword was not translated, and why). Both carry FILE:LINE[:COL] of the source.
 */

export interface SourcePos {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
}

export interface MigrateDiagnostic extends SourcePos {
  message: string;
}

export function formatMigrateDiagnostic(d: MigrateDiagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** A report keeps FILE:LINE only: it names a keyword, not a character. */
export function formatReport(d: MigrateDiagnostic): string {
  return `${d.file}:${d.line}: ${d.message}`;
}

/** The only error the readers throw: every problem found, in file order. */
export class MigrateError extends Error {
  readonly diagnostics: MigrateDiagnostic[];

  constructor(diagnostics: MigrateDiagnostic[]) {
    super(diagnostics.map(formatMigrateDiagnostic).join('\n'));
    this.name = 'MigrateError';
    this.diagnostics = diagnostics;
  }
}

/** Refuse inputs larger than this (ulvs's own config limit): a config is kilobytes. */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;
