import t from 'tap';

import type { VrrpInstanceConfig } from '../../src/vrrp/config.js';
import { buildTracking, trackingFaultReason, type ScriptVerdict } from '../../src/vrrp/tracking.js';

const base: VrrpInstanceConfig = { name: 'VI_1', interface: 'eth0', virtual_router_id: 51, virtual_ipaddress: [] };
const scripts = new Map<string, ScriptVerdict>([['chk', { weight: 20, up: false }], ['plain', { up: true }]]);
const lookup = (name: string): ScriptVerdict | undefined => scripts.get(name);

t.test('track_interface, track_script and track_file, with keepalived weights and reverse', async (t) => {
  const cfg: VrrpInstanceConfig = {
    ...base,
    track_interface: ['eth1', { name: 'eth2', weight: 10, reverse: true }],
    track_script: ['chk', { name: 'plain', weight: 5 }, { name: 'chk', weight: 7, reverse: true }],
    track_file: [{ name: 'f', file: '/x', weight: 3 }],
  };
  const { tracked, scriptNames } = buildTracking(cfg, lookup, []);
  t.same(tracked, [
    { name: 'interface:eth1', weight: 0, up: true },
    { name: 'interface:eth2', weight: -10, up: true },
    { name: 'script:chk', weight: 20, up: false },
    { name: 'script:plain', weight: 5, up: true },
    { name: 'script:chk', weight: -7, up: false },
    { name: 'file:f', weight: 3, up: true, fileValue: 0 },
  ]);
  t.same([...scriptNames], [['chk', 4], ['plain', 3]], 'a script tracked twice: the last entry gets its verdict');
});

t.test('a reload keeps what was last read: link state, file value, the own interface', async (t) => {
  const cfg: VrrpInstanceConfig = { ...base, track_interface: ['eth1'], track_file: [{ name: 'f', file: '/x' }] };
  const previous = [
    { name: 'interface:eth1', weight: 0, up: false },
    { name: 'file:f', weight: 1, up: true, fileValue: 4 },
    { name: 'own:eth0', weight: 0, up: false },
  ];
  const { tracked } = buildTracking(cfg, lookup, previous);
  t.same(tracked, [
    { name: 'interface:eth1', weight: 0, up: false },
    { name: 'file:f', weight: 1, up: true, fileValue: 4 },
    { name: 'own:eth0', weight: 0, up: false },
  ]);
});

t.test('a track_script that is not a vrrp_script is refused', async (t) => {
  t.throws(() => buildTracking({ ...base, track_script: ['nope'] }, lookup, []), /vrrp_instance VI_1: track_script nope is not a vrrp_script/);
});

t.test('fault reason of the own tracking', async (t) => {
  t.equal(trackingFaultReason(100, [{ name: 'interface:eth1', weight: 10, up: false }]), null, 'a weighted failure moves the priority only');
  t.equal(trackingFaultReason(100, [{ name: 'interface:eth1', weight: 0, up: false }, { name: 'own:eth0', weight: 0, up: false }]),
    'tracking: interface:eth1, own:eth0 failed');
});
