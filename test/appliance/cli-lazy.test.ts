// The CLI loads only the subcommand on its command line (src/cli/main.ts): what each start
// resolves is traced with a module hook; every command still answers its own --help through
// the lazy route, and the full tree (man page, `ulvs --help`) still has them all.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cliProgram } from '../../src/cli/main.js';
import { REPO } from './build.js';

const work = mkdtempSync('/tmp/k4-cli-lazy-');
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const HOOK = join(REPO, 'test/appliance/fixtures/trace-loads.mjs');
let n = 0;

function ulvs(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: Set<string> } {
  const trace = join(work, `trace-${n++}.txt`);
  const r = spawnSync(process.execPath, ['--import', HOOK, join(REPO, 'bin/ulvs.js'), ...args], {
    encoding: 'utf8', env: { ...process.env, ULVS_TRACE_FILE: trace }, timeout: 60_000,
  });
  let loaded: string[] = [];
  try { loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean); } catch { /* nothing resolved */ }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: new Set(loaded) };
}

const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

t.test('--version: the package version, no subcommand module', async (t) => {
  const r = ulvs(['--version']);
  t.equal(r.status, 0);
  t.equal(r.stdout, `${version}\n`);
  t.notOk([...r.loaded].some((m) => /^(control|config|dataplane|migrate|io)\//.test(m)), [...r.loaded].join(' '));
});

t.test('list loads the control-socket client, not the director', async (t) => {
  const r = ulvs(['list']);
  t.equal(r.status, 1, 'no director here');
  t.match(r.stderr, /no ulvs director is running/);
  t.ok(r.loaded.has('cli/director-client.js'));
  for (const m of ['control/director.js', 'cli/director.js', 'migrate/index.js', 'io/native.js', 'cli/lab.js']) t.notOk(r.loaded.has(m), `${m} not loaded`);
});

t.test('check-config loads the config, not the director', async (t) => {
  const r = ulvs(['check-config', join(REPO, 'configs/lab-dr.yaml')]);
  t.equal(r.status, 0, r.stderr);
  t.ok(r.loaded.has('config/index.js'));
  for (const m of ['control/director.js', 'migrate/index.js', 'cli/director-client.js']) t.notOk(r.loaded.has(m), `${m} not loaded`);
});

t.test('every command of the full tree answers --help through its lazy route', async (t) => {
  const names = (await cliProgram()).commands.map((c) => c.name());
  t.same(names, ['run', 'reload', 'list', 'conns', 'timeout', 'stats', 'ipvsadm', 'status', 'bgp', 'check-config', 'migrate', 'genhash', 'lab', 'realserver']);
  for (const name of names.filter((n) => n !== 'ipvsadm')) { // ipvsadm takes its own command line
    const r = ulvs([name, '--help']);
    t.equal(r.status, 0, `${name} --help: ${r.stderr}`);
    t.match(r.stdout, new RegExp(`^Usage: ulvs ${name}[| ]`, 'm'), name);
  }
  const all = ulvs(['--help']);
  t.equal(all.status, 0);
  for (const name of names) t.match(all.stdout, new RegExp(`^  ${name}\\b`, 'm'), `${name} in ulvs --help`);
  const unknown = ulvs(['bogus']);
  t.equal(unknown.status, 2, 'an unknown command is a usage error');
  t.match(unknown.stderr, /unknown command 'bogus'/);
});
