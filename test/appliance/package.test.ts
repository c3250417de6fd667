// The .deb and its units, as dpkg-deb and systemd-analyze see them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DEB, EXECUTABLE, REPO, ensurePackage } from './build.js';

t.setTimeout(1_200_000);
const sh = (file: string, args: string[]) => spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 << 20 });

t.before(async () => {
  const ms = await ensurePackage();
  t.comment(ms ? `package built in ${(ms / 1000).toFixed(1)} s` : 'package reused (newer than its inputs)');
});

t.test('dpkg-deb -c: what the package installs', async (t) => {
  const listing = sh('dpkg-deb', ['-c', DEB]).stdout;
  for (const path of ['./usr/sbin/ulvs', './etc/ulvs/ulvs.yaml', './lib/systemd/system/ulvs.service', './lib/systemd/system/ulvs-realserver@.service',
    './usr/share/man/man8/ulvs.8.gz', './usr/share/ulvs/ulvs.schema.json', './usr/share/doc/ulvs/copyright']) {
    t.match(listing, new RegExp(` ${path.replace(/[.@]/g, '\\$&')}( |$)`, 'm'), path);
  }
  t.match(listing, /^-rwxr-xr-x root\/root .* \.\/usr\/sbin\/ulvs$/m, 'ulvs is root-owned and executable');
  t.match(listing, / \.\/usr\/lib\/ulvs\/ipvsadm -> \.\.\/\.\.\/sbin\/ulvs$/m, '/usr/lib/ulvs/ipvsadm links to ulvs');
  t.notMatch(listing, /\.\/usr\/sbin\/ipvsadm/, 'no /usr/sbin/ipvsadm (the user may have the real one)');
});

t.test('dpkg-deb -I: control, conffiles, maintainer scripts', async (t) => {
  const info = sh('dpkg-deb', ['-I', DEB]).stdout;
  t.match(info, /Package: ulvs/);
  t.match(info, /Architecture: amd64/);
  for (const dep of ['libc6', 'libxdp1', 'libbpf1', 'libelf1', 'zlib1g', 'iproute2', 'adduser']) t.match(info, new RegExp(`Depends:.*\\b${dep} \\(>= `), `Depends: ${dep}`);
  t.equal(sh('dpkg-deb', ['-I', DEB, 'conffiles']).stdout, '/etc/ulvs/ulvs.yaml\n');
  const postinst = sh('dpkg-deb', ['-I', DEB, 'postinst']).stdout;
  t.match(postinst, /adduser --system --group/);
  t.notMatch(postinst, /systemctl (start|enable|restart)/, 'installing starts and enables nothing');
});

t.test('the conffile is a sample check-config passes; the man page is the CLI help', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-deb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(sh('dpkg-deb', ['-x', DEB, dir]).status, 0);
  const check = sh(join(dir, 'usr/sbin/ulvs'), ['check-config', join(dir, 'etc/ulvs/ulvs.yaml')]);
  t.equal(check.status, 0, check.stderr);
  const man = sh('sh', ['-c', `zcat ${dir}/usr/share/man/man8/ulvs.8.gz | MANWIDTH=100 man -l -`]).stdout;
  for (const sub of ['run', 'reload', 'list', 'check-config', 'migrate', 'genhash', 'lab', 'realserver start']) t.match(man, new RegExp(`ulvs ${sub}\\b`), `man page has ulvs ${sub}`);
  t.same(JSON.parse(readFileSync(join(dir, 'usr/share/ulvs/ulvs.schema.json'), 'utf8')), JSON.parse(readFileSync(join(REPO, 'configs/schema.json'), 'utf8')));
});

t.test('systemd-analyze verify and security on the units', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // verify wants the executables to exist: point the units at the built one.
  for (const unit of ['ulvs.service', 'ulvs-realserver@.service']) {
    writeFileSync(join(dir, unit), readFileSync(join(REPO, 'packaging', unit), 'utf8').replaceAll('/usr/sbin/ulvs', EXECUTABLE));
  }
  for (const unit of ['ulvs.service', 'ulvs-realserver@198.18.0.100.service']) {
    const v = sh('systemd-analyze', ['verify', '--man=no', join(dir, unit)]);
    t.equal(v.status, 0, `${unit} verifies: ${v.stderr}`);
    t.equal(v.stderr.trim(), '', `${unit}: no warnings`);
  }
  const unit = readFileSync(join(dir, 'ulvs.service'), 'utf8');
  for (const line of ['Type=notify', 'WatchdogSec=', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID', 'User=ulvs', 'NoNewPrivileges=yes',
    'ProtectSystem=strict', 'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_BPF CAP_PERFMON CAP_IPC_LOCK']) t.ok(unit.includes(line), line);
  const s = sh('systemd-analyze', ['security', '--offline=true', join(dir, 'ulvs.service')]);
  const score = /Overall exposure level for ulvs\.service: ([\d.]+)/.exec(s.stdout);
  t.ok(score, `exposure score printed: ${s.stdout.slice(-300)} ${s.stderr}`);
  t.comment(`systemd-analyze security exposure: ${score?.[1]}`);
  t.ok(Number(score?.[1]) <= 3.0, `exposure ${score?.[1]} is at most 3.0 ("OK")`);
});
