// ulvs's version: package.json's, read from the checkout, or put in by the single executable's
// bundler (packaging/build-sea.mjs defines __ULVS_VERSION__), which has no package.json beside it.
import { readFileSync } from 'node:fs';

declare const __ULVS_VERSION__: string | undefined;

export function ulvsVersion(): string {
  if (typeof __ULVS_VERSION__ === 'string') return __ULVS_VERSION__;
  // The checkout's package.json: dist/src/cli/version.js is three levels down, src/cli/version.ts
  // (tests run the sources) two.
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'ulvs') return pkg.version;
    } catch { /* not at this level */ }
  }
  return 'unknown';
}
