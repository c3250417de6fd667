/**
 * Fuzz target: the YAML config loader and its diagnostics. Every input either loads or throws
 * ConfigError whose diagnostics each carry FILE:LINE:COL (line and column >= 1) and a message;
 * "internal error" means a check threw, which is a bug the loader only papered over.
 */
import { ConfigError, loadConfigText } from '../../src/config/index.js';
import { check, FuzzFinding } from '../frame-checks.js';

const NAME = '/nonexistent/ulvs-fuzz/ulvs.yaml';

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  try {
    const loaded = loadConfigText(text, NAME);
    check(typeof loaded.config === 'object' && loaded.config !== null, 'loaded config is not an object');
  } catch (err) {
    if (err instanceof FuzzFinding) throw err;
    check(err instanceof ConfigError, `loader threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    const diags = (err as ConfigError).diagnostics;
    check(diags.length > 0, 'ConfigError without diagnostics');
    for (const d of diags) {
      check(typeof d.file === 'string' && d.line >= 1 && d.col >= 1 && Number.isInteger(d.line) && Number.isInteger(d.col),
        `diagnostic without a position: ${JSON.stringify(d)}`);
      check(!d.message.startsWith('internal error'), d.message);
    }
  }
}
