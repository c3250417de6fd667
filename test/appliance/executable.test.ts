// build/package/ulvs alone: the DR lab in a mount namespace where node and the checkout are
// hidden (sd_notify READY/WATCHDOG/RELOADING/STOPPING seen on a socket the test listens on),
// and the same executable as an unprivileged user holding only the director's capabilities.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DIRECTOR_CAPABILITIES } from '../../src/appliance/capabilities.js';
import { destroyLab } from '../../src/lab/index.js';
import { EXECUTABLE, REPO, ensurePackage } from './build.js';

t.setTimeout(1_200_000);
const PREFIX_HIDDEN = 'apx-';
const PREFIX_CAPS = 'apc-';
const PREFIX_NAT = 'apn-';
const NOBODY = 65534;

// World-readable copies (the checkout may sit under a private directory, and it is hidden below).
const work = mkdtempSync('/tmp/ap-exe-');
chmodSync(work, 0o755);
const exe = join(work, 'ulvs');
const config = join(work, 'lab-dr.yaml');

t.before(async () => {
  const ms = await ensurePackage();
  t.comment(ms ? `package built in ${(ms / 1000).toFixed(1)} s` : 'package reused');
  copyFileSync(EXECUTABLE, exe);
  chmodSync(exe, 0o755);
  copyFileSync(join(REPO, 'configs/lab-dr.yaml'), config);
  chmodSync(config, 0o644);
});
t.teardown(async () => {
  await destroyLab({ prefix: PREFIX_HIDDEN });
  await destroyLab({ prefix: PREFIX_CAPS });
  await destroyLab({ prefix: PREFIX_NAT });
  rmSync(work, { recursive: true, force: true });
});

/** A bash script run with `unshare -m`: node and the checkout are empty there. */
function hiddenScript(notifySocket: string, notifyLog: string): string {
  return `set -u
mount --make-rprivate /
empty=${work}/empty; mkdir -p "$empty"; : > "$empty.file"
mount --bind "$empty.file" ${process.execPath}
mount --bind "$empty" ${REPO}
trap '${exe} lab down -p ${PREFIX_HIDDEN} >/dev/null 2>&1; [ -n "\${dpid:-}" ] && kill \$dpid 2>/dev/null' EXIT
node --version >/dev/null 2>&1 && { echo "FAIL: node still runs"; exit 1; }
[ -e ${REPO}/package.json ] && { echo "FAIL: checkout visible"; exit 1; }
${exe} lab up -p ${PREFIX_HIDDEN} >/dev/null || { echo "FAIL: lab up"; exit 1; }
ip netns exec ${PREFIX_HIDDEN}dir1 env NOTIFY_SOCKET=${notifySocket} WATCHDOG_USEC=400000 ${exe} run -c ${config} 2>${work}/director.log &
dpid=$!
for i in $(seq 1 600); do grep -q '^READY=1' ${notifyLog} 2>/dev/null && break; sleep 0.1; done
grep -q '^READY=1' ${notifyLog} || { echo "FAIL: no READY=1"; tail -5 ${work}/director.log; exit 1; }
for i in 1 2 3 4 5 6; do ip netns exec ${PREFIX_HIDDEN}client curl -s -m 3 http://198.18.0.100/; done
ip netns exec ${PREFIX_HIDDEN}dir1 ${exe} list -n | grep -c Route
kill -HUP $dpid
for i in $(seq 1 300); do [ "$(grep -c '^READY=1' ${notifyLog})" -ge 2 ] && break; sleep 0.1; done
kill -TERM $dpid; wait $dpid; echo "director exit $?"; dpid=
`;
}

t.test('DR lab with only the executable: no node, no checkout', async (t) => {
  const notifySocket = join(work, 'notify.sock');
  const notifyLog = join(work, 'notify.log');
  // The service manager's end: a unix datagram socket, each message appended to a file.
  const listener = spawnSync('sh', ['-c', `python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print("bound", flush=True)
with open(sys.argv[2], "a") as log:
    while True:
        log.write(s.recv(4096).decode() + "\\n"); log.flush()
' ${notifySocket} ${notifyLog} > ${work}/listener.out 2>&1 & echo $!`], { encoding: 'utf8' });
  const listenerPid = Number(listener.stdout.trim());
  t.teardown(() => { try { process.kill(listenerPid); } catch { /* gone */ } });
  await new Promise<void>((resolve) => { const i = setInterval(() => { try { if (readFileSync(`${work}/listener.out`, 'utf8').includes('bound')) { clearInterval(i); resolve(); } } catch { /* not yet */ } }, 50); });

  const started = Date.now();
  const r = spawnSync('unshare', ['-m', 'bash', '-c', hiddenScript(notifySocket, notifyLog)], { encoding: 'utf8', timeout: 600_000 });
  t.comment(`hidden-node run took ${Date.now() - started} ms`);
  t.notMatch(r.stdout, /FAIL/, `${r.stdout}\n${r.stderr}`);
  const answers = r.stdout.split('\n').filter((l) => /^rs[123]$/.test(l));
  t.equal(answers.length, 6, `six answers through the VIP: ${r.stdout}`);
  t.ok(new Set(answers).size >= 2, 'spread over several real servers');
  t.match(r.stdout, /^3$/m, 'ulvs list shows three Route real servers');
  t.match(r.stdout, /director exit 0/);
  const messages = readFileSync(notifyLog, 'utf8');
  t.match(messages, /^READY=1$/m, 'READY=1');
  t.match(messages, /^WATCHDOG=1$/m, 'WATCHDOG=1 from the main loop');
  t.match(messages, /RELOADING=1[\s\S]*READY=1/, 'RELOADING=1 then READY=1 on SIGHUP');
  t.match(messages, /^STOPPING=1$/m, 'STOPPING=1 on SIGTERM');
  const director = readFileSync(join(work, 'director.log'), 'utf8');
  t.match(director, /packets taken with afxdp/, 'AF_XDP from the executable');
});

t.test('unprivileged user with exactly the director capabilities forwards (DR)', async (t) => {
  const lab = spawnSync(exe, ['lab', 'up', '-p', PREFIX_CAPS], { encoding: 'utf8' });
  t.equal(lab.status, 0, lab.stderr);
  const state = join(work, 'state');
  const runtime = join(work, 'runtime');
  for (const d of [state, runtime]) { mkdirSync(d); chownSync(d, NOBODY, NOBODY); }
  const caps = DIRECTOR_CAPABILITIES.map((c) => `+${c.slice(4).toLowerCase()}`).join(',');
  const log = join(work, 'unpriv.log');
  const script = `ip netns exec ${PREFIX_CAPS}dir1 env ULVS_STATE_DIR=${state} ULVS_RUNTIME_DIR=${runtime} \\
  setpriv --reuid ${NOBODY} --regid ${NOBODY} --clear-groups --inh-caps ${caps} --ambient-caps ${caps} --bounding-set -all,${caps} \\
  ${exe} run -c ${config} 2>${log} & dpid=$!
for i in $(seq 1 600); do grep -q 'director running' ${log} && break; kill -0 $dpid 2>/dev/null || break; sleep 0.1; done
grep -o 'Cap[A-Za-z]*:.*' /proc/$dpid/status
for i in 1 2 3; do ip netns exec ${PREFIX_CAPS}client curl -s -m 3 http://198.18.0.100/; done
ps -o user= -p $dpid
kill -TERM $dpid; wait $dpid; echo "director exit $?"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 300_000 });
  t.equal(r.stdout.split('\n').filter((l) => /^rs[123]$/.test(l)).length, 3, `three answers: ${r.stdout} ${readFileSync(log, 'utf8').slice(-1500)}`);
  t.match(r.stdout, /^nobody$/m, 'the director runs as nobody');
  t.match(r.stdout, /CapEff:\s*000000c000007000/, 'effective set: NET_ADMIN NET_RAW IPC_LOCK PERFMON BPF');
  t.match(r.stdout, /director exit 0/);
  t.match(readFileSync(log, 'utf8'), /packets taken with afxdp/);

  // One capability short: one line naming it, exit 1.
  const short = DIRECTOR_CAPABILITIES.filter((c) => c !== 'CAP_PERFMON').map((c) => `+${c.slice(4).toLowerCase()}`).join(',');
  const r2 = spawnSync('ip', ['netns', 'exec', `${PREFIX_CAPS}dir1`, 'env', `ULVS_RUNTIME_DIR=${runtime}`, 'setpriv', '--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups',
    '--inh-caps', short, '--ambient-caps', short, exe, 'run', '-c', config], { encoding: 'utf8' });
  t.equal(r2.status, 1);
  t.equal(r2.stderr, 'ulvs: ulvs run needs CAP_PERFMON: run as root or grant it\n');
  writeFileSync(join(work, 'done'), '');
});

t.test('unprivileged with the capabilities: NAT forwards, VRRP speaks and takes the VIP', async (t) => {
  const lab = spawnSync(exe, ['lab', 'up', '--nat', '-p', PREFIX_NAT], { encoding: 'utf8' });
  t.equal(lab.status, 0, lab.stderr);
  // lab-nat.yaml with the VIP held by a VRRP instance instead of statically.
  const nat = readFileSync(join(REPO, 'configs/lab-nat.yaml'), 'utf8')
    .replace('  - { address: 198.18.0.100/32, dev: eth0 }\n', '')
    .replace('virtual_servers:', `vrrp_instances:
  - name: VI_1
    state: MASTER
    interface: eth0
    virtual_router_id: 80
    priority: 100
    advert_int: 1
    virtual_ipaddress: [198.18.0.100/32]

virtual_servers:`);
  const natConfig = join(work, 'nat-vrrp.yaml');
  writeFileSync(natConfig, nat);
  chmodSync(natConfig, 0o644);
  const state = join(work, 'state-nat');
  const runtime = join(work, 'runtime-nat');
  for (const d of [state, runtime]) { mkdirSync(d); chownSync(d, NOBODY, NOBODY); }
  const caps = DIRECTOR_CAPABILITIES.map((c) => `+${c.slice(4).toLowerCase()}`).join(',');
  const log = join(work, 'unpriv-nat.log');
  const script = `ip netns exec ${PREFIX_NAT}dir1 env ULVS_STATE_DIR=${state} ULVS_RUNTIME_DIR=${runtime} \\
  setpriv --reuid ${NOBODY} --regid ${NOBODY} --clear-groups --inh-caps ${caps} --ambient-caps ${caps} --bounding-set -all,${caps} \\
  ${exe} run -c ${natConfig} 2>${log} & dpid=$!
for i in $(seq 1 900); do ip netns exec ${PREFIX_NAT}dir1 ip -o addr show dev eth0 | grep -q 198.18.0.100 && break; kill -0 $dpid 2>/dev/null || break; sleep 0.1; done
ip netns exec ${PREFIX_NAT}client timeout 20 tshark -l -n -i eth0 -c 2 -f 'ip proto 112' -T fields -e ip.src -e vrrp.virt_rtr_id -e vrrp.prio 2>/dev/null
for i in 1 2 3; do ip netns exec ${PREFIX_NAT}client curl -s -m 3 http://198.18.0.100/client; done
kill -TERM $dpid; wait $dpid; echo "director exit $?"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 300_000 });
  const detail = `${r.stdout} ${readFileSync(log, 'utf8').slice(-1500)}`;
  t.match(r.stdout, /^198\.18\.0\.2\t80\t100$/m, `VRRP adverts from dir1 (vrid 80, priority 100) decoded by tshark: ${detail}`);
  const answers = r.stdout.split('\n').filter((l) => /^198\.18\.0\.1:\d+$/.test(l));
  t.equal(answers.length, 3, `NAT: three answers, the real servers see the client's address: ${detail}`);
  t.match(r.stdout, /director exit 0/);
});
