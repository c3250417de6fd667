// The .deb's ulvs.service under a real systemd (systemd-boot.ts: PID 1 of private namespaces),
// with every line of its hardening as shipped (User=ulvs from the postinst, the capability
// lines, ProtectSystem=strict, the seccomp filter ...). One drop-in puts it in the lab's
// director namespace (NetworkNamespacePath=, as an operator's `systemctl edit` would) and
// shortens TimeoutAbortSec (the wait between the watchdog's SIGABRT and SIGKILL, 20 s otherwise).
// Seen: Type=notify start returns once READY=1 came; DR forwards; ExecReload (SIGHUP) applies a
// changed config; a hung director (SIGSTOP) is killed by WatchdogSec= and restarted by
// Restart=on-failure; and with AF_XDP taken away by RestrictAddressFamilies= (socket(AF_XDP)
// fails with EAFNOSUPPORT, as on a kernel built without XDP sockets) it falls back to TAP with one
// log line and forwards.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { destroyLab } from '../../src/lab/index.js';
import { waitForOrFail } from '../../src/lab/wait.js';
import { DEB, EXECUTABLE, REPO, ensurePackage } from './build.js';
import { bootSystemd, extractDeb, type BootedSystemd } from './systemd-boot.js';

t.setTimeout(900_000);
const PREFIX = 'k4s-';
const DIRECTOR_NS = `${PREFIX}dir1`;
const work = mkdtempSync('/tmp/k4-systemd-');
chmodSync(work, 0o755);
const exe = join(work, 'ulvs-host');
const root = join(work, 'deb');
let sd: BootedSystemd | undefined;

t.teardown(async () => {
  await sd?.stop();
  await destroyLab({ prefix: PREFIX });
  rmSync(work, { recursive: true, force: true });
});

function sh(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function answers(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(sh('ip', ['netns', 'exec', `${PREFIX}client`, 'curl', '-s', '-m', '3', 'http://198.18.0.100/']).stdout.trim());
  return out;
}


t.before(async () => {
  const ms = await ensurePackage();
  t.comment(ms ? `package built in ${(ms / 1000).toFixed(1)} s` : 'package reused');
  copyFileSync(EXECUTABLE, exe);
  chmodSync(exe, 0o755);
  extractDeb(DEB, root);
  const lab = sh(exe, ['lab', 'up', '-p', PREFIX]);
  if (lab.status !== 0) throw new Error(`lab up: ${lab.stderr}`);
  sd = await bootSystemd(join(work, 'sd'), root, {
    'ulvs.service': `[Service]\nNetworkNamespacePath=/run/netns/${DIRECTOR_NS}\nTimeoutAbortSec=3s\n`,
  });
  // dpkg's part: the postinst (adduser ulvs) and the lab's config as /etc/ulvs/ulvs.yaml.
  const postinst = sd.inside(['sh', join(root, 'DEBIAN/postinst'), 'configure']);
  if (postinst.status !== 0) throw new Error(`postinst: ${postinst.stderr}`);
  const conf = sd.inside(['sh', '-c', 'cat > /etc/ulvs/ulvs.yaml'], readFileSync(join(REPO, 'configs/lab-dr.yaml'), 'utf8'));
  if (conf.status !== 0) throw new Error(`config: ${conf.stderr}`);
});

t.test('ulvs.service as shipped, under systemd: notify, hardening, reload, watchdog, TAP fallback', async (t) => {
  const box = sd!;
  const log = () => box.journal('ulvs.service');
  // As an operator on that machine would: root, in the director's namespace, the .deb's ulvs.
  const routeCount = () => box.inside(['ip', 'netns', 'exec', DIRECTOR_NS, '/usr/sbin/ulvs', 'list', '-n']).stdout.split('\n').filter((l) => /Route/.test(l)).length;
  const detail = () => `\n--- journal:\n${log().slice(-3000)}`;

  await t.test('Type=notify: systemctl start returns once ulvs is forwarding', async (t) => {
    const started = Date.now();
    const r = box.systemctl('start', 'ulvs.service');
    t.equal(r.status, 0, `systemctl start: ${r.stderr}${detail()}`);
    t.comment(`systemctl start took ${Date.now() - started} ms`);
    const s = box.show('ulvs.service', 'ActiveState', 'SubState', 'StatusText', 'MainPID', 'NRestarts');
    t.same([s.ActiveState, s.SubState], ['active', 'running'], JSON.stringify(s));
    t.match(s.StatusText, /forwarding/, 'STATUS= from sd_notify');
    const got = answers(6);
    t.equal(got.filter((a) => /^rs[123]$/.test(a)).length, 6, `six answers through the VIP: ${got.join(',')}${detail()}`);
    t.match(log(), /packets taken with afxdp/, 'AF_XDP under the sandbox');
  });

  await t.test('the director process holds exactly what the unit grants', async (t) => {
    const mainPid = box.show('ulvs.service', 'MainPID').MainPID;
    const status = box.inside(['cat', `/proc/${mainPid}/status`]).stdout;
    const uid = box.inside(['id', '-u', 'ulvs']).stdout.trim();
    t.match(uid, /^\d+$/, 'the postinst made the ulvs user');
    t.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'runs as ulvs');
    t.match(status, /^CapEff:\s+000000c000007000$/m, 'effective: NET_ADMIN NET_RAW IPC_LOCK PERFMON BPF');
    t.match(status, /^CapBnd:\s+000000c000007000$/m, 'bounding set: the same five');
    t.match(status, /^NoNewPrivs:\s+1$/m);
    t.match(status, /^Seccomp:\s+2$/m, 'SystemCallFilter= in force');
    const write = box.inside(['nsenter', '-t', mainPid, '-m', '--', 'sh', '-c', 'touch /etc/k4-probe 2>&1; touch /usr/k4-probe 2>&1; ls /home 2>&1; echo done']);
    t.match(write.stdout, /\/etc\/k4-probe.*Read-only file system/, 'ProtectSystem=strict: /etc read-only');
    t.match(write.stdout, /\/usr\/k4-probe.*Read-only file system/, '/usr read-only');
  });

  await t.test('ExecReload (SIGHUP) applies a changed config', async (t) => {
    t.equal(routeCount(), 3);
    const without = readFileSync(join(REPO, 'configs/lab-dr.yaml'), 'utf8').replace(/^.*198\.18\.0\.30.*\n/m, '');
    t.not(without, readFileSync(join(REPO, 'configs/lab-dr.yaml'), 'utf8'), 'rs3 taken out of the config');
    box.inside(['sh', '-c', 'cat > /etc/ulvs/ulvs.yaml'], without);
    const before = box.show('ulvs.service', 'MainPID').MainPID;
    const r = box.systemctl('reload', 'ulvs.service');
    t.equal(r.status, 0, r.stderr);
    await waitForOrFail('ulvs list shows two real servers', () => routeCount() === 2, 30_000, 200);
    t.equal(box.show('ulvs.service', 'MainPID').MainPID, before, 'reloaded in place, not restarted');
    t.equal(box.show('ulvs.service', 'ActiveState').ActiveState, 'active');
  });

  await t.test('WatchdogSec=: a hung director is killed and Restart=on-failure brings it back', async (t) => {
    const hung = box.show('ulvs.service', 'MainPID').MainPID;
    if (!/^[1-9]\d*$/.test(hung)) throw new Error(`no director to hang (MainPID ${hung})${detail()}`);
    t.equal(box.inside(['kill', '-STOP', hung]).status, 0, 'SIGSTOP sent');
    t.match(box.inside(['cat', `/proc/${hung}/status`]).stdout, /^State:\s+T/m, 'the director is stopped');
    const stopped = Date.now();
    await waitForOrFail('systemd restarts the hung director', () => /Scheduled restart job, restart counter is at 1/.test(log()), 90_000, 250)
      .catch((err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(box.show('ulvs.service', 'MainPID', 'ActiveState', 'SubState', 'NRestarts', 'Result'))}${detail()}`); });
    t.comment(`restart scheduled ${Date.now() - stopped} ms after SIGSTOP (WatchdogSec=10s, TimeoutAbortSec=3s, RestartSec=2s)`);
    t.match(log(), /ulvs\.service: Watchdog timeout \(limit 10s\)!/, 'systemd names the watchdog');
    t.match(log(), /Failed with result 'watchdog'/);
    // As user ulvs (no CAP_SYS_ADMIN) `ip -j link` cannot read the leftover program's name
    // (BPF_PROG_GET_FD_BY_ID needs CAP_SYS_ADMIN), so recovery now goes by the program id the dead
    // director wrote in its state file, and detaches it with ip (CAP_NET_ADMIN).
    await t.test('the restarted director forwards', async (t) => {
      await waitForOrFail('active again', () => box.show('ulvs.service', 'ActiveState', 'SubState').SubState === 'running' && box.show('ulvs.service', 'MainPID').MainPID !== hung, 20_000, 250).catch(() => undefined);
      const got = answers(3);
      t.equal(got.filter((a) => /^rs[12]$/.test(a)).length, 3, `forwards after the restart: ${got.join(',')}${detail()}`);
    });
    t.equal(box.systemctl('stop', 'ulvs.service').status, 0);
    // The next part needs a bare eth0 even if the restarted director did not stop cleanly.
    sh('ip', ['-n', DIRECTOR_NS, 'link', 'set', 'dev', 'eth0', 'xdp', 'off']);
  });

  // io: auto falls back once socket(AF_XDP) is refused; user ulvs then opens /dev/net/tun, which
  // the unit's DevicePolicy=closed + DeviceAllow=/dev/net/tun rw lets through (the box gives the
  // node udev's 0666: see systemd-boot.ts).
  await t.test('without AF_XDP (RestrictAddressFamilies=): TAP fallback, one log line, forwards', async (t) => {
    t.notMatch(sh('ip', ['-n', DIRECTOR_NS, 'link', 'show', 'eth0']).stdout, /prog\/xdp/, 'no XDP program on eth0');
    // An empty assignment resets the list; the second is the shipped one minus AF_XDP.
    writeFileSync(join(box.work, 'units', 'ulvs.service.d', 'k4-no-afxdp.conf'),
      '[Service]\nRestrictAddressFamilies=\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET\n');
    t.equal(box.systemctl('daemon-reload').status, 0);
    const logStart = log().length;
    const r = box.systemctl('start', 'ulvs.service');
    t.equal(r.status, 0, `${r.stderr}${detail()}`);
    const fresh = log().slice(logStart);
    const fellBack = fresh.split('\n').filter((l) => /fell back/.test(l));
    t.equal(fellBack.length, 1, `one fallback line: ${fresh.slice(-2000)}`);
    t.match(fellBack[0], /eth0/);
    t.match(fresh, /packets taken with tap/);
    const got = answers(3);
    t.equal(got.filter((a) => /^rs[12]$/.test(a)).length, 3, `TAP forwards: ${got.join(',')}${detail()}`);
    t.equal(box.systemctl('stop', 'ulvs.service').status, 0);
    t.equal(box.show('ulvs.service', 'ActiveState').ActiveState, 'inactive');
  });
});
