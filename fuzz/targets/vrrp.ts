/**
 * Fuzz target: the VRRP codec. decodePacket never throws; what it accepts re-encodes to the
 * same advert (v2 and v3 checksums included), and checkAdvert gives a reason or null.
 */
import { checkAdvert, decodePacket, encodeAdvertPacket } from '../../src/vrrp/codec.js';
import { check } from '../frame-checks.js';

export function fuzz(data: Buffer): void {
  const r = decodePacket(Uint8Array.from(data));
  if (!r.ok) {
    check(typeof r.reason === 'string', 'a drop without a reason');
    return;
  }
  const a = r.advert;
  check(a.vrid >= 0 && a.vrid <= 255 && a.priority >= 0 && a.priority <= 255, 'vrid/priority out of range');
  check(a.addresses.length <= 255, 'more addresses than the count byte allows');
  // An instance configured as the advert claims to be (version, vrid, auth): the checks past those.
  const verdict = checkAdvert(a, { version: a.version, vrid: a.vrid, intervalCs: 100, authType: a.authType, authPass: 'secret', ownIps: [0xc6120002] });
  check(verdict === null || typeof verdict === 'string', 'checkAdvert gave neither null nor a reason');
  if (a.intervalCs === 0) check(verdict !== null, 'an advert with interval 0 was accepted');
  // Round trip: only what the encoder can express (v2: auth text of printable ASCII, an interval
  // of at least 1 s, which is all an accepted advert can have).
  if (!/^[\x20-\x7e]*$/.test(a.authPass) || (a.version === 2 && a.intervalCs === 0)) return;
  const again = decodePacket(encodeAdvertPacket(a, a.srcIp, a.dstIp));
  check(again.ok, `re-encoded advert does not decode (${again.ok ? '' : again.reason})`);
  if (!again.ok) return;
  const b = again.advert;
  check(b.vrid === a.vrid && b.priority === a.priority && b.intervalCs === a.intervalCs &&
    b.addresses.join() === a.addresses.join() && b.authType === a.authType && b.authPass === a.authPass, 'round trip changed the advert');
}
