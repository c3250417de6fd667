// What fuzzing found (issue 15), each kept as a test: the input and the behaviour it must get.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { checkAdvert, decodePacket, encodeAdvertPacket } from '../../src/vrrp/codec.js';
import { parseControlLine } from '../../src/control/socket.js';

const expect = (version: 2 | 3) => ({ version, vrid: 7, intervalCs: 100, authType: 0, authPass: '', ownIps: [] });

t.test('a VRRPv3 advert with interval 0 is refused, not adopted as the Master interval', (t) => {
  const packet = encodeAdvertPacket({ version: 3, vrid: 7, priority: 250, intervalCs: 0, authType: 0, authPass: '', addresses: [0xc6120064] }, 0xc6120009, 0xe0000012);
  const r = decodePacket(packet);
  t.ok(r.ok, 'it decodes (the checksum is right)');
  if (r.ok) t.equal(checkAdvert(r.advert, expect(3)), 'interval_mismatch');
  const normal = decodePacket(encodeAdvertPacket({ version: 3, vrid: 7, priority: 250, intervalCs: 50, authType: 0, authPass: '', addresses: [0xc6120064] }, 0xc6120009, 0xe0000012));
  if (normal.ok) t.equal(checkAdvert(normal.advert, expect(3)), null, 'any other v3 interval is still adopted');
  t.end();
});

t.test('the fuzzer\'s VRRPv2 input with interval 0 (test/fuzz/regressions/) is refused', (t) => {
  const r = decodePacket(readFileSync('test/fuzz/regressions/vrrp-v2-interval-0.bin'));
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.advert.intervalCs, 0);
    t.equal(checkAdvert(r.advert, { ...expect(2), vrid: r.advert.vrid }), 'interval_mismatch');
  }
  t.end();
});

t.test('a config that is a device (/dev/zero) gives a size diagnostic instead of reading forever', (t) => {
  const started = Date.now();
  let thrown: unknown;
  try { loadConfig('/dev/zero'); } catch (err) { thrown = err; }
  t.ok(thrown instanceof ConfigError, 'a ConfigError');
  t.match((thrown as Error).message, /^\/dev\/zero:1:1: .*more than the \d+ allowed/);
  t.ok(Date.now() - started < 30_000, 'bounded: it stops after the size limit');
  t.end();
});

t.test('control lines: args that are not an object are refused before any command sees them', (t) => {
  t.same(parseControlLine('{"command":"status"}'), { request: { command: 'status' } });
  t.same(parseControlLine('{"command":"reload","args":[1]}'), { error: 'request args must be an object' });
  t.same(parseControlLine('{"command":"reload","args":"x"}'), { error: 'request args must be an object' });
  t.same(parseControlLine('null'), { error: 'request has no command' });
  t.same(parseControlLine('{"command":'), { error: 'request is not JSON' });
  t.end();
});
