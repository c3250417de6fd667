// The TypeScript face of the addon's RawSocket and PacketSocket (native/src/raw_socket.cc).
// Loaded lazily so the pure VRRP modules and their tests need no addon.

import { loadNative, nativeAddonPath } from '../io/native.js';

export interface ReceivedPacket {
  /** The whole IPv4 packet, header included. */
  data: Buffer;
  /** Interface the packet arrived on (IP_PKTINFO), 0 when unknown. */
  ifindex: number;
  truncated: boolean;
}

export interface RawSocket {
  bindToDevice(ifname: string): void;
  bindAddress(ip: string): void;
  joinGroup(group: string, ifname: string): void;
  leaveGroup(group: string, ifname: string): void;
  setMulticastInterface(ifname: string): void;
  setTtl(ttl: number): void;
  setMulticastLoop(on: boolean): void;
  setHeaderIncluded(on: boolean): void;
  send(dst: string, data: Uint8Array): number;
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
  RawSocket: new (protocol: number) => RawSocket;
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

/** A raw IPv4 socket for one IP protocol (112 VRRP, 1 ICMP). Needs CAP_NET_RAW. */
export function openRawSocket(protocol: number): RawSocket {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
    throw new RangeError(`IP protocol must be an integer 0..255, got ${protocol}`);
  }
  return new (loadAddon().RawSocket)(protocol);
}

/** An AF_PACKET socket that sends whole Ethernet frames on `ifname`. Needs CAP_NET_RAW. */
export function openPacketSocket(ifname: string): PacketSocket {
  if (ifname.length === 0 || ifname.length >= 16) throw new RangeError(`bad interface name ${JSON.stringify(ifname)}`);
  return new (loadAddon().PacketSocket)(ifname);
}
