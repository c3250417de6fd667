// One raw VRRP socket per interface, shared by the instances on it, and the interface's
// primary address (the advert source when unicast_src_ip is not set).
import { networkInterfaces } from 'node:os';

import { ipToNumber } from '../packet/addr.js';
import { openRawSocket, type RawSocket } from '../os/raw-sockets.js';
import { VRRP_PROTOCOL, VRRP_TTL } from './codec.js';
import { AH_PROTOCOL } from './ipsec-ah.js';

export interface InterfaceIo<Instance> {
  name: string;
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
export function openInterfaceIo<Instance>(name: string): InterfaceIo<Instance> {
  return { name, socket: openVrrpSocket(name, VRRP_PROTOCOL), ahSocket: null, groups: new Set(), instances: [], receiving: false, ahReceiving: false };
}

function openVrrpSocket(name: string, protocol: number): RawSocket {
  const socket = openRawSocket(protocol);
  try {
    socket.bindToDevice(name);
    socket.setHeaderIncluded(true);
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

/** First IPv4 address of the interface that is not one of our VIPs (the primary address). */
export function primaryAddress(ifname: string, vips: readonly number[]): string | null {
  for (const a of networkInterfaces()[ifname] ?? []) {
    if (a.family === 'IPv4' && !vips.includes(ipToNumber(a.address))) return a.address;
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
