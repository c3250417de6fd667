// `ulvs migrate FILE`: YAML on stdout, reports on stderr; exit 0 when the YAML validates (even
// with reports), 1 when it does not, 2 when the input cannot be parsed; never a stack trace.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { migrateCommand, runMigrate } from '../../src/cli/migrate.js';

class Sink {
  text = '';
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** The command in-process (spawning costs seconds per run with the TypeScript loader). */
function runIn(file: string, opts: Parameters<typeof runMigrate>[1]): { status: number; stdout: string; stderr: string } {
  const out = new Sink();
  const err = new Sink();
  const status = runMigrate(file, opts, out, err);
  return { status, stdout: out.text, stderr: err.text };
}

// The real CLI, as installed (bin/ulvs.js runs the compiled dist/).
const ULVS = 'bin/ulvs.js';
const FIX = 'test/migrate/fixtures';
const STACK_LINE = /^\s+at .+[(:]\d+/m;

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ULVS, 'migrate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('a seed migrates: YAML on stdout that check-config accepts as a file, reports on stderr, exit 0', async (t) => {
  const r = run(`${FIX}/seed001-master.conf`);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^# Migrated by `ulvs migrate` from seed001-master\.conf \(keepalived\.conf\)\./);
  t.match(r.stderr, `${FIX}/seed001-master.conf:9: smtp_connection_timeout: unknown keyword in global_defs`);
  t.notMatch(r.stdout, /not translated \(/, 'reports stay off stdout');
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-migrate-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ulvs.yaml'), r.stdout);
  const loaded = loadConfig(join(dir, 'ulvs.yaml'));
  t.equal(loaded.config.virtual_servers[0].real_servers.length, 2);
  t.equal(loaded.config.vrrp_instances[0].name, 'VI_1');
});

t.test('options: --from, --interface, --inside, --router-id, --iptables', async (t) => {
  const ld = runIn(`${FIX}/seed002-ldirectord.cf`, { from: 'ldirectord', interface: 'eth3' });
  t.equal(ld.status, 0, ld.stderr);
  t.match(ld.stdout, /dataplane:\n( {2}#.*\n)+ {2}interface: eth3\n {2}autoreload: true\n/);
  t.notMatch(ld.stderr, /names no interface/);

  const dir = mkdtempSync(join(tmpdir(), 'ulvs-migrate-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'k.conf');
  writeFileSync(conf, '@dir1 $PRIO=150\n@^dir1 $PRIO=100\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n priority $PRIO\n}\nvirtual_server 198.18.0.100 80 {\n lb_algo rr\n real_server 198.18.1.10 80 {\n }\n}\n');
  const nat = runIn(conf, { routerId: 'dir1' });
  t.equal(nat.status, 0, `NAT without --inside: inside is auto and the YAML validates (${nat.stderr})`);
  t.match(nat.stdout, 'priority: 150');
  t.match(nat.stdout, /inside: auto/);
  const ok = run(conf, '--router-id', 'dir2', '--inside', 'eth1');
  t.equal(ok.status, 0, 'through the command line too');
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, 'priority: 100');
  t.match(ok.stdout, 'inside: eth1');

  const fw = runIn(`${FIX}/seed000-fwmark-norule.conf`, { interface: 'eth0', iptables: `${FIX}/iptables-save.txt` });
  t.equal(fw.status, 0, fw.stderr);
  t.match(fw.stdout, 'group: fwmark80');
});

t.test('unparseable input: FILE:LINE:COL on stderr, nothing on stdout, exit 2, no stack trace', async (t) => {
  const r = run(`${FIX}/broken/several.conf`);
  t.equal(r.status, 2);
  t.equal(r.stdout, '');
  t.equal(r.stderr, `${FIX}/broken/several.conf:2:15: unterminated quoted string (add the closing ")\n${FIX}/broken/several.conf:4:1: unexpected "}": no block is open\n2 errors: ${FIX}/broken/several.conf cannot be migrated\n`);
  t.notMatch(r.stderr, STACK_LINE);
  const missing = runIn(`${FIX}/nope.conf`, {});
  t.equal(missing.status, 2);
  t.notMatch(missing.stderr, STACK_LINE);
  const usage = run(`${FIX}/seed001-master.conf`, '--from', 'haproxy');
  t.equal(usage.status, 2, 'a bad option value is a usage error');
});

t.test('migrateCommand() is a commander command named migrate with the documented options', async (t) => {
  const cmd = migrateCommand();
  t.equal(cmd.name(), 'migrate');
  t.same(cmd.options.map((o) => o.long).sort(), ['--allow-partial', '--from', '--inside', '--interface', '--iptables', '--router-id']);
});
