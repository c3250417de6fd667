// scripts/setup.sh against throwaway copies of a repository whose builds are cheap fakes, so
// the staleness rules can be driven with mtimes without touching the real tree.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SETUP = fileURLToPath(new URL('../../scripts/setup.sh', import.meta.url));

interface Fake {
  dir: string;
  run(): { code: number | null; stdout: string; stderr: string };
  age(path: string, secondsAgo: number): void;
}

function fakeRepo(t: Test, scripts: Record<string, string>, options: { fresh?: boolean } = {}): Fake {
  const dir = mkdtempSync(join(tmpdir(), 'tlb-setup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'scripts'));
  cpSync(SETUP, join(dir, 'scripts/setup.sh'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fake', version: '1.0.0', private: true, scripts }));
  mkdirSync(join(dir, 'native/src'), { recursive: true });
  writeFileSync(join(dir, 'native/CMakeLists.txt'), '# fake\n');
  writeFileSync(join(dir, 'native/src/addon.cc'), '// fake\n');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src/a.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'tsconfig.json'), '{}\n');
  // Unless testing a fresh checkout, skip the (slow) npm install step: node_modules is current.
  if (!options.fresh) mkdirSync(join(dir, 'node_modules'));
  return {
    dir,
    run() {
      const r = spawnSync('bash', [join(dir, 'scripts/setup.sh')], { encoding: 'utf8', timeout: 120_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    age(path, secondsAgo) {
      const when = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(join(dir, path), when, when);
    },
  };
}

const FAKE_BUILDS = {
  'build:native': 'mkdir -p build/native/Release && echo addon > build/native/Release/ulvs_native.node && echo native >> builds.log',
  'build:ts': 'mkdir -p dist && echo ts >> builds.log',
};

t.test('setup.sh is valid bash', async (t) => {
  const r = spawnSync('bash', ['-n', SETUP], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
});

t.test('first run does every step, second run nothing, then only what went stale', async (t) => {
  const repo = fakeRepo(t, FAKE_BUILDS, { fresh: true });
  const first = repo.run();
  t.equal(first.code, 0, first.stderr);
  t.same(first.stdout.trim().split('\n'), ['setup: npm install', 'setup: building the native addon', 'setup: building TypeScript']);
  t.ok(existsSync(join(repo.dir, 'node_modules')), 'npm install ran');

  const second = repo.run();
  t.equal(second.code, 0, second.stderr);
  t.equal(second.stdout, '', 'silent when everything is there');

  // Make the outputs old, then touch one input at a time.
  for (const out of ['build/native/Release/ulvs_native.node', 'dist/.setup-build-stamp', 'node_modules']) repo.age(out, 60);
  for (const input of ['package.json', 'package-lock.json', 'native/CMakeLists.txt', 'native/src/addon.cc', 'src/a.ts', 'tsconfig.json']) {
    if (existsSync(join(repo.dir, input))) repo.age(input, 120);
  }
  t.equal(repo.run().stdout, '', 'old inputs: nothing to do');

  writeFileSync(join(repo.dir, 'native/src/addon.cc'), '// changed\n');
  t.same(repo.run().stdout.trim().split('\n'), ['setup: building the native addon'], 'native source changed');

  writeFileSync(join(repo.dir, 'src/a.ts'), 'export const a = 2;\n');
  t.same(repo.run().stdout.trim().split('\n'), ['setup: building TypeScript'], 'TypeScript source changed');

  rmSync(join(repo.dir, 'build'), { recursive: true });
  t.same(repo.run().stdout.trim().split('\n'), ['setup: building the native addon'], 'addon output missing');
});

t.test('failures exit non-zero with one clear line', async (t) => {
  const broken = fakeRepo(t, { ...FAKE_BUILDS, 'build:ts': 'echo "src/a.ts(1,1): error TS2322: nope" && exit 2' });
  const r = broken.run();
  t.equal(r.code, 1);
  t.match(r.stderr, 'error TS2322: nope', 'compiler output shown');
  t.match(r.stderr, /^setup: FAILED: npm run build:ts failed/m);
  t.notOk(existsSync(join(broken.dir, 'dist/.setup-build-stamp')), 'a failed build is retried next time');

  const noNative = fakeRepo(t, FAKE_BUILDS);
  rmSync(join(noNative.dir, 'native/CMakeLists.txt'));
  const n = noNative.run();
  t.equal(n.code, 1);
  t.match(n.stderr, /^setup: FAILED: native\/CMakeLists.txt is missing/m);

  const badAddon = fakeRepo(t, { ...FAKE_BUILDS, 'build:native': 'echo "fatal error: xsk.h: No such file" >&2; exit 1' });
  const a = badAddon.run();
  t.equal(a.code, 1);
  t.match(a.stderr, 'xsk.h: No such file');
  t.match(a.stderr, /^setup: FAILED: npm run build:native failed/m);
});
