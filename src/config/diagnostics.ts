/** Configuration mistakes as `FILE:LINE:COL: message (hint)`, collected and thrown all at once. */

export interface Diagnostic {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
  message: string;
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  return d.hint ? `${where}: ${d.message} (${d.hint})` : `${where}: ${d.message}`;
}

/** A warning as keepalived words its own: `FILE:LINE:COL: warning: message (hint)`; never fatal. */
export function formatWarning(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: warning: ${d.message}${d.hint ? ` (${d.hint})` : ''}`;
}

/** Orders diagnostics by file, then position, so output reads top to bottom. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : 1));
}

export class ConfigError extends Error {
  readonly diagnostics: Diagnostic[];
  /** Warnings found before the errors, so check-config can still print them. */
  readonly warnings: Diagnostic[];

  constructor(diagnostics: Diagnostic[], warnings: Diagnostic[] = []) {
    const sorted = sortDiagnostics(diagnostics);
    super(sorted.map(formatDiagnostic).join('\n'));
    this.name = 'ConfigError';
    this.diagnostics = sorted;
    this.warnings = sortDiagnostics(warnings);
  }

  /** Every line, errors first: what check-config and `ulvs run` print. */
  format(): string {
    return this.diagnostics.map(formatDiagnostic).join('\n');
  }
}
