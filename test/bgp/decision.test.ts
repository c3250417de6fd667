// The announcement decision (src/bgp/decision.ts): ExaBGP healthcheck's rise/fall damping,
// disable and stop overriding health, and what the daemon is told for each state.
import fc from 'fast-check';
import t from 'tap';
import {
  announcementFor, announcementReason, INITIAL_DAMPING, observe, usableByVip, type DecisionSettings, type VipDamping,
} from '../../src/bgp/decision.js';

const settings: DecisionSettings = { rise: 3, fall: 2, whenDown: 'withdraw', med: 10, downMed: 1000 };
const run = (looks: boolean[], s = settings, from: VipDamping = INITIAL_DAMPING): VipDamping => looks.reduce((d, h) => observe(d, h, s), from);

t.test('INIT is announced after rise healthy looks, not before', async (t) => {
  t.equal(run([true, true]).state, 'init');
  t.equal(run([true, true, true]).state, 'up');
  t.same(announcementFor('init', { disabled: false, stopping: false }, settings), { announce: false });
  t.same(announcementFor('up', { disabled: false, stopping: false }, settings), { announce: true, med: 10 });
});

t.test('a flapping VIP never reaches UP (the rise count restarts on each bad look)', async (t) => {
  t.equal(run([true, true, false, true, true, false, true, true]).state, 'init', 'never announced');
  t.equal(run([false, true, false, true]).state, 'init', 'nor withdrawn for good (fall 2 not reached)');
  const up = run([true, true, true]);
  // One bad look below fall keeps it up; fall bad looks in a row take it down.
  t.equal(run([false], settings, up).state, 'up');
  t.equal(run([false, true, false, true], settings, up).state, 'up');
  t.equal(run([false, false], settings, up).state, 'down');
});

t.test('disable and stop override health at once; stop always withdraws', async (t) => {
  const medMode = { ...settings, whenDown: 'med' as const };
  t.same(announcementFor('up', { disabled: true, stopping: false }, settings), { announce: false });
  t.same(announcementFor('up', { disabled: true, stopping: false }, medMode), { announce: true, med: 1000 });
  t.same(announcementFor('init', { disabled: true, stopping: false }, medMode), { announce: true, med: 1000 });
  t.same(announcementFor('down', { disabled: false, stopping: false }, medMode), { announce: true, med: 1000 });
  t.same(announcementFor('init', { disabled: false, stopping: false }, medMode), { announce: false }, 'INIT: nothing known yet');
  for (const state of ['init', 'up', 'down'] as const) {
    t.same(announcementFor(state, { disabled: false, stopping: true }, medMode), { announce: false });
    t.equal(announcementReason(state, { disabled: true, stopping: true }), 'stopping');
  }
  t.equal(announcementReason('up', { disabled: true, stopping: false }), 'disabled');
  t.equal(announcementReason('down', { disabled: false, stopping: false }), 'no usable real server');
});

t.test('property: the state changes only after rise (fall) agreeing looks in a row', async () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { maxLength: 60 }),
    (rise, fall, looks) => {
      const s = { ...settings, rise, fall };
      let d = INITIAL_DAMPING;
      for (let i = 0; i < looks.length; i++) {
        const next = observe(d, looks[i], s);
        if (next.state !== d.state) {
          const need = next.state === 'up' ? rise : fall;
          // the last `need` looks all agree with the new state
          if (i + 1 < need) return false;
          for (let k = i - need + 1; k <= i; k++) if (looks[k] !== (next.state === 'up')) return false;
        }
        // an UP VIP is never withdrawn while healthy, a DOWN one never announced while unhealthy
        if (d.state === 'up' && looks[i] && next.state !== 'up') return false;
        if (d.state === 'down' && !looks[i] && next.state !== 'down') return false;
        d = next;
      }
      return true;
    }));
});

t.test('property: after enough agreeing looks the state follows health', async () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.boolean(), { maxLength: 30 }), fc.boolean(),
    (rise, fall, noise, healthy) => {
      const s = { ...settings, rise, fall };
      const d = run([...noise, ...Array(Math.max(rise, fall)).fill(healthy)], s);
      return d.state === (healthy ? 'up' : 'down');
    }));
});

t.test('usable real servers add up per VIP over its services', async (t) => {
  const m = usableByVip([{ vips: ['198.18.0.100'], usable: 2 }, { vips: ['198.18.0.100', '198.18.0.101'], usable: 1 }, { vips: ['198.18.0.102'], usable: 0 }]);
  t.same([...m], [['198.18.0.100', 3], ['198.18.0.101', 1], ['198.18.0.102', 0]]);
});
