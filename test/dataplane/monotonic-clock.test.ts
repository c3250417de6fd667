// The wall clock jumps an hour forward and back (an NTP step, `date -s`): connection timeouts,
// persistence templates and VRRP timers must neither fire early nor hang on. The host clock
// cannot be changed safely in a test, so Date is faked (Date.now and new Date() jump) and the
// clocks the timers run on are shown not to move; a second test reads the timer code and
// fails on any Date.now() / new Date() outside the few wall-clock uses listed with a reason.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FlowTable } from '../../src/conntrack/flow-table.js';
import { PersistenceTable } from '../../src/conntrack/persistence.js';
import { nowSeconds } from '../../src/dataplane/clock.js';
import { REPO } from '../e2e/director.js';
import { insertFlow, lookupFlow } from '../conntrack/flow-calls.js';

const HOUR_MS = 3_600_000;

/** Replaces Date with one whose clock is `offset()` ms off the real one; returns the undo. */
function fakeWallClock(offset: () => number): () => void {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class JumpingDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + offset());
      else super(...(args as [number]));
    }
    static now(): number { return realNow() + offset(); }
  }
  globalThis.Date = JumpingDate as DateConstructor;
  return () => { globalThis.Date = RealDate; };
}

t.test('connection timeouts and persistence ignore a wall clock an hour forward and back', async (t) => {
  let jump = 0;
  const restore = fakeWallClock(() => jump);
  t.teardown(restore);
  const templates = new PersistenceTable({ capacity: 16 });
  const flows = new FlowTable({ capacity: 16, timeouts: { udp: 300 }, templates });
  const start = nowSeconds();
  const flow = insertFlow(flows, 17, 0xc6120001, 5000, 0xc6120064, 53, 1, 1, 0xc612000a, 53, start, false);
  t.ok(flow >= 0, 'a UDP flow (timeout 300 s) is tracked');
  const tpl = templates.insert(1, 0xc6120001, 1, 360, start, 6, 0xc6120064, 80, 0xc612000a, 80);
  t.ok(tpl >= 0, 'a persistence template (360 s) is tracked');

  for (const [what, ms] of [['forward', HOUR_MS], ['back', -HOUR_MS], ['forward again', HOUR_MS]] as const) {
    jump = ms;
    t.equal(Math.round((Date.now() - Date.now() + ms) / HOUR_MS), Math.sign(ms), `the fake wall clock is an hour ${what}`);
    t.ok(Math.abs(new Date().getTime() - performance.timeOrigin - performance.now() - ms) < 1000, 'new Date() jumps with it');
    const now = nowSeconds();
    t.ok(now - start >= 0 && now - start < 5, `the dataplane clock did not jump (${now - start} s since the start)`);
    flows.expireSome(now, 1000);
    templates.expireSome(now, 1000);
    t.equal(lookupFlow(flows, 17, 0xc6120001, 5000, 0xc6120064, 53, now), flow, `the flow is still tracked after the jump ${what}`);
    t.equal(templates.lookup(1, 0xc6120001, now), tpl, `the template is still there after the jump ${what}`);
  }
  t.equal(flows.stats.expired, 0, 'nothing expired early');
});

// Files whose timers decide when something expires or fires. Wall-clock uses are allowed
// only where they are shown to people (status, alert mails, logs), listed here with the line.
const TIMER_CODE = ['src/conntrack', 'src/dataplane', 'src/vrrp', 'src/sync', 'src/schedulers', 'src/health',
  'src/control/neighbours.ts', 'src/control/worker-pool.ts'];
const WALL_CLOCK_ALLOWED: Record<string, RegExp> = {
  // When the instance last moved, for `ulvs status` (a date people read); timers use performance.now().
  'src/vrrp/speaker.ts': /inst\.wallTransitionAt = Date\.now\(\)/,
  'src/vrrp/status.ts': /.*/,
  // The health clock's now() dates events for alert mails; every timer is armed with a delay
  // computed from two readings in the same call (nextAt - now), so a jump between calls cannot move it.
  'src/health/clock.ts': /now: \(\) => Date\.now\(\)/,
  'src/health/manager.ts': /p\.lastRunAt = Date\.now\(\)/,
};

function sources(path: string): string[] {
  const full = join(REPO, path);
  if (path.endsWith('.ts')) return [path];
  return readdirSync(full, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(path, f));
}

t.test('timer code reads the monotonic clock, not Date', async (t) => {
  const offenders: string[] = [];
  let files = 0;
  for (const file of TIMER_CODE.flatMap(sources)) {
    files++;
    readFileSync(join(REPO, file), 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '').replace(/^\s*\/?\*.*$/, '');
      if (!/Date\.now\(\)|new Date\(\)/.test(code)) return;
      if (WALL_CLOCK_ALLOWED[file]?.test(code)) return;
      offenders.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  t.ok(files > 50, `${files} files read`);
  t.same(offenders, [], 'no Date.now() / new Date() in timer code (use performance.now())');
  const speaker = readFileSync(join(REPO, 'src/vrrp/speaker.ts'), 'utf8');
  t.match(speaker, /step\(inst\.params, inst\.runtime, ev, performance\.now\(\)\)/, 'the VRRP state machine steps on performance.now()');
  t.match(speaker, /setTimeout\([^]*?at - performance\.now\(\)/, 'VRRP timers are armed from performance.now()');
  t.match(readFileSync(join(REPO, 'src/dataplane/worker.ts'), 'utf8'), /import \{ nowSeconds \} from '\.\/clock\.js'/, 'the worker expires flows by the monotonic dataplane clock');
});
