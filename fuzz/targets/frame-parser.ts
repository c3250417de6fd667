/**
 * Fuzz target: parseFrame on arbitrary bytes at an arbitrary place in frame memory. It must
 * return a known result, read nothing outside [offset, offset + length), and for OK frames
 * report offsets that lie inside the frame.
 */
import { ParsedFrame, ParseResult, PARSE_RESULT_COUNT, parseFrame } from '../../src/packet/parse.js';
import { check } from '../frame-checks.js';
import { fixChecksums } from '../fix-checksums.js';

const MEMORY = 4096;
const u8 = new Uint8Array(MEMORY);
const dv = new DataView(u8.buffer);
const out = new ParsedFrame();
// Guard bytes around the frame: a parser reading past the end would see these and, with the
// length check below, show it only through a wrong result; the offsets check catches the rest.
const GUARD = 0xa5;

export function fuzz(data: Buffer): void {
  if (data.length < 2) return;
  const frame = Uint8Array.from(data.subarray(2, 2 + MEMORY / 2));
  if ((data[0] & 1) !== 0) fixChecksums(frame);
  const offset = (data[1] * 8) % (MEMORY / 2);
  u8.fill(GUARD);
  u8.set(frame, offset);
  const r = parseFrame(u8, dv, offset, frame.length, out);
  check(Number.isInteger(r) && r >= 0 && r < PARSE_RESULT_COUNT, `unknown parse result ${r}`);
  const end = offset + frame.length;
  if (r === ParseResult.OK) {
    check(out.l3Offset >= offset + 14 && out.l3Offset + out.ipHeaderLength <= end, 'IPv4 header outside the frame');
    check(out.l4Offset === out.l3Offset + out.ipHeaderLength, 'L4 offset is not after the IP header');
    check(out.l4Offset + out.l4Length <= end, 'L4 length runs past the frame');
    check(out.payloadOffset <= out.l4Offset + out.l4Length, 'payload starts past the packet');
    if (out.icmpInnerL3Offset >= 0) check(out.icmpInnerL3Offset + 28 <= end, 'ICMP quote outside the frame');
  }
  // The same bytes at another offset parse the same way (no dependence on what lies around them).
  const again = new ParsedFrame();
  u8.fill(0);
  u8.set(frame, 0);
  check(parseFrame(u8, dv, 0, frame.length, again) === r, 'result depends on where the frame lies');
}
