// One raw VRRP socket per interface, shared by the instances on it, and the interface's
// primary address (the advert source when unicast_src_ip is not set).
import { networkInterfaces } from 'node:os';

import { ipToNumber } from '../packet/addr.js';
import { openRawSocket, type RawSocket } from '../os/raw-sockets.js';
import { VRRP_PROTOCOL, VRRP_TTL } from './codec.js';

export interface InterfaceIo<Instance> {
  name: string;
  socket: RawSocket;
  /** Multicast groups joined on this socket. */
  groups: Set<string>;
  instances: Instance[];
  receiving: boolean;
}

/** Opens and configures the socket; closes it again if the interface cannot take it. */
export function openInterfaceIo<Instance>(name: string): InterfaceIo<Instance> {
  const socket = openRawSocket(VRRP_PROTOCOL);
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
  return { name, socket, groups: new Set(), instances: [], receiving: false };
}

/** Multicast instances listen on their group; unicast ones (peers given) join nothing. */
export function joinGroupIfMulticast(io: InterfaceIo<unknown>, group: string, peers: readonly string[]): void {
  if (peers.length === 0 && !io.groups.has(group)) {
    io.socket.joinGroup(group, io.name);
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
    io.socket.close();
    return true;
  }
  if (io.groups.has(inst.mcastGroup) && !io.instances.some((i) => i.peers.length === 0 && i.mcastGroup === inst.mcastGroup)) {
    try { io.socket.leaveGroup(inst.mcastGroup, io.name); } catch { /* the group goes with the socket anyway */ }
    io.groups.delete(inst.mcastGroup);
  }
  return false;
}
