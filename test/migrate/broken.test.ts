// A corpus of broken keepalived.conf files: each gives exactly the expected FILE:LINE:COL errors
// (all of them at once) through MigrateError, and `ulvs migrate` exits 2 without a stack trace.
import t from 'tap';
import { MigrateError, formatMigrateDiagnostic, migrateFile } from '../../src/migrate/index.js';
import { runMigrate } from '../../src/cli/migrate.js';

const DIR = 'test/migrate/fixtures/broken';

const CORPUS: { file: string; errors: string[] }[] = [
  { file: 'unterminated-quote.conf', errors: ['unterminated-quote.conf:2:12: unterminated quoted string (add the closing ")'] },
  { file: 'missing-brace.conf', errors: ['missing-brace.conf:4:20: block opened here is never closed (missing "}")'] },
  { file: 'extra-brace.conf', errors: ['extra-brace.conf:4:1: unexpected "}": no block is open'] },
  { file: 'lone-brace.conf', errors: ['lone-brace.conf:1:1: unexpected "{": no keyword before it'] },
  { file: 'missing-include.conf', errors: [`missing-include.conf:4:9: include nowhere/*.conf: no such file (relative to ${DIR})`] },
  { file: 'loop-a.conf', errors: [`loop-b.conf:4:9: include loop: ${DIR}/loop-a.conf is already being read (${DIR}/loop-a.conf -> ${DIR}/loop-b.conf)`] },
  { file: 'bad-seq.conf', errors: ['bad-seq.conf:2:5: ~SEQ(N, 1, 0, 5) never reaches its end'] },
  { file: 'unterminated-seq.conf', errors: ['unterminated-seq.conf:1:1: unterminated ~SEQ/~LST: missing ")"'] },
  { file: 'self-var.conf', errors: ['self-var.conf:3:11: parameter substitution does not end (a parameter refers to itself)'] },
  { file: 'binary.conf', errors: [`binary.conf:1:1: ${DIR}/binary.conf is not a text file (it contains NUL bytes)`] },
  // Every mistake at once: the reader's and the block structure's.
  { file: 'several.conf', errors: ['several.conf:2:15: unterminated quoted string (add the closing ")', 'several.conf:4:1: unexpected "}": no block is open'] },
];

class Sink {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

for (const { file, errors } of CORPUS) {
  t.test(`broken: ${file}`, async (t) => {
    const err = t.throws(() => migrateFile(`${DIR}/${file}`, { from: 'keepalived', routerId: 'lab' })) as unknown;
    t.ok(err instanceof MigrateError, 'throws MigrateError');
    const lines = (err as MigrateError).diagnostics.map(formatMigrateDiagnostic);
    t.same(lines, errors.map((e) => `${DIR}/${e}`));

    const out = new Sink();
    const stderr = new Sink();
    t.equal(runMigrate(`${DIR}/${file}`, { from: 'keepalived', routerId: 'lab' }, out, stderr), 2, 'exit 2');
    t.equal(out.text, '', 'nothing on stdout');
    t.match(stderr.text, `${DIR}/${errors[0]}`);
    t.notMatch(stderr.text, /^\s+at .+:\d+/m, 'no stack trace');
  });
}

t.test('a missing file is an error at FILE:1:1, exit 2', async (t) => {
  const err = t.throws(() => migrateFile(`${DIR}/no-such.conf`, { from: 'keepalived' })) as MigrateError;
  t.same(err.diagnostics.map(formatMigrateDiagnostic), [`${DIR}/no-such.conf:1:1: cannot read ${DIR}/no-such.conf: no such file`]);
  const e = t.throws(() => migrateFile(`${DIR}/no-such.cf`, { from: 'ldirectord' })) as MigrateError;
  t.ok(e instanceof MigrateError);
});

t.test('broken ldirectord.cf lines are FILE:LINE:COL errors', async (t) => {
  const text = 'checktimeout=3\nthis is not a setting\n    real=198.18.0.10:80 gate\nvirtual=198.18.0.100:80\n    request="index.html\n';
  const err = t.throws(() => migrateFile('bad.cf', { from: 'ldirectord', readText: () => text })) as MigrateError;
  t.same(err.diagnostics.map(formatMigrateDiagnostic), [
    'bad.cf:2:1: "this is not a setting" is not key=value',
    'bad.cf:3:1: indented real= before any virtual= line',
    'bad.cf:5:13: unterminated quoted string (add the closing ")',
  ]);
});

t.test('a file over 10 MB is refused before it is read', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync, truncateSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-migrate-big-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, from] of [['big.conf', 'keepalived'], ['big.cf', 'ldirectord']] as const) {
    const path = join(dir, name);
    writeFileSync(path, '');
    truncateSync(path, 11 * 1024 * 1024);
    const err = t.throws(() => migrateFile(path, { from })) as MigrateError;
    t.ok(err instanceof MigrateError);
    t.match(err.diagnostics[0].message, /is 11534336 bytes, more than the 10485760 a configuration may have/);
  }
});
