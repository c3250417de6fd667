import type { SchedulerFlags, SchedulerName } from '../schedulers/types.js';

/** Forwarding methods, IPVS names in comments. */
export const FORWARD_DR = 0;   // gate, -g: "Route"
export const FORWARD_NAT = 1;  // masq, -m: "Masq"
export const FORWARD_TUN = 2;  // ipip, -i: "Tunnel"
export const FORWARD_FNAT = 3; // DPVS's fullnat, -b: "FullNat" (src/dataplane/fnat.ts)
export type ForwardMethod = typeof FORWARD_DR | typeof FORWARD_NAT | typeof FORWARD_TUN | typeof FORWARD_FNAT;
export const FORWARD_NAMES = ['Route', 'Masq', 'Tunnel', 'FullNat'] as const;

/**
 * What the control plane publishes to the dataplane workers: plain data (structured-clonable),
 * compiled from the config plus the kernel's neighbour table. Workers build their lookup
 * structures from it and swap to it between batches.
 */
export interface Snapshot {
  version: number;
  services: SnapshotService[];
  /** Outer source address of TUN packets (the director's own address on the interface). */
  tunnelSource: number;
  /** Outer source for IPv6-in-IPv6 (the interface's first global IPv6 address); absent: none. */
  tunnelSource6?: string;
  /**
   * queues > 1 with IPv6 services: the memory of the IPv6 persistence templates every worker
   * shares (persistence6.ts allocateSharedTemplates6), the same buffer in every snapshot.
   */
  templateMemory6?: SharedArrayBuffer;
  /** dataplane.interface's MTU: TUN packets above it are refused (frag needed with DF). */
  mtu: number;
  /**
   * Full NAT's local addresses (local_address_groups, every group's in order) and each group's
   * indices into them. Fixed for the director's life (a reload that changes them is refused),
   * so the workers' port pools never change shape. Absent: no local address groups.
   */
  localAddresses?: SnapshotLocalAddress[];
  localGroups?: number[][];
}

export interface SnapshotLocalAddress {
  ip: number;
  portMin: number;
  portMax: number;
  /** On dataplane.interface (true) or dataplane.inside (false): where requests leave, replies come. */
  outside: boolean;
}

export interface SnapshotService {
  /** Stable across reloads while the service exists (flows store it). */
  id: number;
  /** The VIP:ports that reach this service: one, or a virtual_server_group's members. */
  addresses: ServiceAddress[];
  protocol: 6 | 17;
  forward: ForwardMethod;
  scheduler: SchedulerName;
  schedulerFlags: SchedulerFlags;
  /** Seconds; 0 = not persistent. */
  persistenceTimeout: number;
  /** persistence_granularity as a host-order mask. */
  persistenceMask: number;
  /** UDP one-packet scheduling (ipvsadm -o). */
  onePacket: boolean;
  /**
   * TCP: a non-SYN segment of an unknown connection is scheduled as a new one (IPVS's
   * sloppy_tcp), decided from dataplane.sloppy_tcp and the scheduler. Absent = false (drop).
   */
  sloppyTcp?: boolean;
  /**
   * Every live destination is this director (IPVS's Local forwarding): the service is not
   * steered, so its packets go on to the director's own kernel stack, unchanged, to VIP:port.
   */
  kernel?: boolean;
  realServers: SnapshotRealServer[];
  /**
   * mh, sh, dh: the lookup table the control plane built for `realServers` (SharedArrayBuffer
   * memory, never changed once published; src/control/scheduler-tables.ts). Absent: the worker
   * builds its own (tests, tools).
   */
  schedulerTable?: Int32Array;
  /** FORWARD_FNAT: index into Snapshot.localGroups (laddr_group_name). */
  localGroup?: number;
  /**
   * 6 for an IPv6 service (issue 16): its addresses carry `vip6`, its servers `ip6`, and the
   * worker's IPv6 path (ipv6-steps.ts) forwards it. Absent: IPv4.
   */
  family?: 6;
  /** IPv6 persistence_granularity as a prefix length (ipvsadm -M 64); IPv4 uses persistenceMask. */
  persistencePrefix6?: number;
}

export interface ServiceAddress {
  /** IPv4 VIP as a host-order number; 0 for an IPv6 service. */
  vip: number;
  vport: number;
  /** IPv6 VIP, canonical text (RFC 5952), for an IPv6 service. */
  vip6?: string;
}

export interface SnapshotRealServer {
  /** Stable id (< 65536) for the life of the endpoint; flows and counters are keyed by it. */
  rsId: number;
  /** IPv4 address as a host-order number; IPv6: the four words XORed (IPVS's fold, what the schedulers hash). */
  ip: number;
  /** IPv6 address, canonical text, for an IPv6 service's server. */
  ip6?: string;
  /** 0 = the client's destination port (group services, as IPVS). */
  port: number;
  weight: number;
  /** false = taken out by a health check (not schedulable). */
  available: boolean;
  /** Next hop's MAC ("aa:bb:..."), null while unresolved: packets for it are dropped and counted. */
  mac: string | null;
  uthreshold: number;
  lthreshold: number;
  /** The director itself (127/8, its own address, the VIP): listed as `Local`. */
  local?: boolean;
  /** TUN: packet/tunnels.ts TunnelKind from tun_type + tun_flags. Absent: IPIP. */
  tunnel?: number;
  /** TUN with GUE: tun_port, the outer UDP destination port. */
  tunnelPort?: number;
}
