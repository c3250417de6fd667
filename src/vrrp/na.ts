// Unsolicited neighbour advertisement (RFC 4861 4.4, 7.2.6): what a new IPv6 MASTER sends for
// each VIP, as gratuitous ARP is for IPv4 (keepalived's vrrp_garp_* settings, and
// vrrp_gna_interval, apply to these). To all-nodes ff02::1 from the VIP, hop limit 255,
// Override set so neighbours replace their cache entry, with the target link-layer address
// option carrying our MAC. A whole Ethernet frame, sent on the PacketSocket as GARPs are.
import { parseIpv6, IPV6_ADDRESS_LENGTH } from '../packet/addr6.js';
import { finishChecksum, onesComplementSum } from './codec.js';

const ETHERTYPE_IPV6 = 0x86dd;
const IPPROTO_ICMPV6 = 58;
const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_OVERRIDE = 0x20;
const OPTION_TARGET_LINK_LAYER_ADDRESS = 2;
const ALL_NODES = parseIpv6('ff02::1');
/** 33:33 + the low 32 bits of ff02::1 (RFC 2464 7). */
const ALL_NODES_MAC = Uint8Array.from([0x33, 0x33, 0, 0, 0, 1]);
const ETHERNET_HEADER = 14;
const IPV6_HEADER = 40;
/** Type, code, checksum, flags (4), target (16), TLLA option (8). */
export const NA_ICMP_LENGTH = 32;
export const NA_FRAME_LENGTH = ETHERNET_HEADER + IPV6_HEADER + NA_ICMP_LENGTH;

/** `router`: set the R flag (the sender forwards, as keepalived does when forwarding is on). */
export function buildUnsolicitedNa(senderMac: Uint8Array, vip: string, options: { router?: boolean } = {}): Uint8Array {
  const target = parseIpv6(vip);
  const frame = new Uint8Array(NA_FRAME_LENGTH);
  const view = new DataView(frame.buffer);
  frame.set(ALL_NODES_MAC, 0);
  frame.set(senderMac, 6);
  view.setUint16(12, ETHERTYPE_IPV6);
  const ip = ETHERNET_HEADER;
  view.setUint32(ip, 0x60000000);
  view.setUint16(ip + 4, NA_ICMP_LENGTH);
  frame[ip + 6] = IPPROTO_ICMPV6;
  frame[ip + 7] = 255;
  frame.set(target, ip + 8);
  frame.set(ALL_NODES, ip + 24);
  const icmp = ip + IPV6_HEADER;
  frame[icmp] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  frame[icmp + 4] = NA_FLAG_OVERRIDE | (options.router ? NA_FLAG_ROUTER : 0);
  frame.set(target, icmp + 8);
  frame[icmp + 24] = OPTION_TARGET_LINK_LAYER_ADDRESS;
  frame[icmp + 25] = 1; // in units of 8 bytes
  frame.set(senderMac, icmp + 26);
  // Checksum over the pseudo-header (source, destination, length, next header) and the message.
  let sum = onesComplementSum(frame, ip + 8, ip + 8 + 2 * IPV6_ADDRESS_LENGTH);
  sum += NA_ICMP_LENGTH + IPPROTO_ICMPV6;
  view.setUint16(icmp + 2, finishChecksum(onesComplementSum(frame, icmp, icmp + NA_ICMP_LENGTH, sum)));
  return frame;
}
