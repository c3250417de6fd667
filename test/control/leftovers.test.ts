import t from 'tap';
import { planLeftovers, stateFileName, type LeftoverFacts } from '../../src/control/leftovers.js';

const VIP = { address: '198.18.0.100/32', dev: 'eth0' };
const VIP2 = { address: '198.18.0.101/32', dev: 'eth0' };
const OWN = { address: '198.18.0.2/24', dev: 'eth0' };

function facts(over: Partial<LeftoverFacts>): LeftoverFacts {
  return {
    present: [OWN], recordedOurs: [], recordedPid: null, staticAddresses: [], vrrpAddresses: [],
    xdp: [{ ifname: 'eth0', program: null }], tcFilters: [{ ifname: 'eth0', prefs: [] }], taps: [],
    ulvsProgram: 'ulvs_xdp', ...over,
  };
}

t.test('a clean machine: nothing to do, nothing said', async (t) => {
  const plan = planLeftovers(facts({ staticAddresses: [VIP] }));
  t.same(plan.actions, []);
  t.same(plan.messages, []);
});

t.test('a static VIP a dead ulvs added is adopted (and so removed on stop)', async (t) => {
  const plan = planLeftovers(facts({ present: [OWN, VIP], recordedOurs: [VIP], recordedPid: 42, staticAddresses: [VIP] }));
  t.same(plan.actions, [{ kind: 'adopt-address', address: VIP }]);
  t.equal(plan.messages.length, 1);
  t.match(plan.messages[0], /198\.18\.0\.100\/32 on eth0 was left by ulvs pid 42.*adopted/);
});

t.test('a VRRP VIP a dead ulvs added is removed: only a MASTER holds it', async (t) => {
  const plan = planLeftovers(facts({ present: [OWN, VIP], recordedOurs: [VIP], vrrpAddresses: [VIP] }));
  t.same(plan.actions, [{ kind: 'remove-address', address: VIP }]);
  t.match(plan.messages[0], /VRRP VIP.*removed until VRRP makes this director MASTER/);
});

t.test('an address a dead ulvs added that the config no longer has is removed', async (t) => {
  const plan = planLeftovers(facts({ present: [OWN, VIP, VIP2], recordedOurs: [VIP, VIP2], staticAddresses: [VIP] }));
  t.same(plan.actions, [{ kind: 'adopt-address', address: VIP }, { kind: 'remove-address', address: VIP2 }]);
  t.match(plan.messages[1], /198\.18\.0\.101\/32 on eth0 .*no longer configured: removed/);
});

t.test('a configured VIP ulvs did not add is not ours: said in one line, never removed', async (t) => {
  for (const where of ['staticAddresses', 'vrrpAddresses'] as const) {
    const plan = planLeftovers(facts({ present: [OWN, VIP], [where]: [VIP] }));
    t.same(plan.actions, [{ kind: 'not-ours-address', address: VIP }], where);
    t.equal(plan.messages.length, 1);
    t.match(plan.messages[0], /198\.18\.0\.100\/32 on eth0 was already there and ulvs did not add it.*never removed/);
  }
});

t.test('the same address on another interface is another address', async (t) => {
  const plan = planLeftovers(facts({ present: [OWN, { address: VIP.address, dev: 'eth1' }], recordedOurs: [VIP], staticAddresses: [VIP] }));
  t.same(plan.actions, []);
  t.match(plan.messages[0], /lists 198\.18\.0\.100\/32 on eth0: already gone/);
});

t.test('addresses neither configured nor recorded are none of ulvs\'s business', async (t) => {
  const plan = planLeftovers(facts({ present: [OWN, VIP2], staticAddresses: [VIP] }));
  t.same(plan.actions, []);
  t.same(plan.messages, []);
});

t.test('ulvs\'s XDP program is detached, another program is left alone and reported', async (t) => {
  const ours = planLeftovers(facts({ xdp: [{ ifname: 'eth0', program: 'ulvs_xdp' }] }));
  t.same(ours.actions, [{ kind: 'detach-xdp', ifname: 'eth0' }]);
  t.same(ours.foreignXdp, []);
  const other = planLeftovers(facts({ xdp: [{ ifname: 'eth0', program: 'xdp_firewall' }] }));
  t.same(other.actions, []);
  t.same(other.foreignXdp, [{ ifname: 'eth0', program: 'xdp_firewall' }]);
  t.match(other.messages[0], /xdp_firewall on eth0 is not ulvs's: left alone/);
});

t.test('tc filters and TAP devices of a dead TAP-backend run are removed', async (t) => {
  const plan = planLeftovers(facts({ tcFilters: [{ ifname: 'eth0', prefs: [4242] }, { ifname: 'eth1', prefs: [] }], taps: ['ulvst2'] }));
  t.same(plan.actions, [{ kind: 'remove-tc-filters', ifname: 'eth0', prefs: [4242] }, { kind: 'remove-tap', name: 'ulvst2' }]);
  t.equal(plan.messages.length, 2);
});

t.test('the state file is per network namespace and instance, with a safe name', async (t) => {
  t.equal(stateFileName(4026531833, 'default'), 'netns-4026531833-default.json');
  t.equal(stateFileName(7, '\0ulvs/x y'), 'netns-7-_ulvs_x_y.json');
  t.not(stateFileName(7, 'a'), stateFileName(8, 'a'));
});

t.test('an XDP program whose name cannot be read (no CAP_SYS_ADMIN) is ulvs\'s when the state file recorded its id', async (t) => {
  const recorded = planLeftovers(facts({ xdp: [{ ifname: 'eth0', program: 'id 42', id: 42 }], recordedXdpIds: [42] }));
  t.same(recorded.actions, [{ kind: 'detach-xdp', ifname: 'eth0', recordedId: 42 }]);
  t.same(recorded.foreignXdp, []);
  t.match(recorded.messages[0], /id 42 on eth0 was left by an earlier ulvs: detached/);
  const other = planLeftovers(facts({ xdp: [{ ifname: 'eth0', program: 'id 43', id: 43 }], recordedXdpIds: [42] }));
  t.same(other.actions, [], 'another id is somebody else\'s program');
  t.same(other.foreignXdp, [{ ifname: 'eth0', program: 'id 43' }]);
});
