import t from 'tap';
import fc from 'fast-check';

import {
  AUTH_NONE, AUTH_PASS, checkAdvert, decodePacket, encodeAdvertPacket, onesComplementSum,
  type Advertisement, type AdvertExpectation, type DropReason,
} from '../../src/vrrp/codec.js';
import { buildGarp } from '../../src/vrrp/garp.js';

const SRC = 0xc6120001; // 198.18.0.1
const GROUP = 0xe0000012; // 224.0.0.18

const v2: Advertisement = {
  version: 2, vrid: 51, priority: 100, intervalCs: 100, authType: AUTH_PASS, authPass: '1111',
  addresses: [0xc6120064],
};
const v3: Advertisement = {
  version: 3, vrid: 52, priority: 150, intervalCs: 10, authType: AUTH_NONE, authPass: '', addresses: [0xc6120064, 0xc6120065],
};

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

t.test('v2 advert bytes match RFC 3768 layout (fixture)', async (t) => {
  const packet = encodeAdvertPacket(v2, SRC, GROUP);
  // IPv4: ver/ihl 45, tos c0, len 40, ttl ff, proto 70 (112), src c6120001, dst e0000012.
  t.equal(hex(packet.subarray(0, 1)), '45');
  t.equal(packet[8], 255);
  t.equal(packet[9], 112);
  t.equal(hex(packet.subarray(12, 20)), 'c6120001e0000012');
  // VRRP: 21 (v2 advert), vrid 33 (51), prio 64, count 01, auth 01, int 01, cksum, addr, "1111\0\0\0\0".
  const vrrp = packet.subarray(20);
  t.equal(hex(vrrp.subarray(0, 6)), '213364010101');
  t.equal(hex(vrrp.subarray(8)), 'c6120064' + '31313131' + '00000000');
  t.equal(onesComplementSum(vrrp, 0, vrrp.length), 0xffff, 'VRRP checksum verifies');
  t.equal(onesComplementSum(packet, 0, 20), 0xffff, 'IP header checksum verifies');
  // Checksum computed by hand: ~(0x2133 + 0x6401 + 0x0101 + 0xc612 + 0x0064 + 0x3131 + 0x3131) folded.
  let sum = 0x2133 + 0x6401 + 0x0101 + 0xc612 + 0x0064 + 0x3131 + 0x3131;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  t.equal((vrrp[6] << 8) | vrrp[7], ~sum & 0xffff);
});

t.test('v3 checksum covers the IPv4 pseudo-header (RFC 5798 5.2.8)', async (t) => {
  const packet = encodeAdvertPacket(v3, SRC, GROUP);
  const vrrp = packet.subarray(20);
  t.equal(vrrp[0], 0x31);
  t.equal(((vrrp[4] << 8) | vrrp[5]) & 0xfff, 10, 'max advert interval in centiseconds');
  const pseudo = (SRC >>> 16) + (SRC & 0xffff) + (GROUP >>> 16) + (GROUP & 0xffff) + 112 + vrrp.length;
  t.equal(onesComplementSum(vrrp, 0, vrrp.length, pseudo), 0xffff);
  t.not(onesComplementSum(vrrp, 0, vrrp.length), 0xffff, 'not a plain v2-style checksum');
  const decoded = decodePacket(packet);
  t.ok(decoded.ok);
  // A different source invalidates the v3 checksum (pseudo-header), not the v2 one.
  const moved = packet.slice();
  moved[15] ^= 1;
  t.same(decodePacket(moved), { ok: false, reason: 'bad_checksum' });
});

const advertArb = fc.record({
  version: fc.constantFrom(2 as const, 3 as const),
  vrid: fc.integer({ min: 1, max: 255 }),
  priority: fc.integer({ min: 0, max: 255 }),
  seconds: fc.integer({ min: 1, max: 40 }),
  centis: fc.integer({ min: 1, max: 4095 }),
  pass: fc.string({ minLength: 0, maxLength: 8 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
  addresses: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { minLength: 0, maxLength: 20 }),
  src: fc.integer({ min: 1, max: 0xffffffff }),
  dst: fc.integer({ min: 1, max: 0xffffffff }),
});

t.test('round trip: decode(encode(x)) = x for v2 and v3 (property)', async (t) => {
  fc.assert(fc.property(advertArb, (a) => {
    const advert: Advertisement = {
      version: a.version, vrid: a.vrid, priority: a.priority,
      intervalCs: a.version === 2 ? a.seconds * 100 : a.centis,
      authType: a.version === 2 && a.pass ? AUTH_PASS : AUTH_NONE,
      authPass: a.version === 2 ? a.pass : '', addresses: a.addresses,
    };
    const decoded = decodePacket(encodeAdvertPacket(advert, a.src, a.dst));
    if (!decoded.ok) return false;
    const { srcIp, dstIp, ttl, ...rest } = decoded.advert;
    return srcIp === a.src && dstIp === a.dst && ttl === 255 && JSON.stringify(rest) === JSON.stringify(advert);
  }), { numRuns: 500 });
  t.pass();
});

t.test('any single-bit flip in the VRRP message is caught (property)', async (t) => {
  fc.assert(fc.property(advertArb, fc.nat(), fc.integer({ min: 0, max: 7 }), (a, at, bit) => {
    const advert: Advertisement = {
      version: a.version, vrid: a.vrid, priority: a.priority, intervalCs: a.version === 2 ? 100 : a.centis,
      authType: AUTH_NONE, authPass: '', addresses: a.addresses,
    };
    const packet = encodeAdvertPacket(advert, a.src, a.dst);
    const offset = 20 + (at % (packet.length - 20));
    packet[offset] ^= 1 << bit;
    return !decodePacket(packet).ok;
  }), { numRuns: 500 });
  t.pass();
});

interface DropFixture { description: string; mutate: (p: Uint8Array) => Uint8Array; reason: DropReason }

function recomputeVrrpChecksum(p: Uint8Array): Uint8Array {
  p[26] = 0; p[27] = 0;
  const sum = onesComplementSum(p, 20, p.length);
  p[26] = (~sum >> 8) & 0xff; p[27] = ~sum & 0xff;
  return p;
}

const drops: DropFixture[] = [
  { description: 'TTL 64 (sent through a router)', mutate: (p) => { p[8] = 64; return p; }, reason: 'bad_ttl' },
  { description: 'checksum off by one', mutate: (p) => { p[27] ^= 1; return p; }, reason: 'bad_checksum' },
  { description: 'version 4', mutate: (p) => recomputeVrrpChecksum(((p[20] = 0x41), p)), reason: 'bad_version' },
  { description: 'type 2', mutate: (p) => recomputeVrrpChecksum(((p[20] = 0x22), p)), reason: 'bad_type' },
  { description: 'not VRRP', mutate: (p) => { p[9] = 17; return p; }, reason: 'not_vrrp' },
  { description: 'count claims 9 addresses', mutate: (p) => recomputeVrrpChecksum(((p[23] = 9), p)), reason: 'bad_length' },
  { description: 'cut short', mutate: (p) => p.subarray(0, 18), reason: 'truncated' },
  { description: 'IP total length beyond the data', mutate: (p) => { p[3] = 200; return p; }, reason: 'bad_ip_header' },
];

for (const f of drops) {
  t.test(`decode drops: ${f.description}`, async (t) => {
    t.same(decodePacket(f.mutate(encodeAdvertPacket(v2, SRC, GROUP))), { ok: false, reason: f.reason });
  });
}

const expect2: AdvertExpectation = { version: 2, vrid: 51, intervalCs: 100, authType: AUTH_PASS, authPass: '1111', ownIps: [0xc6120002] };

interface CheckFixture { description: string; advert: Partial<Advertisement>; src?: number; expect?: Partial<AdvertExpectation>; reason: DropReason | null }
const checks: CheckFixture[] = [
  { description: 'matching advert', advert: {}, reason: null },
  { description: 'another VRID', advert: { vrid: 52 }, reason: 'unknown_vrid' },
  { description: 'wrong password', advert: { authPass: '2222' }, reason: 'auth_failure' },
  { description: 'no authentication where PASS is configured', advert: { authType: AUTH_NONE, authPass: '' }, reason: 'auth_type_mismatch' },
  { description: 'advert_int 2 against our 1 (v2)', advert: { intervalCs: 200 }, reason: 'interval_mismatch' },
  { description: 'our own advert looped back', advert: {}, src: 0xc6120002, reason: 'own_advert' },
  { description: 'v3 advert to a v2 instance', advert: { version: 3, authType: 0, authPass: '' }, reason: 'bad_version' },
  { description: 'password longer than 8: only 8 bytes count (keepalived)', advert: { authPass: 'frSAmesX' }, expect: { authPass: 'frSAmesXYSSFmw' }, reason: null },
  { description: 'v3 with another interval is accepted (Backup adopts it)', advert: { version: 3, intervalCs: 35, authType: 0, authPass: '' }, expect: { version: 3, authType: 0, authPass: '', intervalCs: 100 }, reason: null },
];
for (const c of checks) {
  t.test(`checkAdvert: ${c.description}`, async (t) => {
    const decoded = decodePacket(encodeAdvertPacket({ ...v2, ...c.advert }, c.src ?? SRC, GROUP));
    if (!decoded.ok) { t.fail(`did not decode: ${decoded.reason}`); return; }
    t.equal(checkAdvert(decoded.advert, { ...expect2, ...c.expect }), c.reason);
  });
}

t.test('GARP is a broadcast ARP request for the VIP from our MAC (RFC 5227)', async (t) => {
  const mac = Uint8Array.from([2, 0, 0xc6, 0x12, 0, 1]);
  const frame = buildGarp(mac, 0xc6120064);
  t.equal(frame.length, 60);
  t.equal(hex(frame.subarray(0, 14)), 'ffffffffffff' + '0200c6120001' + '0806');
  t.equal(hex(frame.subarray(14, 42)), '0001' + '0800' + '06' + '04' + '0001' + '0200c6120001' + 'c6120064' + '000000000000' + 'c6120064');
});
