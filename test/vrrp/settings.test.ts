import t from 'tap';

import { AUTH_NONE, AUTH_PASS, VRRP_MCAST_GROUP } from '../../src/vrrp/codec.js';
import type { VrrpInstanceConfig } from '../../src/vrrp/config.js';
import { advertIntervalCsOf, instanceSettings, stripPrefix, vipNumbersOf } from '../../src/vrrp/settings.js';

const ME = 0xc6120002;
const base: VrrpInstanceConfig = {
  name: 'VI_1', interface: 'eth0', virtual_router_id: 51, virtual_ipaddress: [{ address: '198.18.0.10/24' }, { address: '198.18.0.11' }],
};

t.test('defaults: v2, priority 100, BACKUP, preempt, 1 s, no auth, the VRRP group', async (t) => {
  const s = instanceSettings(base, 2, ME, undefined);
  t.same(s.params, { version: 2, advertIntervalCs: 100, basePriority: 100, preempt: true, preemptDelayMs: 0, initialState: 'BACKUP', primaryIp: ME, strict: false });
  t.same(s.expectation, { version: 2, vrid: 51, intervalCs: 100, authType: AUTH_NONE, authPass: '', ownIps: [ME] });
  t.same(s.peers, []);
  t.equal(s.mcastGroup, VRRP_MCAST_GROUP);
  t.same(s.vipNumbers, [0xc612000a, 0xc612000b], 'VIPs without their prefix, as adverts carry them');
});

t.test('configured values: priority, nopreempt, preempt_delay, state, PASS, unicast, group', async (t) => {
  const cfg: VrrpInstanceConfig = {
    ...base, priority: 150, nopreempt: true, preempt_delay: 3, state: 'MASTER', advert_int: 2,
    authentication: { auth_type: 'PASS', auth_pass: 'secret' }, unicast_peer: ['198.18.0.3'], mcast_dst_ip: '224.0.4.18',
  };
  const s = instanceSettings(cfg, 2, ME, '224.0.9.9');
  t.match(s.params, { basePriority: 150, preempt: false, preemptDelayMs: 3000, initialState: 'MASTER', advertIntervalCs: 200 });
  t.match(s.expectation, { authType: AUTH_PASS, authPass: 'secret', intervalCs: 200 });
  t.same(s.peers, ['198.18.0.3']);
  t.equal(s.mcastGroup, '224.0.4.18', 'the instance group wins over the global one');
  t.equal(instanceSettings(base, 2, ME, '224.0.9.9').mcastGroup, '224.0.9.9', 'the global vrrp_mcast_group4 next');
});

t.test('AH: auth type 2, no password in the advert, the 8-byte NUL-padded HMAC key; none with v3', async (t) => {
  const s = instanceSettings({ ...base, authentication: { auth_type: 'AH', auth_pass: 'x' } }, 2, ME, undefined);
  t.equal(s.expectation.authType, 2);
  t.equal(s.expectation.authPass, '');
  t.same([...s.ahKey!], [0x78, 0, 0, 0, 0, 0, 0, 0]);
  const v3 = instanceSettings({ ...base, authentication: { auth_type: 'AH', auth_pass: 'x' } }, 3, ME, undefined);
  t.equal(v3.ahKey, null);
  t.equal(v3.expectation.authType, AUTH_NONE);
});

t.test('advert interval: v2 whole seconds, v3 centiseconds, at least one unit', async (t) => {
  t.equal(advertIntervalCsOf({ ...base, advert_int: 0.5 }, 2), 100);
  t.equal(advertIntervalCsOf({ ...base, advert_int: 2.4 }, 2), 200);
  t.equal(advertIntervalCsOf({ ...base, advert_int: 0.5 }, 3), 50);
  t.equal(advertIntervalCsOf({ ...base, advert_int: 0.001 }, 3), 1);
  t.equal(instanceSettings({ ...base, advert_int: 0.5 }, 3, ME, undefined).params.version, 3, 'the version passed in is kept');
});

t.test('stripPrefix and vipNumbersOf', async (t) => {
  t.equal(stripPrefix('10.0.0.1/24'), '10.0.0.1');
  t.equal(stripPrefix('10.0.0.1'), '10.0.0.1');
  t.same(vipNumbersOf({ ...base, virtual_ipaddress: [] }), []);
});
