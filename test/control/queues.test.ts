// How many workers a director starts (src/control/queues.ts): one per RX queue unless told,
// and a count that does not match the interface refused with the interface's count.
import t from 'tap';
import { insideQueuesError, resolveQueues, rxQueueCount } from '../../src/control/queues.js';

const base = { ifname: 'eth0', io: 'afxdp' as const, fullNat: false };

t.test('left out: one worker per RX queue (said in one line when more than one)', async (t) => {
  t.same(resolveQueues({ ...base, configured: undefined, rxQueues: 1 }), { ok: true, queues: 1, note: null });
  t.match(resolveQueues({ ...base, configured: undefined, rxQueues: 4 }), { ok: true, queues: 4, note: /dataplane\.queues: 4 \(one worker per RX queue of eth0\)/ });
  t.match(resolveQueues({ ...base, io: 'auto', configured: undefined, rxQueues: 2 }), { ok: true, queues: 2 }, 'io auto decides as AF_XDP');
});

t.test('a count that differs from the interface\'s is refused with both numbers and the fix', async (t) => {
  t.match(resolveQueues({ ...base, configured: 1, rxQueues: 2 }),
    { ok: false, error: /dataplane\.queues is 1 but eth0 has 2 RX queues: .*queue 1 would reach the kernel, not ulvs; set dataplane\.queues: 2 \(or leave it out\), or give eth0 fewer \(ethtool -L eth0 combined N\)/ });
  t.match(resolveQueues({ ...base, configured: 1, rxQueues: 4 }), { ok: false, error: /what RSS puts on queues 1-3 would reach/ });
  t.match(resolveQueues({ ...base, configured: 3, rxQueues: 2 }), { ok: false, error: /dataplane\.queues is 3 but eth0 has 2 RX queues: set dataplane\.queues: 2/ });
  t.match(resolveQueues({ ...base, configured: 2, rxQueues: 1 }), { ok: false, error: /has 1 RX queue: / });
  t.same(resolveQueues({ ...base, configured: 2, rxQueues: 2 }), { ok: true, queues: 2, note: null });
});

t.test('TAP keeps the configured count; unreadable sysfs keeps it with one line saying so', async (t) => {
  t.same(resolveQueues({ ...base, io: 'tap', configured: undefined, rxQueues: 8 }), { ok: true, queues: 1, note: null });
  t.same(resolveQueues({ ...base, io: 'tap', configured: 2, rxQueues: 8 }), { ok: true, queues: 2, note: null });
  t.match(resolveQueues({ ...base, configured: undefined, rxQueues: null }), { ok: true, queues: 1, note: /could not be read/ });
});

t.test('Full NAT needs one RX queue', async (t) => {
  t.match(resolveQueues({ ...base, fullNat: true, configured: undefined, rxQueues: 2 }), { ok: false, error: /lb_kind FNAT needs one.*ethtool -L eth0 combined 1/ });
  t.match(resolveQueues({ ...base, fullNat: true, configured: undefined, rxQueues: 1 }), { ok: true, queues: 1 });
});

t.test('NAT\'s inside interface needs a queue per worker', async (t) => {
  t.equal(insideQueuesError('eth1', 2, 2, 'afxdp'), null);
  t.match(insideQueuesError('eth1', 1, 2, 'afxdp'), /inside interface eth1 has 1 RX queue and the dataplane runs 2 workers/);
  t.match(insideQueuesError('eth1', 4, 1, 'auto'), /give eth1 1 \(ethtool -L eth1 combined 1\), or the outside interface as many as it/);
  t.equal(insideQueuesError('eth1', 4, 1, 'tap'), null);
  t.equal(insideQueuesError('eth1', null, 1, 'afxdp'), null);
});

t.test('rxQueueCount reads sysfs: lo has one; a missing interface is null', async (t) => {
  t.equal(rxQueueCount('lo'), 1);
  t.equal(rxQueueCount('no-such-if0'), null);
});
