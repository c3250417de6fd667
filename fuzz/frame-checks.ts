/**
 * Invariants the fuzz targets check on every input (issue 15): a frame that leaves the
 * pipeline parses and its checksums verify; descriptors stay inside frame memory; the flow
 * table's count equals its live entries. Each throws a FuzzFinding, which Jazzer reports
 * as a crash with the input that broke it.
 */
import type { FlowTable } from '../src/conntrack/flow-table.js';
import { ipv4HeaderChecksumValid, transportChecksumValid } from '../src/packet/checksum.js';
import { IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP, ParsedFrame, ParseResult, parseFrame } from '../src/packet/parse.js';

export class FuzzFinding extends Error {
  override name = 'FuzzFinding';
}

export function check(ok: boolean, what: string): void {
  if (!ok) throw new FuzzFinding(what);
}

const parsed = new ParsedFrame();

/** True when the L4 checksum of the IPv4 packet at l3 verifies (TCP/UDP only; others pass). */
function l4ChecksumValid(u8: Uint8Array, l3: number, end: number): boolean {
  const ihl = (u8[l3] & 0x0f) * 4;
  const total = (u8[l3 + 2] << 8) | u8[l3 + 3];
  const proto = u8[l3 + 9];
  if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return true;
  if (l3 + total > end || total < ihl) return false;
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  return transportChecksumValid(u8, l3 + ihl, total - ihl, dv.getUint32(l3 + 12), dv.getUint32(l3 + 16), proto);
}

/**
 * Whether the input frame's IPv4 and TCP/UDP checksums were valid: only then must the output's
 * be (the dataplane updates checksums incrementally, it never repairs a wrong one).
 */
export function inputChecksumsValid(frame: Uint8Array): boolean {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (parseFrame(frame, dv, 0, frame.length, parsed) !== ParseResult.OK) return false;
  return l4ChecksumValid(frame, parsed.l3Offset, frame.length);
}

/** A transmitted frame: parses (an IPIP one: outer and inner), checksums verify when the input's did. */
export function checkTransmitted(u8: Uint8Array, offset: number, length: number, inputValid: boolean): void {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const r = parseFrame(u8, dv, offset, length, parsed);
  if (r === ParseResult.UNSUPPORTED_PROTOCOL && parsed.protocol === IPPROTO_IPIP) {
    check(ipv4HeaderChecksumValid(u8, parsed.l3Offset, parsed.ipHeaderLength), 'IPIP outer header checksum wrong');
    const inner = parsed.l3Offset + parsed.ipHeaderLength;
    const innerIhl = (u8[inner] & 0x0f) * 4;
    check(u8[inner] >>> 4 === 4 && innerIhl >= 20, 'IPIP inner packet is not IPv4');
    check(ipv4HeaderChecksumValid(u8, inner, innerIhl), 'IPIP inner header checksum wrong');
    if (inputValid) check(l4ChecksumValid(u8, inner, offset + length), 'IPIP inner TCP/UDP checksum wrong');
    return;
  }
  check(r === ParseResult.OK, `transmitted frame does not parse (result ${r})`);
  if (inputValid) check(l4ChecksumValid(u8, parsed.l3Offset, offset + length), 'transmitted TCP/UDP checksum wrong');
}

/** The flow table's count is the number of allocated records; its per-server counts add up. */
export function checkFlowTable(flows: FlowTable): void {
  const internals = flows as unknown as { records: Uint32Array; slots: { highWater: number } };
  const words = internals.records.length / flows.slotCount;
  let live = 0;
  // Word 4 of a record (META) is 0 exactly when its slot is free (conntrack/flow-record.ts).
  for (let f = 0; f < internals.slots.highWater; f++) if (internals.records[f * words + 4] !== 0) live++;
  check(live === flows.stats.size, `flow table size ${flows.stats.size} but ${live} records are in use`);
  check(flows.stats.size <= flows.capacity, 'flow table above its capacity');
}
