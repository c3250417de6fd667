import t from 'tap';
import fc from 'fast-check';
import {
  foldSum, internetChecksum, ipv4HeaderChecksum, ipv4HeaderChecksumValid, pseudoHeaderSum, sumWords,
  transportChecksum, transportChecksumValid, udpChecksumForWire, updateChecksum16, updateChecksum32,
  updateUdpChecksum16, updateUdpChecksum32, UDP_CHECKSUM_OFFSET, TCP_CHECKSUM_OFFSET,
} from '../../src/packet/checksum.js';
import { buildFrame } from '../../src/packet/build.js';

/** Independent oracle: RFC 1071 with the end-around carry applied after every addition. */
function slowChecksum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
    if (s > 0xffff) s -= 0xffff;
  }
  return ~s & 0xffff;
}

t.test('RFC 1071 worked example', async (t) => {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (checksum = ~ddf2).
  const data = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  t.equal(foldSum(sumWords(data, 0, 8, 0)), 0xddf2);
  t.equal(internetChecksum(data, 0, 8), ~0xddf2 & 0xffff);
});

t.test('a known IPv4 header (Wikipedia example) checksums to b861', async (t) => {
  const h = new Uint8Array([0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
    0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]);
  t.equal(ipv4HeaderChecksum(h, 0, 20), 0xb861);
  t.ok(ipv4HeaderChecksumValid(h, 0, 20));
  h[11] ^= 1;
  t.notOk(ipv4HeaderChecksumValid(h, 0, 20));
});

t.test('full checksum equals the slow oracle at any offset and odd lengths (property)', async () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 1600 }), fc.nat({ max: 7 }), (bytes, pad) => {
    const u8 = new Uint8Array(pad + bytes.length);
    u8.set(bytes, pad);
    return internetChecksum(u8, pad, bytes.length) === slowChecksum(bytes);
  }), { numRuns: 500 });
});

t.test('foldSum never folds a non-zero sum to 0 and keeps the residue', async () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 0xffffffff }), (s) => {
    const f = foldSum(s);
    return f >= 1 && f <= 0xffff && f % 0xffff === s % 0xffff;
  }), { numRuns: 2000 });
});

// Random data whose first word is non-zero, as in every real header (IPv4 version, pseudo header).
const headerLike = fc.tuple(fc.integer({ min: 1, max: 0xffff }), fc.uint8Array({ minLength: 4, maxLength: 80 }))
  .map(([first, rest]) => {
    const u8 = new Uint8Array(2 + (rest.length & ~1));
    u8[0] = first >> 8; u8[1] = first & 0xff;
    u8.set(rest.subarray(0, rest.length & ~1), 2);
    return u8;
  });

t.test('RFC 1624 16-bit update equals full recomputation (property)', async () => {
  fc.assert(fc.property(headerLike, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (u8, which, newWord) => {
    // Word 1 (bytes 2-3) is the checksum field; change any other word.
    const words = u8.length / 2;
    u8[2] = 0; u8[3] = 0;
    const hc = internetChecksum(u8, 0, u8.length);
    let w = which % words;
    if (w === 1) w = 0;
    const old = (u8[2 * w] << 8) | u8[2 * w + 1];
    if (w === 0 && newWord === 0) newWord = 1; // keep the data non-zero, as real headers are
    u8[2 * w] = newWord >> 8; u8[2 * w + 1] = newWord & 0xff;
    return updateChecksum16(hc, old, newWord) === internetChecksum(u8, 0, u8.length);
  }), { numRuns: 3000 });
});

t.test('RFC 1624 32-bit update equals full recomputation (property)', async () => {
  fc.assert(fc.property(headerLike, fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (u8, which, newValue) => {
    if (u8.length < 8) return true;
    u8[2] = 0; u8[3] = 0;
    const hc = internetChecksum(u8, 0, u8.length);
    // A 32-bit field at an even word index >= 2 (so it never overlaps word 0 or the checksum).
    const pairs = (u8.length / 2 - 2) >> 1;
    if (pairs < 1) return true;
    const at = 4 + 4 * (which % pairs);
    const dv = new DataView(u8.buffer);
    const old = dv.getUint32(at);
    dv.setUint32(at, newValue);
    return updateChecksum32(hc, old, newValue) === internetChecksum(u8, 0, u8.length);
  }), { numRuns: 3000 });
});

t.test('edge words: 0x0000 <-> 0xFFFF changes', async (t) => {
  const u8 = new Uint8Array([0x45, 0x00, 0, 0, 0xff, 0xff, 0x00, 0x00]);
  const hc = internetChecksum(u8, 0, 8);
  u8[4] = 0; u8[5] = 0; u8[6] = 0xff; u8[7] = 0xff;
  t.equal(updateChecksum32(hc, 0xffff0000, 0x0000ffff), internetChecksum(u8, 0, 8));
  t.equal(updateChecksum16(hc, 0xffff, 0x0000), internetChecksum(new Uint8Array([0x45, 0, 0, 0, 0, 0, 0, 0]), 0, 8));
});

t.test('pseudo header and transport checksum over a built TCP frame verify', async (t) => {
  const frame = buildFrame({ ip: { src: '198.18.0.1', dst: '198.18.0.100' }, tcp: { srcPort: 40000, dstPort: 80 }, payload: 'hello' });
  const l4 = 34;
  const l4Length = frame.length - l4;
  t.ok(transportChecksumValid(frame, l4, l4Length, 0xc6120001, 0xc6120064, 6));
  const dv = new DataView(frame.buffer);
  t.equal(transportChecksum(frame, l4, l4Length, TCP_CHECKSUM_OFFSET, 0xc6120001, 0xc6120064, 6), dv.getUint16(l4 + 16));
  t.equal(pseudoHeaderSum(0xc6120001, 0xc6120064, 6, 25), 0xc612 + 0x0001 + 0xc612 + 0x0064 + 6 + 25);
  frame[frame.length - 1] ^= 0x20;
  t.notOk(transportChecksumValid(frame, l4, l4Length, 0xc6120001, 0xc6120064, 6));
});

t.test('UDP: absent checksum (0) stays 0; a computed 0 goes out as 0xFFFF', async (t) => {
  t.equal(updateUdpChecksum16(0, 1234, 80), 0);
  t.equal(updateUdpChecksum32(0, 0xc6120064, 0xc612000b), 0);
  t.equal(udpChecksumForWire(0), 0xffff);
  t.equal(udpChecksumForWire(0x1234), 0x1234);

  // Find a 2-byte payload that makes the UDP checksum compute to exactly 0.
  const src = '198.18.0.1', dst = '198.18.0.100';
  const base = buildFrame({ ip: { src, dst }, udp: { srcPort: 5353, dstPort: 53 }, payload: new Uint8Array([0, 0]) });
  const dv0 = new DataView(base.buffer);
  const folded = ~dv0.getUint16(34 + 6) & 0xffff; // fold(sum) of the data
  const w = 0xffff - folded;
  t.ok(w > 1 && w < 0xffff, 'found a payload word');
  const zero = buildFrame({ ip: { src, dst }, udp: { srcPort: 5353, dstPort: 53 }, payload: new Uint8Array([w >> 8, w & 0xff]) });
  const dv = new DataView(zero.buffer);
  t.equal(transportChecksum(zero, 34, 10, UDP_CHECKSUM_OFFSET, 0xc6120001, 0xc6120064, 17), 0, 'computes to 0');
  t.equal(dv.getUint16(34 + 6), 0xffff, 'builder sends it as 0xFFFF');
  t.ok(transportChecksumValid(zero, 34, 10, 0xc6120001, 0xc6120064, 17), '0xFFFF verifies');

  // The incremental path must land on 0xFFFF too, not 0 (which would mean "no checksum").
  const before = buildFrame({ ip: { src, dst }, udp: { srcPort: 5353, dstPort: 53 }, payload: new Uint8Array([(w - 1) >> 8, (w - 1) & 0xff]) });
  const hc = new DataView(before.buffer).getUint16(34 + 6);
  t.equal(updateUdpChecksum16(hc, w - 1, w), 0xffff);
  t.equal(updateChecksum16(hc, w - 1, w), 0, 'plain RFC 1624 gives 0 here, which UDP must not send');
});
