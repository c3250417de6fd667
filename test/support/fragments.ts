// Test support: an IPv4 packet (in an Ethernet frame) cut into fragments by hand, as a sender's
// kernel would, for the fragment tests of DR, NAT and Full NAT.
import { ipPacketOf } from '../../src/packet/build.js';

/** Splits a frame's IP packet into fragments carrying `chunk` payload bytes each (multiple of 8). */
export function fragment(frame: Uint8Array, chunk: number): Uint8Array[] {
  const ip = ipPacketOf(frame);
  const ihl = (ip[0] & 0x0f) * 4;
  const payload = ip.subarray(ihl);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(payload.length, off + chunk));
    const f = new Uint8Array(14 + ihl + part.length);
    f.set(frame.subarray(0, 14), 0);
    f.set(ip.subarray(0, ihl), 14);
    f.set(part, 14 + ihl);
    const dv = new DataView(f.buffer);
    dv.setUint16(16, ihl + part.length);
    dv.setUint16(20, (off + chunk < payload.length ? 0x2000 : 0) | (off >> 3));
    dv.setUint16(24, 0);
    let sum = 0;
    for (let i = 0; i < ihl; i += 2) sum += dv.getUint16(14 + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    dv.setUint16(24, ~sum & 0xffff);
    out.push(f);
  }
  return out;
}
