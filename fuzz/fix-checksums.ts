/** Rewrites a frame's IPv4 header checksum and its TCP/UDP checksum so they verify (fuzz harnesses). */
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4, ETHERTYPE_VLAN, IPPROTO_TCP, IPPROTO_UDP } from '../src/packet/parse.js';
import { TCP_CHECKSUM_OFFSET, UDP_CHECKSUM_OFFSET, transportChecksum, udpChecksumForWire, writeIpv4HeaderChecksum } from '../src/packet/checksum.js';

export function fixChecksums(frame: Uint8Array): void {
  if (frame.length < ETHERNET_HEADER_LENGTH + 20) return;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let l3 = ETHERNET_HEADER_LENGTH;
  let ethertype = dv.getUint16(12);
  if (ethertype === ETHERTYPE_VLAN && frame.length >= l3 + 24) { ethertype = dv.getUint16(16); l3 += 4; }
  if (ethertype !== ETHERTYPE_IPV4) return;
  const ihl = (frame[l3] & 0x0f) * 4;
  if (ihl < 20 || l3 + ihl > frame.length) return;
  writeIpv4HeaderChecksum(frame, l3, ihl);
  const total = dv.getUint16(l3 + 2);
  if (total < ihl || l3 + total > frame.length) return;
  const proto = frame[l3 + 9];
  const l4 = l3 + ihl;
  const l4Len = total - ihl;
  const at = proto === IPPROTO_TCP ? TCP_CHECKSUM_OFFSET : proto === IPPROTO_UDP ? UDP_CHECKSUM_OFFSET : -1;
  if (at < 0 || l4Len < at + 2) return;
  const sum = transportChecksum(frame, l4, l4Len, at, dv.getUint32(l3 + 12), dv.getUint32(l3 + 16), proto);
  dv.setUint16(l4 + at, proto === IPPROTO_UDP ? udpChecksumForWire(sum) : sum);
}
