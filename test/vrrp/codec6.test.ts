// VRRPv3 over IPv6 (src/vrrp/codec6.ts) and the unsolicited neighbour advertisement
// (src/vrrp/na.ts): round trips, drop reasons, checksums against the packet room's IPv6
// transport checksum (an independent implementation) and against tshark's decoders, and a
// decode that never throws on arbitrary bytes.
import t from 'tap';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdvert6, encodeAdvert6, VRRP_MCAST_GROUP6 } from '../../src/vrrp/codec6.js';
import { buildUnsolicitedNa, NA_FRAME_LENGTH } from '../../src/vrrp/na.js';
import { ipv6TransportChecksumValid } from '../../src/packet/checksum6.js';
import { parseIpv6 } from '../../src/packet/addr6.js';

const SRC = 'fe80::2';
const advert = { vrid: 51, priority: 200, intervalCs: 100, addresses: ['2001:2::100', 'fe80::100'] };
const MAC = Uint8Array.from([0x02, 0x18, 0, 0, 0, 2]);

/** Ethernet + IPv6 header (hop limit 255, next header 112) + the VRRP payload. */
function vrrpFrame(payload: Uint8Array, src: string, dst: string, hopLimit = 255): Uint8Array {
  const frame = new Uint8Array(14 + 40 + payload.length);
  const view = new DataView(frame.buffer);
  frame.set([0x33, 0x33, 0, 0, 0, 0x12], 0);
  frame.set(MAC, 6);
  view.setUint16(12, 0x86dd);
  view.setUint32(14, 0x60000000);
  view.setUint16(18, payload.length);
  frame[20] = 112;
  frame[21] = hopLimit;
  frame.set(parseIpv6(src), 22);
  frame.set(parseIpv6(dst), 38);
  frame.set(payload, 54);
  return frame;
}

t.test('encode/decode round trip; the checksum is the IPv6 transport checksum', async (t) => {
  const payload = encodeAdvert6(advert, SRC, VRRP_MCAST_GROUP6);
  t.equal(payload.length, 8 + 2 * 16);
  t.same([...payload.subarray(0, 6)], [0x31, 51, 200, 2, 0, 100], 'version 3, type 1, vrid, priority, count, interval');
  const d = decodeAdvert6(payload, SRC, VRRP_MCAST_GROUP6, 255);
  t.ok(d.ok);
  if (d.ok) t.same(d.advert, { ...advert, source: SRC, destination: 'ff02::12', hopLimit: 255 });
  const frame = vrrpFrame(payload, SRC, VRRP_MCAST_GROUP6);
  t.ok(ipv6TransportChecksumValid(frame, 14, 54, payload.length, 112), 'the packet room agrees on the checksum');
});

t.test('drops: hop limit first, version, type, length, checksum (with the real source)', async (t) => {
  const payload = encodeAdvert6(advert, SRC, VRRP_MCAST_GROUP6);
  const reason = (p: Uint8Array, src = SRC, hop = 255) => { const r = decodeAdvert6(p, src, VRRP_MCAST_GROUP6, hop); return r.ok ? 'ok' : r.reason; };
  t.equal(reason(payload, SRC, 254), 'bad_ttl', 'hop limit 254: forwarded by a router, dropped');
  t.equal(reason(payload, SRC, -1), 'bad_ttl', 'hop limit unknown: dropped');
  t.equal(reason(payload.subarray(0, 7)), 'truncated');
  const v2 = payload.slice(); v2[0] = 0x21;
  t.equal(reason(v2), 'bad_version', 'VRRPv2 does not exist over IPv6');
  const type2 = payload.slice(); type2[0] = 0x32;
  t.equal(reason(type2), 'bad_type');
  t.equal(reason(payload.subarray(0, 30)), 'bad_length', 'fewer address bytes than the count says');
  t.equal(reason(payload, 'fe80::3'), 'bad_checksum', 'another source: the pseudo-header differs');
  const flipped = payload.slice(); flipped[10] ^= 1;
  t.equal(reason(flipped), 'bad_checksum');
  t.equal(reason(payload, 'not-an-address'), 'bad_ip_header');
});

t.test('decode never throws, whatever the bytes (property)', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: -1, max: 255 }), (bytes, hop) => {
    const r = decodeAdvert6(bytes, SRC, VRRP_MCAST_GROUP6, hop);
    return typeof r.ok === 'boolean';
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 0xfff }),
    fc.array(fc.ipV6(), { maxLength: 20 }), (vrid, priority, intervalCs, addresses) => {
      const r = decodeAdvert6(encodeAdvert6({ vrid, priority, intervalCs, addresses }, SRC, VRRP_MCAST_GROUP6), SRC, VRRP_MCAST_GROUP6, 255);
      return r.ok && r.advert.vrid === vrid && r.advert.priority === priority && r.advert.intervalCs === intervalCs
        && r.advert.addresses.length === addresses.length;
    }), { numRuns: 500 });
  t.pass('no throw, round trips');
});

t.test('tshark decodes our VRRPv3/IPv6 advert and unsolicited NA, checksums good', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ulvs-codec6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const frames = [vrrpFrame(encodeAdvert6(advert, SRC, VRRP_MCAST_GROUP6), SRC, VRRP_MCAST_GROUP6), buildUnsolicitedNa(MAC, '2001:2::100')];
  t.equal(frames[1].length, NA_FRAME_LENGTH);
  // A classic pcap: global header, then per frame a 16-byte record header.
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0); global.writeUInt16LE(2, 4); global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16); global.writeUInt32LE(1, 20);
  const records = frames.map((f) => { const h = Buffer.alloc(16); h.writeUInt32LE(f.length, 8); h.writeUInt32LE(f.length, 12); return Buffer.concat([h, f]); });
  const file = join(dir, 'v6.pcap');
  writeFileSync(file, Buffer.concat([global, ...records]));
  const out = execFileSync('tshark', ['-r', file, '-V'], { encoding: 'utf8' });
  t.match(out, /Virtual Router Redundancy Protocol/);
  t.match(out, /VRRP protocol version: 3/);
  t.match(out, /Virtual Rtr ID: 51/);
  t.match(out, /Priority: 200/);
  t.match(out, /Adver Int: 100/);
  t.match(out, /Internet Protocol Version 6, Src: fe80::2, Dst: ff02::12/);
  t.equal((out.match(/Checksum: 0x[0-9a-f]+ \[correct\]/g) ?? []).length, 2, 'VRRP and ICMPv6 checksums correct');
  t.match(out, /Neighbor Advertisement \(136\)/);
  t.match(out, /Flags: 0x20000000, Override/);
  t.match(out, /= Solicited: Not set/);
  t.match(out, /Internet Protocol Version 6, Src: 2001:2::100, Dst: ff02::1\n/);
  t.match(out, /Target Address: 2001:2::100/);
  t.match(out, /Link-layer address: .*02:18:00:00:00:02/);
  t.notMatch(out, /\[incorrect|Bad checksum|Checksum Status: Bad/i, 'no bad checksum anywhere');
  if (!t.passing()) t.comment(out);
});
