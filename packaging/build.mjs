// `npm run package`: build/package/ulvs (single executable) and build/package/ulvs_<version>_amd64.deb.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSingleExecutable } from './build-sea.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'package');
const started = Date.now();
const exe = await buildSingleExecutable(root, out);
process.stdout.write(`package: ${exe}\n`);
if (!process.argv.includes('--executable-only')) {
  const { buildDebianPackage } = await import('./build-deb.mjs');
  const deb = await buildDebianPackage(root, out, exe);
  process.stdout.write(`package: ${deb}\n`);
}
process.stdout.write(`package: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
