import fc from 'fast-check';
import t from 'tap';
import { describeStatus, planStart, planStop, stepCommand, validateRequest, validateVip, type CurrentState, type Step } from '../../src/realserver/plan.js';

const KEYS = ['all', 'lo'].flatMap((d) => ['arp_ignore', 'arp_announce'].map((k) => `net.ipv4.conf.${d}.${k}`));

function machine(sysctls: Record<string, string>, addresses: CurrentState['addresses'] = []): CurrentState {
  return { addresses, sysctls: { ...sysctls }, tunnelDevice: false, tunnelUp: false };
}

/** Applies steps to a model machine, as the shell does to the real one. */
function apply(state: CurrentState, steps: Step[]): CurrentState {
  const next = { ...state, addresses: [...state.addresses], sysctls: { ...state.sysctls } };
  for (const s of steps) {
    if (s.kind === 'sysctl') next.sysctls[s.key] = s.to;
    else if (s.kind === 'addr-add') next.addresses.push({ dev: s.dev, address: s.address });
    else if (s.kind === 'addr-del') next.addresses = next.addresses.filter((a) => !(a.dev === s.dev && a.address === s.address));
    else next.tunnelUp = true;
  }
  return next;
}

t.test('VIP validation: one sentence per bad input', async (t) => {
  t.equal(validateVip('198.18.0.100'), undefined);
  t.equal(validateVip('2001:2::100'), undefined);
  for (const bad of ['1.2.3', '198.18.0.256', 'vip', '', '198.18.0.0/24', '0.0.0.0', '127.0.0.1', '224.0.0.18', '::1', 'ff02::1']) {
    t.type(validateVip(bad), 'string', `${JSON.stringify(bad)} refused`);
  }
  t.match(validateRequest([], 'dr'), /at least one --vip/);
  t.match(validateRequest(['2001:2::1'], 'tun'), /IPv4 only/);
});

t.test('DR start: VIP on lo as /32 (/128), arp sysctls on all and lo, idempotent', async (t) => {
  const before = machine({ [KEYS[0]]: '0', [KEYS[1]]: '1', [KEYS[2]]: '0', [KEYS[3]]: '0' });
  const { steps, record } = planStart(['198.18.0.100', '2001:2::100'], 'dr', before);
  t.same(steps.filter((s) => s.kind === 'addr-add').map(stepCommand), [
    ['ip', 'addr', 'add', '198.18.0.100/32', 'dev', 'lo'], ['ip', 'addr', 'add', '2001:2::100/128', 'dev', 'lo']]);
  const after = apply(before, steps);
  t.ok(describeStatus(record.vips, 'dr', after).every((l) => l.ok), 'status: all in place');
  const again = planStart(['198.18.0.100'], 'dr', after, record);
  t.same(again.steps, [], 'second start changes nothing');
  t.same(again.record.priorSysctls, record.priorSysctls, 'and keeps the first prior values');
  t.same(again.record.vips, ['198.18.0.100', '2001:2::100']);
});

t.test('an address already there is the admin\'s: start does not record it, stop leaves it', async (t) => {
  const before = machine({}, [{ dev: 'lo', address: '198.18.0.100/32' }]);
  const { steps, record } = planStart(['198.18.0.100'], 'dr', before);
  t.same(steps, []);
  t.same(record.added, []);
  t.same(planStop(record, before), []);
});

t.test('TUN: tunl0 up, VIP on it, rp_filter relaxed', async (t) => {
  const before: CurrentState = { addresses: [], tunnelDevice: true, tunnelUp: false,
    sysctls: { 'net.ipv4.conf.all.rp_filter': '2', 'net.ipv4.conf.tunl0.rp_filter': '1', 'net.ipv4.conf.all.arp_ignore': '0' } };
  const { steps } = planStart(['198.18.0.100'], 'tun', before);
  t.same(stepCommand(steps[0]), ['ip', 'link', 'set', 'tunl0', 'up']);
  t.ok(steps.some((s) => s.kind === 'addr-add' && s.dev === 'tunl0' && s.address === '198.18.0.100/32'));
  t.ok(steps.some((s) => s.kind === 'sysctl' && s.key === 'net.ipv4.conf.all.rp_filter' && s.to === '0'));
  t.ok(steps.some((s) => s.kind === 'sysctl' && s.key === 'net.ipv4.conf.tunl0.rp_filter' && s.to === '0'));
  t.notOk(describeStatus(['198.18.0.100'], 'tun', { ...before, tunnelDevice: false }).every((l) => l.ok));
});

t.test('property: start then stop gives back exactly the prior sysctls and addresses', async (t) => {
  const value = fc.constantFrom('0', '1', '2', '3', '8');
  const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }).filter((a) => a !== 127), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
    .map((p) => p.join('.'));
  fc.assert(fc.property(fc.array(value, { minLength: 4, maxLength: 4 }), fc.uniqueArray(ipv4, { minLength: 1, maxLength: 4 }), fc.boolean(),
    (values, vips, startTwice) => {
      const before = machine(Object.fromEntries(KEYS.map((k, i) => [k, values[i]])), [{ dev: 'lo', address: '127.0.0.1/8' }]);
      let { steps, record } = planStart(vips, 'dr', before);
      let during = apply(before, steps);
      if (startTwice) {
        ({ steps, record } = planStart(vips.slice(0, 1), 'dr', during, record));
        during = apply(during, steps);
      }
      const after = apply(during, planStop(record, during));
      t.same(after.sysctls, before.sysctls);
      t.same(after.addresses, before.addresses);
    }), { numRuns: 200 });
});
