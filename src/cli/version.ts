// ulvs's version: package.json's, read from the checkout, or put in by the single executable's
// bundler (packaging/build-sea.mjs defines __ULVS_VERSION__), which has no package.json beside it.
import { readFileSync } from 'node:fs';

declare const __ULVS_VERSION__: string | undefined;

export function ulvsVersion(): string {
  if (typeof __ULVS_VERSION__ === 'string') return __ULVS_VERSION__;
  // dist/src/cli/version.js -> the checkout's package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
