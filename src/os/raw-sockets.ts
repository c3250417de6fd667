// The TypeScript face of the addon's RawSocket and PacketSocket (native/src/raw_socket.cc).
// Loaded lazily so the pure VRRP modules and their tests need no addon.

import { loadNative, nativeAddonPath } from '../io/native.js';

export interface ReceivedPacket {
  /** IPv4: the whole packet, header included. IPv6: the payload only (raw IPv6 sockets). */
  data: Buffer;
  /** Interface the packet arrived on (IP_PKTINFO / IPV6_PKTINFO), 0 when unknown. */
  ifindex: number;
  truncated: boolean;
  /** IPv6 sockets only: what the header said (recvmsg's address, IPV6_PKTINFO, IPV6_HOPLIMIT; -1 unknown). */
  source?: string;
  destination?: string;
  hopLimit?: number;
}

export interface RawSocket {
  bindToDevice(ifname: string): void;
  bindAddress(ip: string): void;
  joinGroup(group: string, ifname: string): void;
  leaveGroup(group: string, ifname: string): void;
  setMulticastInterface(ifname: string): void;
  /** TTL, or for IPv6 the unicast and multicast hop limit. */
  setTtl(ttl: number): void;
  setMulticastLoop(on: boolean): void;
  setHeaderIncluded(on: boolean): void;
  /**
   * IPv6 sockets take `source`: the header's source (IPV6_PKTINFO), the address a VRRPv3
   * checksum covers, whatever else the interface holds; IPv4 sockets ignore it.
   */
  send(dst: string, data: Uint8Array, source?: string): number;
  start(onPackets: (packets: ReceivedPacket[]) => void): void;
  stop(): void;
  close(): void;
  fd(): number;
  /** Reads what is waiting now and hands it to start's callback before returning. */
  drain(): void;
  /** VRRP stall cover (native/src/advert_cover.h): resend `data` while the sender is late. */
  coverAdvert(key: string, dst: string, data: Uint8Array, intervalMs: number, lateMs: number, giveUpMs: number): void;
  withdrawAdvert(key: string): void;
  /** Adverts the cover sent because the speaker was late. */
  coveredAdverts(): number;
}

export interface PacketSocket {
  send(frame: Uint8Array): number;
  close(): void;
}

interface RawSocketAddon {
  RawSocket: new (protocol: number, family?: 4 | 6) => RawSocket;
  PacketSocket: new (ifname: string) => PacketSocket;
}

/** The shared addon (src/io/native.ts loads it once per thread) seen through its raw-socket exports. */
function loadAddon(): RawSocketAddon {
  const loaded = loadNative() as unknown as Partial<RawSocketAddon>;
  if (typeof loaded.RawSocket !== 'function' || typeof loaded.PacketSocket !== 'function') {
    throw new Error(`${nativeAddonPath()} has no RawSocket/PacketSocket (rebuild the addon: npm run build:native)`);
  }
  return loaded as RawSocketAddon;
}

/**
 * A raw socket for one IP protocol (112 VRRP, 1 ICMP; IPv6: 112 VRRPv3, 58 ICMPv6). Needs
 * CAP_NET_RAW. IPv6 sockets scope link-local and multicast addresses (bind, send) to the
 * interface named by bindToDevice or setMulticastInterface; the kernel builds the IPv6 header
 * (and, for ICMPv6, computes and verifies the checksum).
 */
export function openRawSocket(protocol: number, family: 4 | 6 = 4): RawSocket {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
    throw new RangeError(`IP protocol must be an integer 0..255, got ${protocol}`);
  }
  return family === 6 ? new (loadAddon().RawSocket)(protocol, 6) : new (loadAddon().RawSocket)(protocol);
}

/** An AF_PACKET socket that sends whole Ethernet frames on `ifname`. Needs CAP_NET_RAW. */
export function openPacketSocket(ifname: string): PacketSocket {
  if (ifname.length === 0 || ifname.length >= 16) throw new RangeError(`bad interface name ${JSON.stringify(ifname)}`);
  return new (loadAddon().PacketSocket)(ifname);
}
