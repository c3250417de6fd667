// A dataplane worker never runs a child process (issue 18 part 4): TAP's tc runs on the
// director's main thread (src/control/tap-steering.ts). Held by walking the worker's module
// graph (value imports, re-exports and dynamic imports; `import type` is erased) from its
// source: no module in it may reach node:child_process, so nothing there could spawn.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SPAWNING = /^(node:)?child_process$/;

/** Every module the file reaches, with the chain that reached it, and the bare specifiers seen. */
function moduleGraph(entry: string): { parents: Map<string, string | null>; external: { spec: string; from: string }[] } {
  const parents = new Map<string, string | null>([[entry, null]]);
  const external: { spec: string; from: string }[] = [];
  const queue = [entry];
  while (queue.length) {
    const file = queue.shift()!;
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const specs = [
      ...[...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]),
      ...[...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]),
      ...[...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
      ...[...source.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
    ];
    for (const spec of specs) {
      if (!spec.startsWith('.')) { external.push({ spec, from: file }); continue; }
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (!existsSync(target)) throw new Error(`${relative(REPO, file)} imports ${spec}, not found as ${relative(REPO, target)}`);
      if (!parents.has(target)) { parents.set(target, file); queue.push(target); }
    }
  }
  return { parents, external };
}

function chain(parents: Map<string, string | null>, file: string): string {
  const out: string[] = [];
  for (let f: string | null | undefined = file; f; f = parents.get(f)) out.push(relative(REPO, f));
  return out.join(' <- ');
}

t.test('nothing in the dataplane worker\'s module graph reaches node:child_process', async (t) => {
  const { parents, external } = moduleGraph(resolve(REPO, 'src/dataplane/worker.ts'));
  t.ok(parents.size > 20, `the walk found the worker's modules (${parents.size})`);
  t.ok(parents.has(resolve(REPO, 'src/io/tap.ts')), 'the TAP port is in it (opened with its tc left to the caller)');
  t.ok(parents.has(resolve(REPO, 'src/io/afxdp.ts')), 'and the AF_XDP port');
  const spawning = external.filter((e) => SPAWNING.test(e.spec)).map((e) => chain(parents, e.from));
  t.same(spawning, [], 'no module imports child_process');
});

t.test('the walk would see it: the main thread\'s tc modules do reach child_process', async (t) => {
  const { parents, external } = moduleGraph(resolve(REPO, 'src/control/tap-steering.ts'));
  t.ok(external.some((e) => SPAWNING.test(e.spec) && e.from === resolve(REPO, 'src/io/tc.ts')), chain(parents, resolve(REPO, 'src/io/tc.ts')));
  const viaOpen = moduleGraph(resolve(REPO, 'src/io/open.ts'));
  t.ok(viaOpen.external.some((e) => SPAWNING.test(e.spec)), 'open.ts (ports that run their own tc) does');
});
