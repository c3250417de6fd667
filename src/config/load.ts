/**
 * loadConfig: file -> validated, defaulted UlvsConfig, or a ConfigError listing every mistake
 * as FILE:LINE:COL. Phases: read (+includes) -> schema -> cross-field checks; each phase
 * collects everything it finds before anything is thrown.
 */
import { dirname } from 'node:path';
import { crossCheck, type Finding } from './cross-checks.js';
import { findRefusedKeys } from './refused-keys.js';
import { ConfigError, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { ulvsConfigSchema, type UlvsConfig } from './schema.js';
import { at, formatPos, loadSource, locate, type LoadedSource } from './source.js';
import { issueToDiagnostics } from './zod-issues.js';

export interface LoadedConfig {
  config: UlvsConfig;
  warnings: Diagnostic[];
  /** absolute paths of the main file and every included file (what autoreload watches) */
  files: string[];
}

function findingToDiagnostic(f: Finding, source: LoadedSource): Diagnostic {
  const where = locate(source.value, source.locations, f.path);
  const pos = f.atKey ? where.key ?? where.value : where.value;
  return at(pos, f.message, f.hint);
}

/** Validates an already-read source; exported for reload, which re-reads the same way. */
export function validateSource(source: LoadedSource): LoadedConfig {
  const warnings = [...source.warnings];
  if (source.value === null) throw new ConfigError(source.errors, warnings);
  const root = source.value;
  const errors: Diagnostic[] = [...source.errors];
  const parsed = ulvsConfigSchema.safeParse(root);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      errors.push(...issueToDiagnostics(issue, { root, locations: source.locations, schema: ulvsConfigSchema }));
    }
  }
  const findings = crossCheck(root, {
    dirOf: (path) => {
      const file = locate(root, source.locations, path).value.file;
      return dirname(source.paths.get(file) ?? file);
    },
    where: (path) => formatPos(locate(root, source.locations, path).value),
  });
  for (const f of findings) (f.severity === 'error' ? errors : warnings).push(findingToDiagnostic(f, source));
  for (const r of findRefusedKeys(root)) {
    errors.push(findingToDiagnostic({ severity: 'error', path: r.path, atKey: true, message: `${r.key} not supported by ulvs`, hint: r.reason }, source));
  }
  const unique = dedupe(errors);
  if (unique.length === 0 && !parsed.success) {
    unique.push(at(locate(root, source.locations, []).value, `invalid configuration: ${parsed.error.issues[0]?.message ?? 'unknown problem'}`));
  }
  if (unique.length > 0 || !parsed.success) throw new ConfigError(unique, dedupe(warnings));
  return { config: parsed.data, warnings: sortDiagnostics(dedupe(warnings)), files: source.files };
}

/** Two checks can see the same mistake (e.g. a union branch and a cross-check). */
function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const k = `${d.file}:${d.line}:${d.col}:${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Reads `path` (and its includes) and returns the config with every default filled in.
 * Throws ConfigError (and nothing else) when the file cannot be used.
 */
export function loadConfig(path: string): LoadedConfig {
  return guarded(path, () => validateSource(loadSource(path)));
}

/**
 * Validates YAML text that is not (yet) a file, e.g. `ulvs migrate` output. `name` labels the
 * diagnostics and anchors relative includes (default: a file in the current directory).
 */
export function loadConfigText(text: string, name = '<config>'): LoadedConfig {
  return guarded(name, () => validateSource(loadSource(name, text)));
}

function guarded(path: string, load: () => LoadedConfig): LoadedConfig {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // A bug in a check must still read as a config problem, never as a stack trace.
    throw new ConfigError([{ file: path, line: 1, col: 1, message: `internal error while checking: ${(err as Error)?.message ?? String(err)}` }]);
  }
}
