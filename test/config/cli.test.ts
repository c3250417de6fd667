// `ulvs check-config`: diagnostics on stderr, exit 2 on errors, 0 otherwise, never a stack trace.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheckConfig } from '../../src/cli/check-config.js';

// The real CLI, as installed (bin/ulvs.js runs the compiled dist/).
const ULVS = 'bin/ulvs.js';
const BAD = 'test/config/fixtures/bad';
const STACK_LINE = /^\s+at .+[(:]\d+/m;

class Sink {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ULVS, 'check-config', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('runCheckConfig: a good file is OK with a summary', async (t) => {
  const out = new Sink();
  const err = new Sink();
  t.equal(runCheckConfig('configs/lab-dr.yaml', out, err), 0);
  t.equal(out.text, 'configs/lab-dr.yaml: OK: 1 virtual server, 3 real servers, 0 vrrp instances\n');
  t.equal(err.text, '');
});

t.test('runCheckConfig: errors go to stderr as FILE:LINE:COL with a count, exit 2', async (t) => {
  const out = new Sink();
  const err = new Sink();
  t.equal(runCheckConfig(`${BAD}/unknown-keys.yaml`, out, err), 2);
  t.equal(out.text, '');
  const lines = err.text.trimEnd().split('\n');
  t.equal(lines.length, 6);
  t.equal(lines[0], `${BAD}/unknown-keys.yaml:4:1: unknown key "virtual_server" at the top level (did you mean "virtual_servers"?)`);
  t.equal(lines[5], '5 errors in configuration');
});

t.test('runCheckConfig: warnings are printed but do not fail', async (t) => {
  const out = new Sink();
  const err = new Sink();
  t.equal(runCheckConfig('test/config/fixtures/warn/dr-port.yaml', out, err), 0);
  t.match(err.text, /dr-port\.yaml:8:34: warning: real server port 8080 differs from the service port 80/);
  t.match(out.text, /OK/);
});

t.test('the command as a process', async (t) => {
  const good = run('configs/seed-004-wrr-dr.yaml');
  t.equal(good.status, 0, good.stderr);
  t.match(good.stdout, /seed-004-wrr-dr\.yaml: OK \(3 files\): 2 virtual servers/);

  for (const file of ['cross-lvs.yaml', 'does-not-exist.yaml']) {
    const r = run(`${BAD}/${file}`);
    t.equal(r.status, 2, `${file} exits 2`);
    t.equal(r.stdout, '', `${file}: nothing on stdout`);
    t.match(r.stderr, new RegExp(`^${BAD}/[\\w./-]+:\\d+:\\d+: `), `${file}: starts with FILE:LINE:COL`);
    t.notMatch(r.stderr, STACK_LINE, `${file}: no stack trace`);
  }

  const dir = run(BAD);
  t.equal(dir.status, 2, 'a directory is a config error');
  t.match(dir.stderr, /is a directory/);
});

t.test('a file over 10 MB is refused before it is read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'huge.yaml');
  writeFileSync(path, '# padding\n'.repeat(1024 * 1024) + 'x');
  const err = new Sink();
  t.equal(runCheckConfig(path, new Sink(), err), 2);
  t.equal(err.text.split('\n')[0], `${path}:1:1: ${path} is 10485761 bytes, more than the 10485760 allowed (a config file is text of a few kilobytes)`);
});

t.test('reportConfigErrorAndExit: ConfigError -> diagnostics and 2; other errors -> one line and 1', async (t) => {
  const script = (what: string) => `
    import { reportConfigErrorAndExit } from './src/cli/check-config.ts';
    import { loadConfig } from './src/config/index.ts';
    try { ${what} } catch (e) { reportConfigErrorAndExit(e); }`;
  const cfg = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script(`loadConfig('${BAD}/fwmark.yaml')`)], { encoding: 'utf8' });
  t.equal(cfg.status, 2);
  t.match(cfg.stderr, /fwmark\.yaml:2:5: fwmark not supported by ulvs \(ulvs bypasses netfilter/);
  t.notMatch(cfg.stderr, STACK_LINE);
  const other = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script(`throw new Error('boom')`)], { encoding: 'utf8' });
  t.equal(other.status, 1);
  t.equal(other.stderr, 'ulvs: boom\n');
});
