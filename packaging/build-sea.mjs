// `npm run package`, step 1: build/package/ulvs, a Node single executable application holding
// the bundled CLI, the bundled dataplane worker, the addon and the XDP object.
//   https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// The blob's marker in the node binary (the SEA documentation's value).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** import.meta.url in a CommonJS bundle: the file that runs (the executable, or the eval'd worker). */
const META_URL_SHIM = "const __ulvs_import_meta_url = require('node:url').pathToFileURL(__filename).href;";

export async function buildSingleExecutable(root, out) {
  const native = join(root, 'build', 'native', 'Release');
  for (const f of ['ulvs_native.node', 'ulvs_xdp.o']) {
    if (!existsSync(join(native, f))) throw new Error(`${join(native, f)} is missing: run \`bash scripts/setup.sh\` first`);
  }
  mkdirSync(out, { recursive: true });
  const common = {
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning',
    // No package.json beside the executable: src/cli/version.ts reads this instead.
    define: { 'import.meta.url': '__ulvs_import_meta_url', __ULVS_VERSION__: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) }, banner: { js: META_URL_SHIM },
    // The checkout-only helpers (tsc/tap tooling) never run inside the executable.
    external: ['typescript'],
  };
  await build({ ...common, entryPoints: [join(root, 'src/appliance/sea-main.ts')], outfile: join(out, 'ulvs.cjs') });
  await build({ ...common, entryPoints: [join(root, 'src/dataplane/worker.ts')], outfile: join(out, 'dataplane-worker.cjs') });

  const seaConfig = {
    main: join(out, 'ulvs.cjs'),
    output: join(out, 'ulvs.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    assets: {
      'ulvs_native.node': join(native, 'ulvs_native.node'),
      'ulvs_xdp.o': join(native, 'ulvs_xdp.o'),
      'dataplane-worker.cjs': join(out, 'dataplane-worker.cjs'),
    },
  };
  writeFileSync(join(out, 'sea-config.json'), JSON.stringify(seaConfig, null, 2) + '\n');
  execFileSync(process.execPath, ['--experimental-sea-config', join(out, 'sea-config.json')], { stdio: 'inherit' });

  const exe = join(out, 'ulvs');
  rmSync(exe, { force: true });
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  // Node's binary carries its symbols; the appliance does not need them. Before injection:
  // strip would drop the blob's section.
  execFileSync('strip', ['--strip-all', exe]);
  execFileSync(process.execPath, [join(root, 'node_modules/postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', join(out, 'ulvs.blob'),
    '--sentinel-fuse', SEA_FUSE], { stdio: ['ignore', 'ignore', 'inherit'] });
  return exe;
}
