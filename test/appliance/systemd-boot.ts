// A real systemd (this machine's /lib/systemd/systemd, Debian's 252) booted as PID 1 of a private
// PID, mount and cgroup namespace, with the .deb "installed" into that mount namespace only:
//   /usr   overlay: the .deb's usr/ over the host's (read-only, nothing reaches the host)
//   /etc   overlay with a private upper dir: the .deb's /etc/ulvs, the postinst's adduser
//   /run, /var/cache, /var/lib  tmpfs (/tmp stays: the work dir is there; PrivateTmp= dirs go on stop); /run/netns bound from the host (lab namespaces)
//   /sys/fs/cgroup  a cgroup2 mount rooted at a cgroup of our own (cgroup namespace)
// The unit search path (SYSTEMD_UNIT_PATH) is a few empty targets, Debian's journald units (the
// log: systemd's own lines about a unit and the unit's output) and the .deb's /lib/systemd/system,
// so booting starts journald and nothing else. No VM, no nspawn.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForOrFail } from '../../src/lab/wait.js';

const HOST_CGROUP2 = '/sys/fs/cgroup/unified';
const JOURNALD = ['systemd-journald.service', 'systemd-journald.socket', 'systemd-journald-dev-log.socket', 'systemd-journald-audit.socket'];
const TARGETS = ['sysinit', 'basic', 'network-online', 'multi-user', 'shutdown'];

export interface BootedSystemd {
  /** systemd's PID as the host sees it. */
  pid: number;
  work: string;
  /** Runs a command inside the booted system's mount and PID namespaces. */
  inside(cmd: string[], input?: string): { status: number | null; stdout: string; stderr: string };
  systemctl(...args: string[]): { status: number | null; stdout: string; stderr: string };
  /** `systemctl show -p NAME --value` for each name. */
  show(unit: string, ...props: string[]): Record<string, string>;
  /** journalctl -u UNIT: the unit's output and systemd's lines about it. */
  journal(unit: string): string;
  stop(): Promise<void>;
}

// /dev/net/tun: this machine has no udev and leaves it 0600 root, where Debian's udev rule
// (50-udev-default.rules, KERNEL=="tun", MODE="0666") lets any user open it; inside the box a
// 0666 node is bound over it, as on the systems the .deb is for (user ulvs opens it for TAP).
export function bootScript(work: string, root: string, cgroup: string): string {
  return `set -eu
echo $$ > ${cgroup}/cgroup.procs
exec unshare --pid --fork --mount --propagation slave --cgroup bash -c '
set -eu
mount --rbind /run ${work}/host-run
mount -t overlay overlay -o lowerdir=${root}/usr:/usr /usr
mount -t overlay overlay -o lowerdir=/etc,upperdir=${work}/etc-up,workdir=${work}/etc-work /etc
cp -a ${root}/etc/ulvs /etc/ulvs
for d in /run /var/cache /var/lib; do mount -t tmpfs -o mode=755 tmpfs $d; done
mkdir -p /run/k4-dev && mknod -m 0666 /run/k4-dev/tun c 10 200 && mount --bind /run/k4-dev/tun /dev/net/tun
mkdir -p /run/netns && mount --rbind ${work}/host-run/netns /run/netns
umount -R /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t proc proc /proc
exec env -i container=k4-ulvs SYSTEMD_UNIT_PATH=${work}/units:${root}/lib/systemd/system \\
  PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd --unit=k4-boot.target --log-target=journal --log-level=info
'`;
}

/** Boots systemd over the extracted .deb at `root`; `dropIns` maps a unit to its drop-in text. */
export async function bootSystemd(work: string, root: string, dropIns: Record<string, string>): Promise<BootedSystemd> {
  if (!existsSync(`${HOST_CGROUP2}/cgroup.procs`)) throw new Error(`no cgroup2 hierarchy at ${HOST_CGROUP2}: systemd cannot be booted here`);
  for (const d of ['units', 'etc-up', 'etc-work', 'host-run']) mkdirSync(join(work, d), { recursive: true });
  writeFileSync(join(work, 'units', 'k4-boot.target'), '[Unit]\nDescription=k4 boot: journald only\nWants=systemd-journald.service\n');
  for (const u of JOURNALD) copyFileSync(join('/lib/systemd/system', u), join(work, 'units', u));
  for (const t of TARGETS) writeFileSync(join(work, 'units', `${t}.target`), `[Unit]\nDescription=k4 minimal ${t}\n${t === 'shutdown' ? 'DefaultDependencies=no\n' : ''}`);
  for (const [unit, text] of Object.entries(dropIns)) {
    mkdirSync(join(work, 'units', `${unit}.d`), { recursive: true });
    writeFileSync(join(work, 'units', `${unit}.d`, 'k4-lab.conf'), text);
  }
  const cgroup = `${HOST_CGROUP2}/k4-systemd-${process.pid}`;
  mkdirSync(cgroup, { recursive: true });
  const shell = spawn('bash', ['-c', bootScript(work, root, cgroup)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let shellOut = '';
  shell.stdout.on('data', (d: Buffer) => { shellOut += d.toString(); });
  shell.stderr.on('data', (d: Buffer) => { shellOut += d.toString(); });
  let pid = 0;
  await waitForOrFail(`systemd as PID 1 (${shellOut})`, () => {
    const found = spawnSync('pgrep', ['-f', `^/lib/systemd/systemd --unit=k4-boot.target`], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number)
      .filter((p) => p > 0 && readFileSync(`/proc/${p}/cgroup`, 'utf8').includes(`k4-systemd-${process.pid}`));
    pid = found[0] ?? 0;
    return pid > 0;
  }, 60_000, 100);

  const inside = (cmd: string[], input?: string) => {
    const r = spawnSync('nsenter', ['-t', String(pid), '-m', '-p', '--', ...cmd], { encoding: 'utf8', input, timeout: 120_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const systemctl = (...args: string[]) => inside(['systemctl', '--no-pager', ...args]);
  const show = (unit: string, ...props: string[]) => {
    const out = systemctl('show', unit, ...props.map((p) => `-p${p}`)).stdout;
    return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  };
  await waitForOrFail('systemd reaches k4-boot.target', () => /^(running|degraded)$/m.test(systemctl('is-system-running').stdout), 60_000, 200);

  const stop = async () => {
    // Units first (PrivateTmp= dirs in the host's /tmp go with them), then PID 1 and its namespace.
    spawnSync('nsenter', ['-t', String(pid), '-m', '-p', '--', 'systemctl', 'stop', '--all', '*.service'], { timeout: 60_000 });
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    await waitForOrFail('the booted systemd gone', () => !existsSync(`/proc/${pid}`), 30_000, 100).catch(() => undefined);
    // The namespace's last processes are reaped a moment after PID 1: retry until the tree goes.
    await waitForOrFail('the cgroup removed', () => { removeCgroupTree(cgroup); return !existsSync(cgroup); }, 30_000, 200).catch(() => undefined);
  };
  return { pid, work, inside, systemctl, show, journal: (unit) => inside(['journalctl', '--no-pager', '-o', 'cat', '-u', unit]).stdout, stop };
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) if (statSync(join(dir, e)).isDirectory()) removeCgroupTree(join(dir, e));
  try { rmdirSync(dir); } catch { /* a process still inside: the kill above reaps it shortly */ }
}

/** The .deb's files under `root` (dpkg-deb -x) and its postinst, as dpkg would hand them. */
export function extractDeb(deb: string, root: string): void {
  mkdirSync(root, { recursive: true });
  execFileSync('dpkg-deb', ['-x', deb, root]);
  execFileSync('dpkg-deb', ['-e', deb, join(root, 'DEBIAN')]);
}
