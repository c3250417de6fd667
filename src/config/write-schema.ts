/**
 * Writes configs/schema.json from the zod schema (so editors complete ulvs.yaml keys).
 * Run after a build: `node dist/src/config/write-schema.js`. A test fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configJsonSchema } from './schema.js';

export function renderSchemaJson(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

/** configs/schema.json, found from this file whether it runs from src/config or dist/src/config. */
export function schemaJsonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = here.split(sep).slice(-3).join('/') === 'dist/src/config' ? '../../..' : '../..';
  return join(here, up, 'configs', 'schema.json');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2] ?? schemaJsonPath();
  writeFileSync(path, renderSchemaJson());
  process.stdout.write(`wrote ${path}\n`);
}
