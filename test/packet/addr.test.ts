import t from 'tap';
import fc from 'fast-check';
import {
  formatMac, ipToNumber, isIpv4, numberToIp,
  parseCidr, parseCidrOrNull, parseIpv4, parseMac, parseMacOrNull, prefixToMask,
} from '../../src/packet/addr.js';

t.test('ipToNumber: host-order uint32', async (t) => {
  t.equal(ipToNumber('198.18.0.1'), 0xc6120001);
  t.equal(ipToNumber('0.0.0.0'), 0);
  t.equal(ipToNumber('255.255.255.255'), 0xffffffff);
  t.equal(ipToNumber('10.0.0.255'), 0x0a0000ff);
});

t.test('ipToNumber rejects what is not a strict dotted quad', async (t) => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.04', ' 1.2.3.4', '1.2.3.4 ',
    '1..3.4', '0x1.2.3.4', '1.2.3.-4', 'a.b.c.d', '1.2.3.4/32', '１.2.3.4', '1.2.3.1000']) {
    t.equal(parseIpv4(bad), null, `parseIpv4(${JSON.stringify(bad)})`);
    t.notOk(isIpv4(bad));
    t.throws(() => ipToNumber(bad), TypeError);
  }
});

t.test('numberToIp and ipToNumber are inverse (property)', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => ipToNumber(numberToIp(n)) === n));
  fc.assert(fc.property(fc.ipV4(), (s) => numberToIp(ipToNumber(s)) === s));
  t.equal(numberToIp(0xc6120001), '198.18.0.1');
  t.equal(numberToIp(-1), '255.255.255.255', 'low 32 bits of a negative int32');
});

t.test('MAC parse/format', async (t) => {
  t.same([...parseMac('02:00:C6:12:00:0a')], [2, 0, 0xc6, 0x12, 0, 10]);
  t.same([...parseMac('02-00-c6-12-00-0a')], [2, 0, 0xc6, 0x12, 0, 10]);
  t.equal(formatMac(parseMac('02:00:C6:12:00:0A')), '02:00:c6:12:00:0a');
  t.equal(formatMac(new Uint8Array([9, 9, 1, 2, 3, 4, 5, 6]), 2), '01:02:03:04:05:06');
  for (const bad of ['', '02:00:c6:12:00', '02:00:c6:12:00:0a:0b', '02:00-c6:12:00:0a', '2:0:c6:12:0:a', 'zz:00:c6:12:00:0a', '0200c612000a']) {
    t.equal(parseMacOrNull(bad), null, bad);
    t.throws(() => parseMac(bad), TypeError);
  }
  fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => formatMac(parseMac(formatMac(b))) === formatMac(b)));
});

t.test('masks and prefixes', async (t) => {
  t.equal(prefixToMask(0), 0);
  t.equal(prefixToMask(15), 0xfffe0000);
  t.equal(prefixToMask(32), 0xffffffff);
  t.throws(() => prefixToMask(33), RangeError);
  t.throws(() => prefixToMask(1.5), RangeError);
});

t.test('CIDR', async (t) => {
  const c = parseCidr('198.18.0.0/15');
  t.same(c, { address: 0xc6120000, prefixLength: 15, mask: 0xfffe0000, network: 0xc6120000 });
  const vip = parseCidr('198.18.0.100/24');
  t.equal(vip.address, ipToNumber('198.18.0.100'), 'host bits kept, as keepalived VIPs are written');
  t.equal(vip.network, ipToNumber('198.18.0.0'));
  t.equal(parseCidr('198.18.0.100').prefixLength, 32, 'bare address is /32');
  t.equal(parseCidrOrNull('198.18.0.100/24', { requireNetwork: true }), null);
  t.throws(() => parseCidr('198.18.0.100/24', { requireNetwork: true }), /host bits zero/);
  t.same(parseCidr('0.0.0.0/0'), { address: 0, prefixLength: 0, mask: 0, network: 0 }, '/0 holds every address');
  for (const bad of ['198.18.0.0/33', '198.18.0.0/', '198.18.0.0/08', '198.18.0.0/-1', '198.18.0/15', '/15', '198.18.0.0/1/2']) {
    t.equal(parseCidrOrNull(bad), null, bad);
  }
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (ip, len) => {
    const cidr = parseCidr(`${numberToIp(ip)}/${len}`);
    return cidr.network === ((ip & cidr.mask) >>> 0) && cidr.network === ((ip & prefixToMask(len)) >>> 0);
  }));
});
