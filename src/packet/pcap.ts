// Classic libpcap files (not pcapng): write frames for tshark to decode, read what tshark or
// tcpdump captured (`tshark -F pcap -w ...`). Test and tooling support, not the hot path.

import { readFileSync, writeFileSync } from 'node:fs';

export const LINKTYPE_ETHERNET = 1;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const GLOBAL_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
const DEFAULT_SNAPLEN = 262144;

export interface PcapRecord {
  data: Uint8Array;
  /** Capture time in microseconds since the epoch; default: the record's index (deterministic files). */
  timestampMicros?: number;
  /** Length on the wire when `data` was truncated by the snaplen; default data.length. */
  originalLength?: number;
}

/** A little-endian, microsecond pcap file holding `frames`. */
export function encodePcap(frames: ReadonlyArray<Uint8Array | PcapRecord>, linktype = LINKTYPE_ETHERNET): Uint8Array {
  const records = frames.map((f) => (f instanceof Uint8Array ? { data: f } : f));
  const size = GLOBAL_HEADER_LENGTH + records.reduce((n, r) => n + RECORD_HEADER_LENGTH + r.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC_MICROSECONDS, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setInt32(8, 0, true); // thiszone
  dv.setUint32(12, 0, true); // sigfigs
  dv.setUint32(16, DEFAULT_SNAPLEN, true);
  dv.setUint32(20, linktype, true);
  let at = GLOBAL_HEADER_LENGTH;
  records.forEach((r, index) => {
    const micros = r.timestampMicros ?? index;
    dv.setUint32(at, Math.floor(micros / 1e6), true);
    dv.setUint32(at + 4, micros % 1e6, true);
    dv.setUint32(at + 8, r.data.length, true);
    dv.setUint32(at + 12, r.originalLength ?? r.data.length, true);
    out.set(r.data, at + RECORD_HEADER_LENGTH);
    at += RECORD_HEADER_LENGTH + r.data.length;
  });
  return out;
}

export function writePcapFile(path: string, frames: ReadonlyArray<Uint8Array | PcapRecord>, linktype = LINKTYPE_ETHERNET): void {
  writeFileSync(path, encodePcap(frames, linktype));
}

export interface PcapFile {
  linktype: number;
  records: Required<PcapRecord>[];
}

/** Parses a classic pcap (either byte order, micro- or nanosecond). Throws on anything else. */
export function decodePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < GLOBAL_HEADER_LENGTH) throw new Error('pcap: shorter than the global header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  let nanos: boolean;
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  if (magicLe === MAGIC_MICROSECONDS || magicLe === MAGIC_NANOSECONDS) { little = true; nanos = magicLe === MAGIC_NANOSECONDS; }
  else if (magicBe === MAGIC_MICROSECONDS || magicBe === MAGIC_NANOSECONDS) { little = false; nanos = magicBe === MAGIC_NANOSECONDS; }
  else throw new Error(`pcap: unknown magic 0x${magicBe.toString(16)} (pcapng? write with -F pcap)`);
  const linktype = dv.getUint32(20, little);
  const records: Required<PcapRecord>[] = [];
  let at = GLOBAL_HEADER_LENGTH;
  while (at + RECORD_HEADER_LENGTH <= bytes.length) {
    const seconds = dv.getUint32(at, little);
    const fraction = dv.getUint32(at + 4, little);
    const captured = dv.getUint32(at + 8, little);
    const original = dv.getUint32(at + 12, little);
    const start = at + RECORD_HEADER_LENGTH;
    if (start + captured > bytes.length) throw new Error(`pcap: record at byte ${at} runs past the end`);
    records.push({
      data: bytes.slice(start, start + captured),
      timestampMicros: seconds * 1e6 + (nanos ? Math.floor(fraction / 1000) : fraction),
      originalLength: original,
    });
    at = start + captured;
  }
  return { linktype, records };
}

export function readPcapFile(path: string): PcapFile {
  return decodePcap(new Uint8Array(readFileSync(path)));
}
