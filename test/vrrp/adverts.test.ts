import t from 'tap';

import { classifyAdvert, DropLogLimiter, type AdvertReceiver } from '../../src/vrrp/adverts.js';
import { AUTH_NONE, AUTH_PASS, encodeAdvertPacket, type AdvertExpectation } from '../../src/vrrp/codec.js';

const PEER = 0xc6120003;
const ME = 0xc6120002;
const GROUP = 0xe0000012;

function receiver(vrid: number, extra: Partial<AdvertExpectation> = {}, peers: string[] = []): AdvertReceiver {
  return {
    cfg: { virtual_router_id: vrid }, peers,
    expectation: { version: 2, vrid, intervalCs: 100, authType: AUTH_NONE, authPass: '', ownIps: [ME], ...extra },
  };
}
function advert(vrid: number, src = PEER): Uint8Array {
  return encodeAdvertPacket({ version: 2, vrid, priority: 120, intervalCs: 100, authType: AUTH_NONE, authPass: '', addresses: [0xc612000a] }, src, GROUP);
}

t.test('an advert for one of the instances is taken by it', async (t) => {
  const a = receiver(51);
  const b = receiver(52);
  const v = classifyAdvert([a, b], advert(52));
  t.equal(v.accepted, true);
  if (v.accepted) { t.equal(v.inst, b); t.equal(v.advert.priority, 120); t.equal(v.advert.srcIp, PEER); }
});

t.test('drops: charged to the instance when known, else to the first on the interface', async (t) => {
  const a = receiver(51);
  const b = receiver(52, { authType: AUTH_PASS, authPass: 'pw' });
  t.match(classifyAdvert([a, b], new Uint8Array(10)), { accepted: false, inst: a, reason: 'truncated', peer: 'unknown', detail: '' });
  t.match(classifyAdvert([a, b], advert(99)), { accepted: false, inst: a, reason: 'unknown_vrid', peer: '198.18.0.3', detail: 'vrid 99' });
  const wrongAuth = classifyAdvert([a, b], advert(52));
  t.equal(wrongAuth.accepted, false);
  t.equal(wrongAuth.inst, b);
  t.match(classifyAdvert([a], advert(51, ME)), { accepted: false, inst: a, peer: '198.18.0.2' }, 'our own advert looped back');
  t.match(classifyAdvert([], advert(51)), { accepted: false, inst: null, reason: 'unknown_vrid' }, 'no instance: counted nowhere');
});

t.test('unicast: an advert from someone not in unicast_peer is dropped', async (t) => {
  const a = receiver(51, {}, ['198.18.0.9']);
  t.match(classifyAdvert([a], advert(51)), { accepted: false, inst: a, reason: 'unknown_peer', peer: '198.18.0.3' });
  t.equal(classifyAdvert([receiver(51, {}, ['198.18.0.3'])], advert(51)).accepted, true);
});

t.test('TTL: 255 for multicast instances; a unicast instance takes any from its peers (they may sit behind routers)', async (t) => {
  const routed = (vrid: number) => { const p = advert(vrid); p[8] = 64; return p; };
  t.match(classifyAdvert([receiver(51)], routed(51)), { accepted: false, reason: 'bad_ttl', detail: 'ttl 64' }, 'multicast: a router lowered it, dropped');
  t.equal(classifyAdvert([receiver(51, {}, ['198.18.0.3'])], routed(51)).accepted, true, 'unicast: taken from a peer');
  t.match(classifyAdvert([receiver(51, {}, ['198.18.0.9'])], routed(51)), { accepted: false, reason: 'unknown_peer' }, 'unicast: still only from its peers');
  t.match(classifyAdvert([receiver(51, {}, ['198.18.0.3'])], routed(99)), { accepted: false, reason: 'bad_ttl' }, 'for no instance: held to 255');
});

t.test('drop log: once per key per interval', async (t) => {
  const log = new DropLogLimiter(60_000);
  t.same([log.shouldLog('a', 0), log.shouldLog('a', 59_999), log.shouldLog('b', 1), log.shouldLog('a', 60_000)], [true, false, true, true]);
});
