// HealthManager.checkerStatus (ulvs status --json): state, last result and when, last change,
// rise/fall and the streaks, with an injected runner on a manual clock.
import t from 'tap';
import { HealthManager, type CheckDefinition } from '../../src/health/manager.js';
import type { CheckResult } from '../../src/health/types.js';
import { ManualClock } from '../support/manual-clock.js';

t.test('a checker that fails twice (fall 2) goes down; status says when and why', async (t) => {
  let ok = true;
  const runner = async (): Promise<CheckResult> => (ok ? { ok: true, reason: 'connected' } : { ok: false, reason: 'connection refused' });
  const defs: CheckDefinition[] = [{ serviceId: 'web', rsKey: '198.18.0.10:80', target: { ip: '198.18.0.10', port: 80 }, type: 'tcp_check',
    params: { delay_loop: 1, warmup: 0, connect_timeout: 0.5, retry: 0, rise: 2, fall: 2 } }];
  const clock = new ManualClock();
  const hm = new HealthManager(defs, { clock, runner });
  t.teardown(() => hm.stop());
  t.match(hm.checkerStatus(), [{ type: 'tcp_check', target: '198.18.0.10:80', realServers: ['198.18.0.10:80'], up: true, runs: 0, lastResult: null, lastChange: null, rise: 2, fall: 2 }]);
  hm.start();
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  await clock.advance(1500, settle);
  t.match(hm.checkerStatus()[0], { up: true, lastResult: { ok: true, reason: 'connected' }, lastChange: null });
  ok = false;
  await clock.advance(1000, settle);
  t.match(hm.checkerStatus()[0], { up: true, failStreak: 1, lastResult: { ok: false, reason: 'connection refused' } }, 'one failure of fall 2');
  await clock.advance(1000, settle);
  const s = hm.checkerStatus()[0];
  t.equal(s.up, false, 'down after the second');
  t.type(s.lastChange, 'string', 'with the time it changed');
  t.ok(!Number.isNaN(Date.parse(s.lastResult!.at)), 'and of the last result');
});
