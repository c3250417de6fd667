import t from 'tap';
import {
  describeScheduler, formatSchedulerFlags, isSchedulerName, parseSchedulerFlags, SCHEDULER_NAMES,
} from '../../src/schedulers/index.js';

t.test('every scheduler has a one-sentence description', async (t) => {
  t.equal(SCHEDULER_NAMES.length, 14);
  for (const name of SCHEDULER_NAMES) {
    const d = describeScheduler(name);
    t.ok(d.length > 30 && d.endsWith('.') && d.split('. ').length === 1, `${name}: ${d}`);
  }
  t.ok(isSchedulerName('mh'));
  t.notOk(isSchedulerName('maglev'));
});

t.test('parseSchedulerFlags: keepalived names, generic flag-N, ops apart, errors for the rest', async (t) => {
  t.same(parseSchedulerFlags('sh', ['sh-port', 'sh-fallback']), { flags: { shPort: true, shFallback: true }, ops: false, errors: [] });
  t.same(parseSchedulerFlags('mh', ['flag-1', 'flag-2', 'ops']), { flags: { mhFallback: true, mhPort: true }, ops: true, errors: [] });
  t.same(parseSchedulerFlags('rr', ['ops', 'hashed']), { flags: {}, ops: true, errors: [] });
  const bad = parseSchedulerFlags('mh', ['sh-port', 'mh-prot', 'flag-3']);
  t.equal(bad.errors.length, 3);
  t.match(bad.errors[0], /sh-port applies only to lb_algo sh.*use mh-port/);
  t.match(bad.errors[1], /unknown scheduler flag "mh-prot"/);
  t.match(parseSchedulerFlags('wrr', ['flag-2']).errors[0], /no meaning for lb_algo wrr/);
});

t.test('formatSchedulerFlags prints as ipvsadm does', async (t) => {
  t.same(formatSchedulerFlags({ shPort: true, shFallback: true }), ['sh-fallback', 'sh-port']);
  t.same(formatSchedulerFlags({}), []);
});

