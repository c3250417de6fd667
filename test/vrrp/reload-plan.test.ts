// The pure reload diff (src/vrrp/reload.ts): which instances stay, change in place, stop or
// start; VIP and script diffs; sync group moves. Fixture table plus properties.
import t from 'tap';
import fc from 'fast-check';

import { planVrrpReload, vipDiff, vipKey } from '../../src/vrrp/reload.js';
import type { VrrpConfig, VrrpInstanceConfig } from '../../src/vrrp/config.js';

const vi = (name: string, vrid: number, extra: Partial<VrrpInstanceConfig> = {}): VrrpInstanceConfig => ({
  name, interface: 'eth0', virtual_router_id: vrid, priority: 100, advert_int: 1,
  virtual_ipaddress: [{ address: `198.18.0.${vrid}/32`, dev: 'eth0' }], ...extra,
});
const base: VrrpConfig = {
  vrrp_instances: [vi('A', 51), vi('B', 52, { track_script: ['chk'] })],
  vrrp_scripts: { chk: { script: 'true', interval: 1 } },
  vrrp_sync_groups: [{ name: 'G', group: ['A', 'B'] }],
};
const withInstance = (name: string, patch: Partial<VrrpInstanceConfig>): VrrpConfig => ({
  ...base, vrrp_instances: base.vrrp_instances.map((i) => (i.name === name ? { ...i, ...patch } : i)),
});

const table: Array<{ why: string; next: VrrpConfig; expect: Partial<ReturnType<typeof planVrrpReload>> }> = [
  { why: 'same config', next: structuredClone(base), expect: { unchanged: ['A', 'B'], updated: [], removed: [], added: [] } },
  { why: 'undefined keys equal absent ones', next: withInstance('A', { notify: undefined }), expect: { unchanged: ['A', 'B'] } },
  {
    why: 'priority change is in place', next: withInstance('A', { priority: 90 }),
    expect: { unchanged: ['B'], updated: [{ name: 'A', changed: ['priority'], vipsAdded: [], vipsRemoved: [] }], removed: [], added: [] },
  },
  {
    why: 'advert_int, auth and notify in place', next: withInstance('A', { advert_int: 2, authentication: { auth_type: 'PASS', auth_pass: 'x' }, notify: '/bin/true' }),
    expect: { updated: [{ name: 'A', changed: ['advert_int', 'authentication', 'notify'], vipsAdded: [], vipsRemoved: [] }], removed: [], added: [] },
  },
  {
    why: 'VIP added', next: withInstance('A', { virtual_ipaddress: [{ address: '198.18.0.51/32', dev: 'eth0' }, { address: '198.18.0.77/32', dev: 'eth0' }] }),
    expect: { updated: [{ name: 'A', changed: ['virtual_ipaddress'], vipsAdded: [{ address: '198.18.0.77/32', dev: 'eth0' }], vipsRemoved: [] }] },
  },
  {
    why: 'VIP label changed: remove and re-add', next: withInstance('A', { virtual_ipaddress: [{ address: '198.18.0.51/32', dev: 'eth0', label: 'eth0:1' }] }),
    expect: { updated: [{ name: 'A', changed: ['virtual_ipaddress'], vipsAdded: [{ address: '198.18.0.51/32', dev: 'eth0', label: 'eth0:1' }], vipsRemoved: [{ address: '198.18.0.51/32', dev: 'eth0' }] }] },
  },
  { why: 'VRID change is another router', next: withInstance('A', { virtual_router_id: 60 }), expect: { removed: ['A'], added: ['A'], updated: [] } },
  { why: 'interface change is another router', next: withInstance('A', { interface: 'eth1' }), expect: { removed: ['A'], added: ['A'] } },
  { why: 'version 2 -> 3 is another router', next: withInstance('A', { version: 3 }), expect: { removed: ['A'], added: ['A'] } },
  { why: 'explicit version 2 is the default', next: withInstance('A', { version: 2 }), expect: { removed: [], added: [], updated: [{ name: 'A', changed: ['version'], vipsAdded: [], vipsRemoved: [] }] } },
  {
    why: 'instance removed and another added',
    next: { ...base, vrrp_instances: [base.vrrp_instances[0], vi('C', 53)], vrrp_sync_groups: [] },
    expect: { removed: ['B'], added: ['C'], unchanged: ['A'], syncGroupMoves: ['A'], syncGroupsChanged: ['G'] },
  },
  {
    why: 'scripts added, removed, changed',
    next: { ...base, vrrp_scripts: { chk: { script: 'true', interval: 2 }, other: { script: 'false' } } },
    expect: { scriptsAdded: ['other'], scriptsChanged: ['chk'], scriptsRemoved: [], unchanged: ['A', 'B'] },
  },
  { why: 'script removed', next: { ...base, vrrp_scripts: {} }, expect: { scriptsRemoved: ['chk'] } },
  {
    why: 'global mcast group moves only multicast instances',
    next: { ...withInstance('B', { unicast_peer: ['198.18.0.2'] }), vrrp_mcast_group4: '224.0.0.19' },
    expect: { updated: [{ name: 'A', changed: ['vrrp_mcast_group4'], vipsAdded: [], vipsRemoved: [] }, { name: 'B', changed: ['unicast_peer'], vipsAdded: [], vipsRemoved: [] }] },
  },
  { why: 'sync group notify change', next: { ...base, vrrp_sync_groups: [{ name: 'G', group: ['A', 'B'], notify: '/bin/true' }] }, expect: { syncGroupsChanged: ['G'], syncGroupMoves: [] } },
];

for (const row of table) {
  t.test(row.why, async (t) => {
    t.match(planVrrpReload(base, row.next), row.expect);
    // Exact arrays where the table gives them (t.match on arrays is a prefix match).
    const plan = planVrrpReload(base, row.next);
    for (const [k, v] of Object.entries(row.expect)) t.same(plan[k as keyof typeof plan], v, k);
  });
}

const vipArb = fc.record({
  address: fc.integer({ min: 1, max: 20 }).map((n) => `198.18.1.${n}/32`),
  dev: fc.constantFrom('eth0', 'eth1'),
}, { requiredKeys: ['address'] });
const vipsArb = fc.uniqueArray(vipArb, { selector: (v) => vipKey(v), maxLength: 8 });

t.test('vipDiff: old minus removed plus added is next', async (t) => {
  fc.assert(fc.property(vipsArb, vipsArb, (old, next) => {
    const { vipsAdded, vipsRemoved } = vipDiff(old, next);
    const removed = new Set(vipsRemoved.map((v) => vipKey(v)));
    const result = new Set([...old.filter((v) => !removed.has(vipKey(v))), ...vipsAdded].map((v) => vipKey(v)));
    return result.size === next.length && next.every((v) => result.has(vipKey(v)))
      && vipsAdded.every((v) => !old.some((o) => vipKey(o) === vipKey(v)));
  }));
  t.pass('property held');
});

const instArb = fc.record({
  name: fc.constantFrom('A', 'B', 'C', 'D', 'E'),
  vrid: fc.integer({ min: 1, max: 3 }),
  priority: fc.integer({ min: 1, max: 254 }),
  vips: vipsArb,
});
const configArb = fc.uniqueArray(instArb, { selector: (i) => i.name, maxLength: 5 }).map((list): VrrpConfig => ({
  vrrp_instances: list.map((i) => vi(i.name, i.vrid, { priority: i.priority, virtual_ipaddress: i.vips })),
}));

t.test('every instance lands in exactly one bucket; a config against itself is all unchanged', async (t) => {
  fc.assert(fc.property(configArb, configArb, (old, next) => {
    const plan = planVrrpReload(old, next);
    const self = planVrrpReload(next, structuredClone(next));
    if (self.updated.length || self.added.length || self.removed.length) return false;
    const updated = plan.updated.map((u) => u.name);
    for (const n of next.vrrp_instances) {
      const hits = [plan.unchanged, updated, plan.added].filter((b) => b.includes(n.name)).length;
      if (hits !== 1) return false;
    }
    for (const o of old.vrrp_instances) {
      const stays = plan.unchanged.includes(o.name) || updated.includes(o.name);
      if (stays === plan.removed.includes(o.name)) return false;
    }
    // Removed and re-added only when the identity changed.
    return plan.removed.every((name) => {
      const n = next.vrrp_instances.find((i) => i.name === name);
      return !n || n.virtual_router_id !== old.vrrp_instances.find((i) => i.name === name)!.virtual_router_id;
    });
  }));
  t.pass('property held');
});
