// dataplane.busy_poll in the lab over AF_XDP: each mode forwards real TCP through the VIP; true
// sets the busy-poll socket options (read back from the socket and logged) and its worker spins
// while idle (the director's CPU time over an idle second, against false's, measured in this
// run); adaptive goes back to sleep once traffic stops. busy_poll_spin_us is acted on (adaptive).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, destroyLab, sleep } from '../../src/lab/index.js';
import { REPO, httpFrom, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const PREFIX = 'hbbp-';
const IDLE_WINDOW_MS = 1000;
const TICKS_PER_SECOND = 100;  // USER_HZ: /proc/PID/stat's utime and stime unit

/** The process's CPU time (all threads: utime + stime) in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function idleCpu(director: RunningDirector): Promise<number> {
  const pid = director.process.pid!;
  const before = cpuSeconds(pid);
  const start = performance.now();
  await sleep(IDLE_WINDOW_MS);
  return (cpuSeconds(pid) - before) / ((performance.now() - start) / 1000);
}

t.test('busy_poll false, true, adaptive: forwarding, socket options, idle CPU', async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => {
    await director?.stop();
    await destroyLab({ prefix: PREFIX });
  });
  const lab = await createLab({ prefix: PREFIX });
  const sample = readFileSync(join(REPO, 'configs', 'lab-dr.yaml'), 'utf8');
  const idle: Record<string, number> = {};
  const modes = [['false', ''], ['true', ''], ['adaptive', '\n  busy_poll_spin_us: 300']] as const;
  for (const [mode, extra] of modes) {
    const config = writeConfig(sample.replace(/io: auto/, `io: afxdp\n  busy_poll: ${mode}${extra}`));
    director = await startDirector(lab.nodes.dir1.name, config);
    t.match(director.log(), /packets taken with afxdp/, `${mode}: AF_XDP`);
    if (mode === 'false') t.notMatch(director.log(), /busy_poll/, 'false: no busy-poll socket options asked for');
    else {
      t.match(director.log(), /busy_poll \w+: SO_PREFER_BUSY_POLL 1, SO_BUSY_POLL 50 us, SO_BUSY_POLL_BUDGET (64|set \(not readable on this kernel\)) \(read back from the socket\)/,
        `${mode}: the kernel took the busy-poll options (read back)`);
    }
    const r = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 20, 'new');
    t.equal(r.bodies.filter((b) => /^rs[123]$/.test(b)).length, 20, `${mode}: 20 new TCP connections through the VIP answered`);
    const stats = JSON.parse((await ulvsIn(lab.nodes.dir1.name, ['stats', '--json'])).stdout) as Record<string, number>;
    t.ok(stats.residence_packets >= stats.rx && stats.rx > 0, `${mode}: every received packet's residence recorded (${stats.residence_packets})`);
    t.ok(stats.residence_p50_us > 0 && stats.residence_p50_us <= stats.residence_p99_us && stats.residence_p99_us <= stats.residence_p999_us,
      `${mode}: residence p50 ${stats.residence_p50_us} <= p99 ${stats.residence_p99_us} <= p99.9 ${stats.residence_p999_us} us`);
    idle[mode] = await idleCpu(director);
    t.comment(`${mode}: idle CPU ${idle[mode].toFixed(3)} s/s`);
    t.equal(await director.stop(), 0, `${mode}: stops cleanly`);
    director = null;
  }
  // Wide margins: a spinning worker holds a core when it gets one; on a busy machine (2 cores,
  // several test runs) it may get a fraction. A sleeping director wakes 100 times a second.
  t.ok(idle.true > 0.15, `true: the worker spins while idle (${idle.true.toFixed(3)} s of CPU per s)`);
  t.ok(idle.true > 4 * idle.false, `true spins (${idle.true.toFixed(3)}) where false sleeps (${idle.false.toFixed(3)})`);
  t.ok(idle.adaptive < idle.true / 2, `adaptive sleeps once idle (${idle.adaptive.toFixed(3)} against true's ${idle.true.toFixed(3)})`);
});
