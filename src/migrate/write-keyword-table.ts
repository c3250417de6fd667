/**
 * Rewrites README.md's keyword table from the translators' tables (`npm run docs:keywords`).
 * Run after a build: `node dist/src/migrate/write-keyword-table.js [README]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withKeywordTable } from './keyword-doc.js';

/** README.md, found from this file whether it runs from src/migrate or dist/src/migrate. */
export function readmePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.split(sep).slice(-3).join('/') === 'dist/src/migrate' ? '../../..' : '../..';
  return join(here, up, 'README.md');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2] ?? readmePath();
  writeFileSync(path, withKeywordTable(readFileSync(path, 'utf8')));
  process.stdout.write(`wrote the keyword table in ${path}\n`);
}
