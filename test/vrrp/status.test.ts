import t from 'tap';

import { initialRuntime, type InstanceParams } from '../../src/vrrp/state.js';
import { instanceStatus } from '../../src/vrrp/status.js';

const params: InstanceParams = {
  version: 3, advertIntervalCs: 100, priority: 90, basePriority: 100, preempt: true, preemptDelayMs: 0, initialState: 'BACKUP', primaryIp: 1,
};
const cfg = { name: 'VI_1', interface: 'eth0', virtual_router_id: 51, virtual_ipaddress: [{ address: '198.18.0.10/24' }] };

t.test('status: configuration, state, master, last transition and counters', async (t) => {
  const drops = { bad_ttl: 2 };
  const s = instanceStatus({
    cfg, params, drops, advertsSent: 5, advertsReceived: 7, wallTransitionAt: Date.UTC(2026, 0, 1),
    runtime: { ...initialRuntime(params), state: 'BACKUP', masterIp: 0xc6120003, lastTransition: { from: 'INIT', to: 'BACKUP', reason: 'startup', at: 0 } },
  });
  t.same(s, {
    name: 'VI_1', interface: 'eth0', vrid: 51, version: 3, family: 4, state: 'BACKUP', priority: 90, configuredPriority: 100,
    masterIp: '198.18.0.3', vips: ['198.18.0.10/24'],
    lastTransition: { at: '2026-01-01T00:00:00.000Z', from: 'INIT', to: 'BACKUP', reason: 'startup' },
    drops: { bad_ttl: 2 }, advertsSent: 5, advertsReceived: 7,
    tracked: [], faultBy: [], // nothing tracked, nothing forcing FAULT
  });
  t.not(s.drops, drops, 'a copy: the counters keep counting');
});

t.test('status before any transition', async (t) => {
  const s = instanceStatus({ cfg, params, runtime: initialRuntime(params), drops: {}, advertsSent: 0, advertsReceived: 0, wallTransitionAt: 0 });
  t.equal(s.state, 'INIT');
  t.equal(s.masterIp, null);
  t.equal(s.lastTransition, null);
});
