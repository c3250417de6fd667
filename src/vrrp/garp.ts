// Gratuitous ARP (RFC 5227 "ARP announcement"): a broadcast ARP request whose sender and
// target protocol addresses are both the VIP, so neighbours update their caches to our MAC.
// keepalived sends requests too (not replies), which every stack honours.

const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV4 = 0x0800;
const ARP_HTYPE_ETHERNET = 1;
const ARP_OP_REQUEST = 1;
/** 14 Ethernet + 28 ARP, padded to the 60-byte Ethernet minimum (without FCS). */
export const GARP_FRAME_LENGTH = 60;

export function buildGarp(senderMac: Uint8Array, vip: number): Uint8Array {
  const frame = new Uint8Array(GARP_FRAME_LENGTH);
  const view = new DataView(frame.buffer);
  frame.fill(0xff, 0, 6);
  frame.set(senderMac, 6);
  view.setUint16(12, ETHERTYPE_ARP);
  view.setUint16(14, ARP_HTYPE_ETHERNET);
  view.setUint16(16, ETHERTYPE_IPV4);
  frame[18] = 6;
  frame[19] = 4;
  view.setUint16(20, ARP_OP_REQUEST);
  frame.set(senderMac, 22);
  view.setUint32(28, vip >>> 0);
  // Target hardware address stays zero (RFC 5227 2.3).
  view.setUint32(38, vip >>> 0);
  return frame;
}
