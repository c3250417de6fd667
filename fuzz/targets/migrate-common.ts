/** The invariant both migrate targets share: a result, or MigrateError with positions; never an internal error. */
import { MigrateError, migrateFile } from '../../src/migrate/index.js';
import { check, FuzzFinding } from '../frame-checks.js';

export function migrateText(text: string, path: string, from: 'keepalived' | 'ldirectord'): void {
  const readText = (p: string): string => {
    if (p === path) return text;
    const err = new Error(`ENOENT: ${p}`) as NodeJS.ErrnoException;
    err.code = 'ENOENT';
    throw err;
  };
  try {
    const r = migrateFile(path, { from, readText, routerId: 'fuzz', interface: 'eth0' });
    check(typeof r.yaml === 'string', 'migrate gave no YAML');
  } catch (err) {
    if (err instanceof FuzzFinding) throw err;
    check(err instanceof MigrateError, `migrate threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    for (const d of (err as MigrateError).diagnostics) {
      check(d.line >= 1 && d.col >= 1, `diagnostic without a position: ${JSON.stringify(d)}`);
      check(!d.message.startsWith('internal error'), d.message);
    }
  }
}
