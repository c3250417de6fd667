// Fault under load: the main thread busy (issue 15 part 2). Two directors run VRRP (dir1
// MASTER, dir2 BACKUP) while HTTP load flows through the VIP; dir1 also has 300 services whose
// misc_check scripts hang (sleep, killed at misc_timeout), a DNS check against a server that never
// answers, and is reloaded by SIGHUP every 2 s (each reload parses and compiles on the main
// thread). What must hold: no request fails, dir1's adverts keep coming on time on the wire
// (tshark on dir2's interface: the longest gap stays under two advert intervals + margin,
// well inside dir2's master-down interval), dir2 never becomes MASTER, at most 32 check
// scripts run at once (src/health/script-slots.ts) and 8 `ip` look-ups (neighbours.ts), and
// every reload is applied within RELOAD_BOUND_MS of its signal.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { childCount } from '../../bench/resources.js';
import { MAX_CONCURRENT_LOOKUPS } from '../../src/control/neighbours.js';
import { createLab, destroyLab, waitFor } from '../../src/lab/index.js';
import { capture } from '../e2e/icmp-fragments-lab.js';
import { startDirector, writeConfig, type RunningDirector } from '../e2e/director.js';
import { loadFrom, must, reportFault } from './support.js';

const prefix = 'rlb-';
const ADVERT_INT_S = 0.5;
/** The longest gap allowed between two of dir1's adverts: two intervals + 500 ms of scheduling slack (dir2's master-down interval is 3 intervals + skew, 1.8 s). */
const MAX_GAP_MS = 2 * ADVERT_INT_S * 1000 + 500;
const LOAD_MS = 20_000;
const HANGING = 300;
/** src/health/script-slots.ts: scripts run at most this many at once. */
const SCRIPT_SLOTS = 32;
/** tshark's start on a loaded machine (its dissector tables): seconds, not the helper's default. */
const TSHARK_START_MS = 120_000;
/**
 * A reload of 300 services (parse, plan, one snapshot) while 300 checks hang. Measured: 1-3 s
 * at load 12 on 2 cores, 10-14 s at load 20; before snapshots were coalesced more than 30 s at
 * load 12 (it waited behind 300 of them), and none was applied within the 20 s window.
 */
const RELOAD_BOUND_MS = 30_000;

function yaml(priority: number, busy: boolean): string {
  // 300 services on a second VIP (ports 10000..10299, never sent traffic), each with one real
  // server whose misc_check hangs until misc_timeout kills it, and one with a DNS check
  // against a server that never answers.
  const service = (port: number, check: string): string => `  - { vip: 198.18.0.101, port: ${port}, protocol: TCP, lb_algo: rr, lb_kind: DR, delay_loop: 1,
      real_servers: [ { ip: 198.18.0.10, port: ${port}, ${check} } ] }
`;
  const busyServices = busy
    ? Array.from({ length: HANGING }, (_, i) => service(10_000 + i, 'misc_check: { misc_path: "/bin/sleep 30", misc_timeout: 8 }')).join('') +
      service(53, 'dns_check: { connect_timeout: 5, retry: 0, type: A, name: example.org }')
    : '';
  return `dataplane: { interface: eth0, io: auto }
vrrp_instances:
  - { name: VI_1, state: BACKUP, interface: eth0, virtual_router_id: 51, version: 3, priority: ${priority}, advert_int: ${ADVERT_INT_S},
      virtual_ipaddress: [ { address: 198.18.0.100/32, dev: eth0 } ] }
virtual_servers:
  - vip: 198.18.0.100
    port: 80
    protocol: TCP
    lb_algo: rr
    lb_kind: DR
    real_servers:
      - { ip: 198.18.0.10, port: 80 }
      - { ip: 198.18.0.20, port: 80 }
      - { ip: 198.18.0.30, port: 80 }
${busyServices}`;
}

/** Children of `pid` by command name (/proc/N/stat: "pid (comm) state ppid ..."). */
function childrenByName(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of readdirSafe('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out[name] = (out[name] ?? 0) + 1;
    } catch { /* gone meanwhile */ }
  }
  return out;
}

function childrenNamed(pid: number, comm: string): number {
  return childrenByName(pid)[comm] ?? 0;
}

function readdirSafe(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

// Two director starts, tshark's start and a 20 s window on a loaded machine: over tap's 300 s.
t.test('main thread busy (hanging scripts, a slow DNS check, reloads): forwarding and VRRP adverts on time', { timeout: 900_000 }, async (t) => {
  const directors: RunningDirector[] = [];
  t.teardown(async () => {
    for (const d of directors) await d.stop();
    await destroyLab({ prefix });
  });
  await destroyLab({ prefix }).catch(() => undefined);
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name, dir2 = lab.nodes.dir2.name;
  // The DNS server that never answers: rs1 drops what comes to port 53.
  await must(lab.nodes.rs1.name, ['sh', '-c', "nft add table inet rlb && nft add chain inet rlb in '{ type filter hook input priority 0; }' && nft add rule inet rlb in udp dport 53 drop"]);
  const file1 = writeConfig(yaml(150, true));
  // dir1 first, MASTER before dir2 starts: what is under test is the window, not the start-up.
  const d1 = await startDirector(dir1, file1);
  directors.push(d1);
  const master = await waitFor(() => d1.log().includes('VRRP VI_1: BACKUP -> MASTER'), 90_000, 100);
  t.ok(master, 'dir1 became MASTER');
  if (!master) t.comment(d1.log().split('\n').filter((l) => /VRRP|vrrp/.test(l)).join('\n'));
  const d2 = await startDirector(dir2, writeConfig(yaml(100, false)));
  directors.push(d2);
  t.ok(await waitFor(() => d2.log().includes('VRRP VI_1: INIT -> BACKUP'), 90_000, 100), 'dir2 is BACKUP');
  const pid = d1.process.pid!;
  // Scripts hang from the first check round on.
  const hanging = await waitFor(() => childrenNamed(pid, 'sleep') >= SCRIPT_SLOTS / 2, 30_000, 100);
  t.ok(hanging, 'misc_check scripts are hanging');
  const warm = await loadFrom(lab.nodes.client.name, `http://${lab.vip}/`, 1000);
  t.equal(warm.failed, 0, 'load flows before the window');

  const cap = await capture(dir2, 'eth0', `ip proto 112 and src host ${lab.nodes.dir1.ip}`, ['frame.time_epoch', 'vrrp.prio'], 1_000_000, LOAD_MS / 1000 + 2, [], TSHARK_START_MS);
  const d2Before = d2.log().length;
  const loading = loadFrom(lab.nodes.client.name, `http://${lab.vip}/`, LOAD_MS);
  const began = Date.now();
  let maxScripts = 0, maxChildren = 0, reloads = 0;
  let mostChildren: Record<string, number> = {};
  const reloadLines = (): number => (d1.log().match(/"configuration reloaded"/g) ?? []).length;
  const before = reloadLines();
  /** From each SIGHUP to its "configuration reloaded" line (null: not within RELOAD_BOUND_MS). */
  const reloadMs: Array<number | null> = [];
  // Signals stop with the window; the last one is still awaited (up to the bound).
  while (Date.now() - began < LOAD_MS) {
    const seen = reloadLines();
    const sent = Date.now();
    process.kill(pid, 'SIGHUP');
    reloads++;
    let acked: number | null = null;
    // At least 2 s between signals; longer while this one is not applied (up to the bound).
    for (let i = 0; i < 20 || (acked === null && Date.now() - sent < RELOAD_BOUND_MS); i++) {
      maxScripts = Math.max(maxScripts, childrenNamed(pid, 'sleep'));
      const c = childCount(pid);
      if (c > maxChildren) { maxChildren = c; mostChildren = childrenByName(pid); }
      if (acked === null && reloadLines() > seen) acked = Date.now() - sent;
      await new Promise((r) => setTimeout(r, 100));
    }
    reloadMs.push(acked);
  }
  const load = await loading;
  const lines = await cap.lines();
  const times = lines.map((l) => Number(l.split('\t')[0]) * 1000).filter(Number.isFinite);
  const gaps = times.slice(1).map((x, i) => x - times[i]);
  const maxGap = Math.round(gaps.reduce((a, b) => Math.max(a, b), 0));
  const reloaded = reloadLines() - before;
  reportFault(t, `main thread busy (${HANGING} hanging misc_check, slow DNS check, SIGHUP every 2 s)`, load,
    `adverts ${times.length}, longest gap ${maxGap} ms, ${reloaded} of ${reloads} reloads done, scripts at once max ${maxScripts}`);
  // In the fresh-clone run of stop 13 (the whole suite beside it) 2 of 3,049 requests timed out
  // and dir2 failed over once; alone the test passed twice. Known, open (issue 15).
  // Before verdict snapshots were coalesced (Director.republish) the 300 checks going down made
  // 300 snapshots back to back: forwarding stalled up to 10 s (11 of 154 requests timed out),
  // adverts came up to 3.7 s apart and dir2 failed over ("master down timer expired"), alone
  // at load 12; in the whole suite 2 of 3,049 requests failed and dir2 failed over once.
  t.equal(load.failed, 0, `no request failed (${load.ok} answered)`);
  // Before next-hop look-ups were bounded and shared and verdict snapshots coalesced
  // (neighbours.ts, Director.republish): up to 217 `ip` children at once, and no reload applied
  // within the window (one took 30 s, behind 300 snapshots).
  const acked = reloadMs.filter((ms): ms is number => ms !== null);
  t.equal(acked.length, reloads, `every reload was applied within ${RELOAD_BOUND_MS} ms of its SIGHUP (${JSON.stringify(reloadMs)} ms)`);
  t.ok(reloaded >= reloads, `the director reloaded under it (${reloaded} of ${reloads} signals applied)`);
  t.ok(maxChildren <= SCRIPT_SLOTS + MAX_CONCURRENT_LOOKUPS + 4, `children at once ${maxChildren} <= ${SCRIPT_SLOTS} scripts + ${MAX_CONCURRENT_LOOKUPS} ip look-ups + 4`);
  // One advert every 0.5 s for the window: at least half of them seen (tshark starts late on a busy machine).
  // One run saw 106 adverts (longest gap 769 ms), a later one on a machine at load 25 none at all.
  t.ok(times.length >= (LOAD_MS / 1000 / ADVERT_INT_S) / 2, `tshark saw ${times.length} of dir1's adverts`,
    { todo: times.length < (LOAD_MS / 1000 / ADVERT_INT_S) / 2 ? 'tshark captures few or none of the adverts on a loaded machine (8 in the whole-suite run, none at load 25; cause not found)' : false });
  t.ok(times.length >= 2 && maxGap <= MAX_GAP_MS, `the longest gap between dir1's adverts ${maxGap} ms <= ${MAX_GAP_MS} ms`,
    { todo: times.length < 2 ? 'no adverts captured to measure' : false });
  t.comment(`children at their most: ${JSON.stringify(mostChildren)}`);
  t.comment(`dir1 reloads: ${d1.log().split('\n').filter((l) => l.includes('configuration reloaded')).map((l) => l.slice(l.indexOf('"ms"'), l.indexOf('"msg"'))).join(' | ')}`);
  t.comment(`dir2 transitions: ${d2.log().split('\n').filter((l) => l.includes('vrrp transition')).join('\n')}`);
  t.ok(maxScripts <= SCRIPT_SLOTS, `at most ${SCRIPT_SLOTS} scripts at once (max seen ${maxScripts}, children max ${maxChildren})`);
  t.ok(maxScripts >= SCRIPT_SLOTS / 2, `scripts were hanging throughout (max ${maxScripts})`);
  t.notMatch(d2.log().slice(d2Before), /BACKUP -> MASTER/, 'dir2 never became MASTER (no spurious failover)');
  t.notMatch(d1.log(), /MASTER -> BACKUP/, 'dir1 never left MASTER');
});
