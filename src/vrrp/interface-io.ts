// One raw VRRP socket per interface and family, shared by the instances on it, and the
// interface's primary address (the advert source when unicast_src_ip is not set; IPv6: its
// link-local address, which the kernel picks as the source of what goes to ff02::12).
import { networkInterfaces } from 'node:os';

import { addressKey, type AddressKey } from './address-key.js';
import { openRawSocket, type RawSocket } from '../os/raw-sockets.js';
import { VRRP_PROTOCOL, VRRP_TTL } from './codec.js';
import { AH_PROTOCOL } from './ipsec-ah.js';

export interface InterfaceIo<Instance> {
  name: string;
  /** 6: a raw IPv6 socket (no header included; the kernel gives source, destination, hop limit). */
  family: 4 | 6;
  socket: RawSocket;
  /** auth_type AH: adverts come as IP protocol 51, so a second socket, opened when an AH instance arrives. */
  ahSocket: RawSocket | null;
  /** Multicast groups joined on this socket. */
  groups: Set<string>;
  instances: Instance[];
  receiving: boolean;
  ahReceiving: boolean;
}

/** Opens and configures the socket; closes it again if the interface cannot take it. */
export function openInterfaceIo<Instance>(name: string, family: 4 | 6 = 4): InterfaceIo<Instance> {
  return { name, family, socket: openVrrpSocket(name, VRRP_PROTOCOL, family), ahSocket: null, groups: new Set(), instances: [], receiving: false, ahReceiving: false };
}

/** The speaker's key for an interface's io: one per interface and family. */
export function interfaceIoKey(name: string, family: 4 | 6): string {
  return family === 4 ? name : `${name}/ipv6`;
}

/**
 * IPv6: not bound to an address (a bound raw IPv6 socket would not receive what goes to
 * ff02::12), so the kernel picks the link-local source; the hop limit is 255 for unicast and
 * multicast alike.
 */
function openVrrpSocket(name: string, protocol: number, family: 4 | 6 = 4): RawSocket {
  const socket = openRawSocket(protocol, family);
  try {
    socket.bindToDevice(name);
    if (family === 4) socket.setHeaderIncluded(true);
    socket.setTtl(VRRP_TTL);
    socket.setMulticastLoop(false);
    socket.setMulticastInterface(name);
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}

/** Opens the AH socket of the interface (once), in the groups the VRRP socket is in. */
export function enableAh(io: InterfaceIo<unknown>): void {
  if (io.ahSocket) return;
  const socket = openVrrpSocket(io.name, AH_PROTOCOL);
  try {
    for (const group of io.groups) socket.joinGroup(group, io.name);
  } catch (err) {
    socket.close();
    throw err;
  }
  io.ahSocket = socket;
}

/** Both sockets of the interface. */
export function socketsOf(io: InterfaceIo<unknown>): RawSocket[] {
  return io.ahSocket ? [io.socket, io.ahSocket] : [io.socket];
}

/** Multicast instances listen on their group; unicast ones (peers given) join nothing. */
export function joinGroupIfMulticast(io: InterfaceIo<unknown>, group: string, peers: readonly string[]): void {
  if (peers.length === 0 && !io.groups.has(group)) {
    for (const socket of socketsOf(io)) socket.joinGroup(group, io.name);
    io.groups.add(group);
  }
}

/**
 * First address of the family on the interface that is not one of our VIPs (the primary
 * address). IPv6: the first link-local one (RFC 5798 5.1.2.1: adverts come from it).
 */
export function primaryAddress(ifname: string, vips: readonly AddressKey[], family: 4 | 6 = 4): string | null {
  for (const a of networkInterfaces()[ifname] ?? []) {
    if (family === 4 && a.family === 'IPv4' && !vips.includes(addressKey(a.address))) return a.address;
    if (family === 6 && a.family === 'IPv6' && /^fe80:/i.test(a.address) && !vips.includes(addressKey(a.address))) return a.address;
  }
  return null;
}

/**
 * A removed instance leaves its interface: the group it listened on is left when no other
 * multicast instance there uses it, and the socket closes with the last instance. Returns
 * true when the socket was closed (the caller forgets the interface).
 */
export function detachInstance<Instance extends { peers: readonly string[]; mcastGroup: string }>(
  io: InterfaceIo<Instance>, inst: Instance,
): boolean {
  io.instances.splice(io.instances.indexOf(inst), 1);
  if (io.instances.length === 0) {
    for (const socket of socketsOf(io)) socket.close();
    return true;
  }
  if (io.groups.has(inst.mcastGroup) && !io.instances.some((i) => i.peers.length === 0 && i.mcastGroup === inst.mcastGroup)) {
    for (const socket of socketsOf(io)) {
      try { socket.leaveGroup(inst.mcastGroup, io.name); } catch { /* the group goes with the socket anyway */ }
    }
    io.groups.delete(inst.mcastGroup);
  }
  return false;
}
