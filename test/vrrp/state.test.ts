import t from 'tap';
import fc from 'fast-check';

import {
  initialRuntime, masterDownIntervalMs, skewTimeMs, step,
  type InstanceParams, type InstanceRuntime, type VrrpAction, type VrrpEvent,
} from '../../src/vrrp/state.js';
import { RiseFall, effectivePriority } from '../../src/vrrp/tracking.js';

const ME = 0xc6120002;
const LOWER_IP = 0xc6120001;
const HIGHER_IP = 0xc6120003;

const base: InstanceParams = {
  version: 2, advertIntervalCs: 100, priority: 100, basePriority: 100, preempt: true,
  preemptDelayMs: 0, initialState: 'BACKUP', primaryIp: ME,
};

function run(params: InstanceParams, events: VrrpEvent[], times?: number[]): { rt: InstanceRuntime; actions: VrrpAction[][] } {
  let rt = initialRuntime(params);
  const actions: VrrpAction[][] = [];
  events.forEach((ev, i) => {
    const r = step(params, rt, ev, times?.[i] ?? 0);
    rt = r.runtime;
    actions.push(r.actions);
  });
  return { rt, actions };
}

const types = (a: VrrpAction[]): string[] => a.map((x) => x.type);

t.test('timing formulas (RFC 3768 6.1, RFC 5798 6.1)', async (t) => {
  t.equal(skewTimeMs(base, 100), (156 / 256) * 1000);
  t.equal(masterDownIntervalMs(base, 100), 3000 + (156 / 256) * 1000);
  const v3 = { ...base, version: 3 as const, advertIntervalCs: 10 };
  // v3 uses the Master's interval, in centiseconds: 3*10cs + (156*10/256)cs.
  t.equal(masterDownIntervalMs(v3, 10), 300 + (156 * 10 * 10) / 256);
  t.equal(masterDownIntervalMs(v3, 100), 3000 + (156 * 100 * 10) / 256, 'a slower master stretches the interval');
  t.equal(masterDownIntervalMs({ ...base, priority: 254 }, 100), 3000 + (2 / 256) * 1000, 'higher priority takes over sooner');
});

t.test('Init: priority 255 owner goes straight to MASTER (6.4.1)', async (t) => {
  const { rt, actions } = run({ ...base, priority: 255, basePriority: 255 }, [{ type: 'startup' }], [1000]);
  t.equal(rt.state, 'MASTER');
  t.same(types(actions[0]), ['sendAdvert', 'addVips', 'sendGarp', 'setTimer', 'notify']);
  t.same(actions[0][3], { type: 'setTimer', at: 2000 });
  t.equal(rt.masterIp, ME);
});

t.test('Init: others go to BACKUP with Master_Down_Timer', async (t) => {
  const { rt, actions } = run(base, [{ type: 'startup' }], [1000]);
  t.equal(rt.state, 'BACKUP');
  t.same(actions[0], [{ type: 'setTimer', at: 1000 + masterDownIntervalMs(base, 100) }, { type: 'notify', state: 'BACKUP' }]);
});

t.test('Init: state MASTER is a Backup whose timer expires at once (keepalived)', async (t) => {
  const p = { ...base, initialState: 'MASTER' as const };
  const { rt, actions } = run(p, [{ type: 'startup' }, { type: 'timer' }], [1000, 1000]);
  t.same(actions[0][0], { type: 'setTimer', at: 1000 });
  t.equal(rt.state, 'MASTER');
  t.match(rt.lastTransition, { from: 'BACKUP', to: 'MASTER', reason: /no master heard/ });
});

t.test('Backup: Master_Down_Timer fires -> MASTER, advert + VIPs + GARP', async (t) => {
  const { rt, actions } = run(base, [{ type: 'startup' }, { type: 'timer' }], [0, 3700]);
  t.equal(rt.state, 'MASTER');
  t.same(types(actions[1]), ['sendAdvert', 'addVips', 'sendGarp', 'setTimer', 'notify']);
  t.same(actions[1][0], { type: 'sendAdvert', priority: 100 });
  t.match(rt.lastTransition, { reason: 'master down timer expired' });
});

t.test('Backup: priority-0 advert -> timer set to Skew_Time (6.4.2)', async (t) => {
  const { rt, actions } = run(base, [{ type: 'startup' }, { type: 'advert', priority: 0, srcIp: HIGHER_IP, intervalCs: 100 }], [0, 500]);
  t.same(actions[1], [{ type: 'setTimer', at: 500 + skewTimeMs(base, 100) }]);
  t.equal(rt.state, 'BACKUP');
});

t.test('Backup: higher or equal priority advert resets the timer and records the master', async (t) => {
  for (const priority of [100, 200]) {
    const { rt, actions } = run(base, [{ type: 'startup' }, { type: 'advert', priority, srcIp: HIGHER_IP, intervalCs: 100 }], [0, 500]);
    t.same(actions[1], [{ type: 'setTimer', at: 500 + masterDownIntervalMs(base, 100) }]);
    t.equal(rt.masterIp, HIGHER_IP);
  }
});

t.test('Backup: lower priority advert is ignored with preempt, obeyed with nopreempt', async (t) => {
  const ev: VrrpEvent[] = [{ type: 'startup' }, { type: 'advert', priority: 50, srcIp: LOWER_IP, intervalCs: 100 }];
  t.same(run(base, ev, [0, 500]).actions[1], [], 'preempt: the timer runs on, we will take over');
  t.same(run({ ...base, preempt: false }, ev, [0, 500]).actions[1], [{ type: 'setTimer', at: 500 + masterDownIntervalMs(base, 100) }]);
});

t.test('Backup: preempt_delay tolerates a lower-priority master until it passes', async (t) => {
  const p = { ...base, preemptDelayMs: 10_000 };
  const low = { type: 'advert', priority: 50, srcIp: LOWER_IP, intervalCs: 100 } as const;
  const { actions } = run(p, [{ type: 'startup' }, low, low], [0, 9_000, 10_500]);
  t.same(types(actions[1]), ['setTimer'], 'within the delay: behaves as nopreempt');
  t.same(actions[2], [], 'after the delay: ignored, so it preempts when the timer fires');
});

t.test('v3 Backup adopts the Master advert interval (RFC 5798 6.4.2)', async (t) => {
  const p = { ...base, version: 3 as const, advertIntervalCs: 100 };
  const { rt, actions } = run(p, [{ type: 'startup' }, { type: 'advert', priority: 200, srcIp: HIGHER_IP, intervalCs: 10 }], [0, 1000]);
  t.equal(rt.masterAdverIntervalCs, 10);
  t.same(actions[1], [{ type: 'setTimer', at: 1000 + 300 + (156 * 10 * 10) / 256 }]);
});

t.test('v2 Backup keeps its own interval', async (t) => {
  const { rt } = run(base, [{ type: 'startup' }, { type: 'advert', priority: 200, srcIp: HIGHER_IP, intervalCs: 300 }], [0, 0]);
  t.equal(rt.masterAdverIntervalCs, 100);
});

const toMaster: VrrpEvent[] = [{ type: 'startup' }, { type: 'timer' }];

t.test('Master: Adver_Timer -> advert and rearm (6.4.3)', async (t) => {
  const { rt, actions } = run(base, [...toMaster, { type: 'timer' }], [0, 3700, 4700]);
  t.equal(rt.state, 'MASTER');
  t.same(actions[2], [{ type: 'sendAdvert', priority: 100 }, { type: 'setTimer', at: 5700 }]);
});

t.test('Master: higher priority advert -> BACKUP, VIPs removed', async (t) => {
  const { rt, actions } = run(base, [...toMaster, { type: 'advert', priority: 150, srcIp: LOWER_IP, intervalCs: 100 }], [0, 3700, 4000]);
  t.equal(rt.state, 'BACKUP');
  t.same(types(actions[2]), ['removeVips', 'setTimer', 'notify']);
  t.equal(rt.masterIp, LOWER_IP);
});

t.test('Master: equal priority, the larger primary address wins', async (t) => {
  const higher = run(base, [...toMaster, { type: 'advert', priority: 100, srcIp: HIGHER_IP, intervalCs: 100 }], [0, 3700, 4000]);
  t.equal(higher.rt.state, 'BACKUP');
  const lower = run(base, [...toMaster, { type: 'advert', priority: 100, srcIp: LOWER_IP, intervalCs: 100 }], [0, 3700, 4000]);
  t.equal(lower.rt.state, 'MASTER');
  t.same(types(lower.actions[2]), ['sendAdvert', 'setTimer'], 'asserts itself at once');
});

t.test('Master: priority-0 advert from another -> send an advert at once', async (t) => {
  const { rt, actions } = run(base, [...toMaster, { type: 'advert', priority: 0, srcIp: HIGHER_IP, intervalCs: 100 }], [0, 3700, 4000]);
  t.equal(rt.state, 'MASTER');
  t.same(actions[2], [{ type: 'sendAdvert', priority: 100 }, { type: 'setTimer', at: 5000 }]);
});

t.test('Master: shutdown sends priority 0, drops VIPs, runs notify_stop', async (t) => {
  const { rt, actions } = run(base, [...toMaster, { type: 'shutdown' }], [0, 3700, 4000]);
  t.equal(rt.state, 'INIT');
  t.same(actions[2], [
    { type: 'sendAdvert', priority: 0 }, { type: 'removeVips' }, { type: 'cancelTimer' }, { type: 'notify', state: 'STOP' },
  ]);
});

t.test('Fault: a MASTER hands over with priority 0; clearing restarts as Init does', async (t) => {
  const { rt, actions } = run(base, [...toMaster, { type: 'fault', why: 'eth0 down' }, { type: 'faultCleared' }], [0, 3700, 4000, 5000]);
  t.same(types(actions[2]), ['sendAdvert', 'removeVips', 'cancelTimer', 'notify']);
  t.same(actions[2][0], { type: 'sendAdvert', priority: 0 });
  t.equal(rt.state, 'BACKUP');
  t.match(rt.lastTransition, { from: 'FAULT', to: 'BACKUP', reason: /fault cleared/ });
});

t.test('Fault at startup: straight from INIT, VIPs never added; clearing starts as Init', async (t) => {
  const owner = { ...base, priority: 255, basePriority: 255 };
  const { rt, actions } = run(owner, [{ type: 'fault', why: 'eth0 down' }, { type: 'startup' }, { type: 'faultCleared' }], [0, 1, 2]);
  t.same(actions[0], [{ type: 'cancelTimer' }, { type: 'notify', state: 'FAULT' }]);
  t.same(actions[1], [], 'startup while FAULT does nothing');
  t.equal(rt.state, 'MASTER');
  t.match(rt.lastTransition, { from: 'FAULT', to: 'MASTER', reason: /fault cleared: address owner/ });
});

t.test('Fault: adverts and timers do nothing while FAULT', async (t) => {
  const { rt, actions } = run(base, [{ type: 'startup' }, { type: 'fault', why: 'x' }, { type: 'timer' },
    { type: 'advert', priority: 200, srcIp: HIGHER_IP, intervalCs: 100 }], [0, 1, 2, 3]);
  t.equal(rt.state, 'FAULT');
  t.same(actions[2], []);
  t.same(actions[3], []);
});

t.test('Sync group: members follow MASTER/BACKUP/FAULT', async (t) => {
  const master = run(base, [{ type: 'startup' }, { type: 'sync', to: 'MASTER', why: 'VG_1' }]);
  t.equal(master.rt.state, 'MASTER');
  t.ok(types(master.actions[1]).includes('addVips'));
  const back = run(base, [...toMaster, { type: 'sync', to: 'BACKUP', why: 'VG_1' }]);
  t.equal(back.rt.state, 'BACKUP');
  t.ok(types(back.actions[2]).includes('removeVips'));
  const fault = run(base, [{ type: 'startup' }, { type: 'sync', to: 'FAULT', why: 'VG_1' }, { type: 'sync', to: 'MASTER', why: 'VG_1' }]);
  t.equal(fault.rt.state, 'FAULT', 'a faulty member does not follow to MASTER');
});

// Property: whatever happens, VIPs are held exactly while MASTER, a MASTER always has its
// Adver_Timer armed within one interval, and priority 0 is sent only when leaving MASTER.
const eventArb: fc.Arbitrary<VrrpEvent> = fc.oneof(
  fc.constant({ type: 'startup' } as VrrpEvent),
  fc.constant({ type: 'shutdown' } as VrrpEvent),
  fc.constant({ type: 'timer' } as VrrpEvent),
  fc.record({ type: fc.constant('advert' as const), priority: fc.integer({ min: 0, max: 255 }),
    srcIp: fc.constantFrom(LOWER_IP, HIGHER_IP), intervalCs: fc.constantFrom(10, 100, 300) }),
  fc.constant({ type: 'fault', why: 'p' } as VrrpEvent),
  fc.constant({ type: 'faultCleared' } as VrrpEvent),
  fc.record({ type: fc.constant('sync' as const), to: fc.constantFrom('MASTER' as const, 'BACKUP' as const, 'FAULT' as const), why: fc.constant('g') }),
);

t.test('invariants over random event sequences (property)', async (t) => {
  fc.assert(fc.property(
    fc.record({ version: fc.constantFrom(2 as const, 3 as const), priority: fc.integer({ min: 1, max: 255 }),
      preempt: fc.boolean(), initialState: fc.constantFrom('MASTER' as const, 'BACKUP' as const) }),
    fc.array(eventArb, { maxLength: 40 }),
    (p, events) => {
      const params: InstanceParams = { ...base, ...p, basePriority: p.priority };
      let rt = initialRuntime(params);
      let holds = false;
      let now = 0;
      for (const ev of events) {
        now += 100;
        const before = rt.state;
        const r = step(params, rt, ev, now);
        for (const a of r.actions) {
          if (a.type === 'addVips') { if (holds) return false; holds = true; }
          if (a.type === 'removeVips') { if (!holds) return false; holds = false; }
          if (a.type === 'sendAdvert' && a.priority === 0 && (before !== 'MASTER' || r.runtime.state === 'MASTER')) return false;
          if (a.type === 'sendAdvert' && a.priority !== 0 && r.runtime.state !== 'MASTER') return false;
          if (a.type === 'setTimer' && a.at < now) return false;
        }
        rt = r.runtime;
        if (holds !== (rt.state === 'MASTER')) return false;
        if (rt.state === 'MASTER' && before !== 'MASTER') {
          const timer = r.actions.find((a) => a.type === 'setTimer');
          if (!timer || timer.type !== 'setTimer' || timer.at > now + params.advertIntervalCs * 10) return false;
        }
      }
      return true;
    }), { numRuns: 2000 });
  t.pass();
});

t.test('tracking: weights move the priority as keepalived does', async (t) => {
  t.same(effectivePriority(100, [{ name: 's', weight: -5, up: false }]), { effective: 95, faultBy: [] });
  t.same(effectivePriority(100, [{ name: 's', weight: -5, up: true }]), { effective: 100, faultBy: [] });
  t.same(effectivePriority(100, [{ name: 's', weight: 10, up: true }]), { effective: 110, faultBy: [] });
  t.same(effectivePriority(100, [{ name: 's', weight: 10, up: false }]), { effective: 100, faultBy: [] });
  t.same(effectivePriority(100, [{ name: 'eth0', weight: 0, up: false }]), { effective: 100, faultBy: ['eth0'] });
  t.same(effectivePriority(250, [{ name: 's', weight: 50, up: true }]), { effective: 254, faultBy: [] }, 'clamped below 255');
  t.same(effectivePriority(10, [{ name: 's', weight: -50, up: false }]), { effective: 1, faultBy: [] }, 'clamped above 0');
  t.same(effectivePriority(255, [{ name: 's', weight: -50, up: false }]), { effective: 255, faultBy: [] }, 'owner never moves');
  t.same(effectivePriority(100, [{ name: 'f', weight: -10, up: true, fileValue: 2 }]), { effective: 80, faultBy: [] }, 'track_file multiplies');
  t.same(effectivePriority(100, [{ name: 'f', weight: 0, up: true, fileValue: 1 }]), { effective: 100, faultBy: ['f'] });
});

t.test('rise/fall damping', async (t) => {
  const rf = new RiseFall(2, 3);
  t.equal(rf.up, true);
  t.same([rf.record(false), rf.record(false), rf.record(true), rf.record(false), rf.record(false), rf.record(false)],
    [false, false, false, false, false, true], 'three consecutive failures, the streak reset by a success');
  t.equal(rf.up, false);
  t.same([rf.record(true), rf.record(true)], [false, true]);
  t.equal(rf.up, true);
});
