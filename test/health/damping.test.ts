// Damping core (keepalived retry/alpha/warmup + ulvs rise/fall) and quorum/sorry-server, pure.
import t from 'tap';
import fc from 'fast-check';
import {
  applyProbeResult, dampingConfig, firstProbeAt, initialDampingState, detectionBoundMs,
  type DampingConfig, type DampingState,
} from '../../src/health/damping.js';
import { initialQuorumUp, liveWeight, nextQuorumState, sorryServerActive } from '../../src/health/quorum.js';

const ok = { ok: true, reason: 'ok' };
const bad = { ok: false, reason: 'bad' };

function cfgOf(p: Partial<DampingConfig>): DampingConfig {
  return { delayLoopMs: 6000, retry: 0, delayBeforeRetryMs: 1000, warmupMs: 0, alpha: false, rise: 1, fall: 1, logAllFailures: false, ...p };
}

/** Feed attempts; return the `up` after each and the delays asked for. */
function run(cfg: DampingConfig, attempts: boolean[]): { ups: boolean[]; delays: number[]; changes: number[] } {
  let s: DampingState = initialDampingState(cfg);
  let now = 0;
  const ups: boolean[] = []; const delays: number[] = []; const changes: number[] = [];
  attempts.forEach((a, i) => {
    const step = applyProbeResult(cfg, s, a ? ok : bad, now);
    delays.push(step.nextAt - now);
    now = step.nextAt;
    if (step.changed) changes.push(i);
    s = step.state;
    ups.push(s.up);
  });
  return { ups, delays, changes };
}

/** Oracle in another style: one "disagreement streak" instead of separate ok/fail streaks. */
function oracle(cfg: DampingConfig, attempts: boolean[]): { ups: boolean[]; delays: number[] } {
  let up = !cfg.alpha;
  let fresh = true;
  let pending = 0;
  let disagree = 0;
  const ups: boolean[] = []; const delays: number[] = [];
  for (const a of attempts) {
    if (!a && (up || fresh) && pending < cfg.retry) {
      pending++;
      ups.push(up); delays.push(cfg.delayBeforeRetryMs);
      continue;
    }
    pending = 0; fresh = false;
    if (a === up) disagree = 0;
    else if (++disagree >= (a ? cfg.rise : cfg.fall)) { up = a; disagree = 0; }
    ups.push(up); delays.push(cfg.delayLoopMs);
  }
  return { ups, delays };
}

const arbCfg = fc.record({
  retry: fc.integer({ min: 0, max: 3 }),
  rise: fc.integer({ min: 1, max: 4 }),
  fall: fc.integer({ min: 1, max: 4 }),
  alpha: fc.boolean(),
}).map((p) => cfgOf(p));

t.test('keepalived defaults', async (t) => {
  t.same(dampingConfig('tcp_check', {}), { delayLoopMs: 60000, retry: 1, delayBeforeRetryMs: 1000, warmupMs: 60000, alpha: false, rise: 1, fall: 1, logAllFailures: false });
  t.equal(dampingConfig('http_get', {}).delayBeforeRetryMs, 3000);
  t.equal(dampingConfig('dns_check', { delay_loop: 6 }).delayBeforeRetryMs, 6000);
  t.equal(dampingConfig('dns_check', {}).retry, 3);
  t.equal(dampingConfig('misc_check', {}).retry, 0);
  t.equal(dampingConfig('tcp_check', { nb_get_retry: 3 }).retry, 3, 'nb_get_retry is retry');
  t.equal(dampingConfig('tcp_check', { nb_get_retry: 3, retry: 2 }).retry, 2, 'retry wins');
  t.equal(dampingConfig('tcp_check', { delay_loop: 2, warmup: 0 }).warmupMs, 0);
  t.equal(dampingConfig('tcp_check', { delay_loop: 2.5 }).delayLoopMs, 2500, 'fractional seconds');
  t.equal(dampingConfig('tcp_check', { rise: 0, fall: -1 }).rise, 1, 'rise/fall at least 1');
});

t.test('implementation equals the oracle on any attempt sequence', async (t) => {
  fc.assert(fc.property(arbCfg, fc.array(fc.boolean(), { maxLength: 60 }), (cfg, attempts) => {
    const a = run(cfg, attempts);
    const o = oracle(cfg, attempts);
    return JSON.stringify(a.ups) === JSON.stringify(o.ups) && JSON.stringify(a.delays) === JSON.stringify(o.delays);
  }), { numRuns: 2000 });
  t.pass('2000 random configs and sequences agree');
});

t.test('rise/fall: a change needs exactly rise/fall consecutive cycle results', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), (rise, fall) => {
    const cfg = cfgOf({ rise, fall });
    const down = run(cfg, Array(fall).fill(false));
    if (down.ups.slice(0, fall - 1).some((u) => !u)) return false; // fall-1 failures: still up
    if (down.ups[fall - 1]) return false; // the fall-th: down
    const back = run(cfg, [...Array(fall).fill(false), ...Array(rise).fill(true)]);
    if (back.ups.slice(fall, fall + rise - 1).some((u) => u)) return false;
    return back.ups[fall + rise - 1] === true;
  }));
  t.pass();
});

t.test('rise/fall stop a flapping server from flapping the table', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 2, max: 5 }), fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 30 }), (rise, fall, runs) => {
    // runs alternate fail/ok, each shorter than the threshold that would flip the state.
    const attempts: boolean[] = [];
    runs.forEach((len, i) => {
      const v = i % 2 === 1;
      const n = Math.min(len, (v ? rise : fall) - 1);
      for (let k = 0; k < n; k++) attempts.push(v);
    });
    const r = run(cfgOf({ rise, fall }), attempts);
    return r.changes.length === 0 && r.ups.every((u) => u);
  }));
  const flappy = run(cfgOf({}), [false, true, false, true]);
  t.equal(flappy.changes.length, 4, 'with keepalived\'s rise=fall=1 every flap reaches the table');
  const damped = run(cfgOf({ rise: 2, fall: 2 }), [false, true, false, true]);
  t.equal(damped.changes.length, 0, 'rise=fall=2 absorbs it');
});

t.test('retry: an up server is retried delay_before_retry apart, a down one is not', async (t) => {
  const cfg = cfgOf({ retry: 3 });
  const r = run(cfg, [false, false, false, false, false, false]);
  t.same(r.ups, [true, true, true, false, false, false], 'down after 1 + retry failed probes');
  t.same(r.delays, [1000, 1000, 1000, 6000, 6000, 6000], 'retries at delay_before_retry, then delay_loop');
  const recovered = run(cfg, [false, false, true, false]);
  t.same(recovered.ups, [true, true, true, true], 'a success ends the cycle and resets the retries');
  t.same(recovered.delays, [1000, 1000, 6000, 1000]);
  fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), (retry) => {
    const c = cfgOf({ retry });
    const seq = run(c, Array(retry + 1).fill(false));
    return seq.ups.slice(0, retry).every((u) => u) && seq.ups[retry] === false;
  }));
  t.equal(detectionBoundMs(cfgOf({ retry: 3, delayLoopMs: 6000, delayBeforeRetryMs: 3000 }), 3000), 6000 + 3000 * 4 + 3 * 3000,
    'delay_loop + connect_timeout x (retry+1) + retry x delay_before_retry');
});

t.test('alpha starts down; without alpha a server starts up; first probe is retried either way', async (t) => {
  const alpha = cfgOf({ alpha: true, retry: 1 });
  t.equal(initialDampingState(alpha).up, false);
  t.equal(initialDampingState(cfgOf({})).up, true);
  const r = run(alpha, [false, false, false, true]);
  t.same(r.ups, [false, false, false, true]);
  t.same(r.delays, [1000, 6000, 6000, 6000], 'never-checked server gets its retries (keepalived has_run)');
  t.same(r.changes, [3], 'the first success is the only change');
});

t.test('weights from dynamic checkers', async (t) => {
  const cfg = cfgOf({});
  let s = initialDampingState(cfg);
  let step = applyProbeResult(cfg, s, { ok: true, weight: 5, reason: '' }, 0);
  t.ok(step.changed, 'weight appeared');
  s = step.state;
  step = applyProbeResult(cfg, s, { ok: true, weight: 5, reason: '' }, 0);
  t.notOk(step.changed, 'same weight: no change');
  step = applyProbeResult(cfg, step.state, { ok: true, weight: 7, reason: '' }, 0);
  t.ok(step.changed);
  t.equal(step.state.weight, 7);
});

t.test('warmup: first probe at a random point in [0, warmup)', async (t) => {
  const cfg = cfgOf({ warmupMs: 5000 });
  fc.assert(fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
    const at = firstProbeAt(cfg, 1000, r);
    return at >= 1000 && at < 6000;
  }));
  t.equal(firstProbeAt(cfgOf({ warmupMs: 0 }), 1000, 0.9), 1000, 'warmup 0 disables it');
});

t.test('quorum and hysteresis (keepalived update_quorum_state)', async (t) => {
  t.equal(liveWeight([{ up: true, weight: 2 }, { up: false, weight: 5 }, { up: true, weight: 1 }]), 3);
  t.equal(initialQuorumUp(3, { quorum: 3, hysteresis: 1 }), false, 'start needs quorum + hysteresis');
  t.equal(initialQuorumUp(4, { quorum: 3, hysteresis: 1 }), true);
  const table: Array<[boolean, number, number, number, boolean]> = [
    // wasUp, live, quorum, hysteresis, up after
    [true, 1, 1, 0, true], [true, 0, 1, 0, false], [false, 1, 1, 0, true],
    [true, 2, 3, 1, true], [true, 1, 3, 1, false], [false, 3, 3, 1, false], [false, 4, 3, 1, true],
    [true, 0, 0, 0, false],
  ];
  for (const [wasUp, live, quorum, hysteresis, up] of table) {
    t.equal(nextQuorumState(wasUp, live, { quorum, hysteresis }).up, up, `${wasUp ? 'up' : 'down'} live=${live} q=${quorum} h=${hysteresis}`);
  }
  fc.assert(fc.property(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 40 }), (quorum, h, start, seq) => {
    // weights strictly inside (quorum - h, quorum + h) never change the state (0 always loses it)
    let up = start;
    for (const n of seq) {
      const live = quorum - h + 1 + (n % (2 * h - 1 || 1));
      if (live <= quorum - h || live >= quorum + h || live === 0) continue;
      const s = nextQuorumState(up, live, { quorum, hysteresis: h });
      if (s.changed) return false;
      up = s.up;
    }
    return true;
  }));
  t.equal(sorryServerActive(false, true), true);
  t.equal(sorryServerActive(true, true), false);
  t.equal(sorryServerActive(false, false), false, 'no sorry server configured');
  // default quorum 1: sorry iff no real server (with weight) is up
  fc.assert(fc.property(fc.array(fc.record({ up: fc.boolean(), weight: fc.integer({ min: 1, max: 10 }) })), (servers) => {
    const q = nextQuorumState(true, liveWeight(servers), {}).up;
    return sorryServerActive(q, true) === !servers.some((s) => s.up);
  }));
});
