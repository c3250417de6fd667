// The lab's fixed topology as plain data: names, addresses and MACs that the demo, the tests,
// the bench and packet fixtures rely on. Pure: no I/O here (see lab.ts for the shell).
// Dual-stack: every interface also has an IPv6 address from RFC 5180's 2001:2::/48 (ipv6.ts).
import { LAB_IPV6 } from './ipv6.js';

export const DEFAULT_PREFIX = 'lab-';

/** The VIP the sample configs use. The lab never configures it on directors (the director does). */
export const LAB_VIP = '198.18.0.100';
/** NAT variant: real servers' default gateway, held by the active director (added by its config). */
export const NAT_GATEWAY = '198.18.1.254';

export const NODE_SHORT_NAMES = ['client', 'dir1', 'dir2', 'rs1', 'rs2', 'rs3'] as const;
export type NodeShortName = (typeof NODE_SHORT_NAMES)[number];
export type NodeRole = 'client' | 'director' | 'real';
export const REAL_SERVER_NAMES = ['rs1', 'rs2', 'rs3'] as const;

/** The namespace that holds the bridges; suffix after the prefix. */
export const SWITCH_SHORT_NAME = 'switch';

// Prefixes become namespace names (files under /run/netns) and pidfile names, and are pasted
// into shell scripts: keep them to a safe alphabet. Interface names never contain the prefix,
// so its length is not bound by IFNAMSIZ.
const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

export interface LabInterface {
  readonly name: 'eth0' | 'eth1';
  readonly ip: string;
  readonly prefixLength: 24;
  /** IPv6 global address (/64), same host part as `ip` (2001:2::10 beside 198.18.0.10). */
  readonly ip6: string;
  /** Static link-local address (/64, nodad): the kernel generates none (addr_gen_mode=1), VRRPv3 needs one. */
  readonly linkLocal: string;
  readonly mac: string;
  /** Bridge in the switch namespace this interface hangs off. */
  readonly bridge: 'br0' | 'br1';
  /** Name of the veth peer inside the switch namespace (≤ 15 chars). */
  readonly switchPort: string;
  readonly switchPortMac: string;
}

export interface LabNode {
  readonly short: NodeShortName;
  /** Network namespace name: prefix + short name. */
  readonly name: string;
  readonly role: NodeRole;
  /** Address and MAC of eth0, the node's first interface. */
  readonly ip: string;
  /** IPv6 address of eth0. */
  readonly ip6: string;
  readonly mac: string;
  readonly interfaces: readonly LabInterface[];
  /** Default route, if the lab sets one (NAT real servers only). */
  readonly gateway?: string;
  /** IPv6 default route, beside `gateway` (NAT real servers only). */
  readonly gateway6?: string;
}

export type LabNodes = { readonly [K in NodeShortName]: LabNode };

export interface LabTopology {
  readonly prefix: string;
  readonly nat: boolean;
  readonly switchNamespace: string;
  readonly vip: string;
  /** The samples' IPv6 VIP (real servers hold it on lo; directors never get it from the lab). */
  readonly vip6: string;
  readonly natGateway?: string;
  readonly natGateway6?: string;
  readonly nodes: LabNodes;
  /** All namespaces the lab creates, switch last. */
  readonly namespaces: readonly string[];
}

export function isValidPrefix(prefix: string): boolean {
  return PREFIX_PATTERN.test(prefix);
}

export function assertValidPrefix(prefix: string): void {
  if (!isValidPrefix(prefix)) {
    throw new Error(
      `invalid lab prefix ${JSON.stringify(prefix)}: use 1-40 characters from [A-Za-z0-9_.-], starting with a letter or digit (e.g. 'lab-')`,
    );
  }
}

/** Deterministic MAC from an address: 02:18:00:<segment>:00:<last octet> (locally administered). */
export function labMac(segment: 0 | 1, lastOctet: number, side: 'node' | 'switch' = 'node'): string {
  const kind = side === 'node' ? '00' : 'ff';
  return ['02', '18', kind, hex2(segment), '00', hex2(lastOctet)].join(':');
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** MAC string "02:18:00:00:00:0a" to 6 bytes. */
export function macBytes(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6) throw new Error(`not a MAC address: ${mac}`);
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

/** 2001:2::<octet> on segment 0, 2001:2:0:1::<octet> on segment 1 (octet written as decimal digits: .10 is ::10). */
function ipv6For(segment: 0 | 1, lastOctet: number): { ip6: string; linkLocal: string } {
  return segment === 0
    ? { ip6: `2001:2::${lastOctet}`, linkLocal: `fe80::${lastOctet}` }
    : { ip6: `2001:2:0:1::${lastOctet}`, linkLocal: `fe80::1:${lastOctet}` };
}

function iface(name: 'eth0' | 'eth1', segment: 0 | 1, lastOctet: number, switchPort: string): LabInterface {
  return {
    name,
    ip: `198.18.${segment}.${lastOctet}`,
    prefixLength: 24,
    ...ipv6For(segment, lastOctet),
    mac: labMac(segment, lastOctet),
    bridge: segment === 0 ? 'br0' : 'br1',
    switchPort,
    switchPortMac: labMac(segment, lastOctet, 'switch'),
  };
}

const LAST_OCTET: { readonly [K in NodeShortName]: number } = {
  client: 1,
  dir1: 2,
  dir2: 3,
  rs1: 10,
  rs2: 20,
  rs3: 30,
};

const ROLE: { readonly [K in NodeShortName]: NodeRole } = {
  client: 'client',
  dir1: 'director',
  dir2: 'director',
  rs1: 'real',
  rs2: 'real',
  rs3: 'real',
};

// NAT: directors' eth1 on 198.18.1.0/24 take .1 and .2 (their index), real servers keep their octet.
const NAT_DIRECTOR_OCTET: { readonly [K in 'dir1' | 'dir2']: number } = { dir1: 1, dir2: 2 };

function buildNode(prefix: string, short: NodeShortName, nat: boolean): LabNode {
  const octet = LAST_OCTET[short];
  const role = ROLE[short];
  let interfaces: LabInterface[];
  let gateway: string | undefined;
  if (nat && role === 'real') {
    // Real servers move to the inside segment; their only way out is the directors' gateway.
    interfaces = [iface('eth0', 1, octet, short)];
    gateway = NAT_GATEWAY;
  } else if (nat && role === 'director') {
    const d = short as 'dir1' | 'dir2';
    interfaces = [iface('eth0', 0, octet, short), iface('eth1', 1, NAT_DIRECTOR_OCTET[d], `${short}-e1`)];
  } else {
    interfaces = [iface('eth0', 0, octet, short)];
  }
  const eth0 = interfaces[0];
  const node: LabNode = { short, name: prefix + short, role, ip: eth0.ip, ip6: eth0.ip6, mac: eth0.mac, interfaces };
  return gateway === undefined ? node : { ...node, gateway, gateway6: LAB_IPV6.nat.gateway };
}

export function labTopology(options: { prefix?: string; nat?: boolean } = {}): LabTopology {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const nat = options.nat ?? false;
  assertValidPrefix(prefix);
  const nodes = Object.fromEntries(NODE_SHORT_NAMES.map((s) => [s, buildNode(prefix, s, nat)])) as unknown as LabNodes;
  const switchNamespace = prefix + SWITCH_SHORT_NAME;
  const topology: LabTopology = {
    prefix,
    nat,
    switchNamespace,
    vip: LAB_VIP,
    vip6: LAB_IPV6.vip,
    nodes,
    namespaces: [...NODE_SHORT_NAMES.map((s) => prefix + s), switchNamespace],
  };
  return nat ? { ...topology, natGateway: NAT_GATEWAY, natGateway6: LAB_IPV6.nat.gateway } : topology;
}

/** The lab's nodes keyed by short name (`labNodes('lab-').rs1.ip === '198.18.0.10'`). */
export function labNodes(prefix: string = DEFAULT_PREFIX, options: { nat?: boolean } = {}): LabNodes {
  return labTopology({ prefix, nat: options.nat ?? false }).nodes;
}

/** All namespace names a lab with this prefix may own (nodes and switch). */
export function labNamespaceNames(prefix: string): string[] {
  assertValidPrefix(prefix);
  return [...NODE_SHORT_NAMES, SWITCH_SHORT_NAME].map((s) => prefix + s);
}

export type NodeResolution =
  | { ok: true; prefix: string; short: NodeShortName; namespace: string }
  | { ok: false; message: string };

/**
 * Accepts a short name ('rs2', resolved with `prefix`) or a full namespace name ('lab-rs2',
 * whose prefix is whatever precedes the short name).
 */
export function resolveNode(node: string, prefix: string = DEFAULT_PREFIX): NodeResolution {
  if ((NODE_SHORT_NAMES as readonly string[]).includes(node)) {
    return { ok: true, prefix, short: node as NodeShortName, namespace: prefix + node };
  }
  for (const short of NODE_SHORT_NAMES) {
    if (node.endsWith(short)) {
      const p = node.slice(0, node.length - short.length);
      if (isValidPrefix(p)) return { ok: true, prefix: p, short, namespace: node };
    }
  }
  const valid = NODE_SHORT_NAMES.join(', ');
  return {
    ok: false,
    message: `unknown lab node '${node}': valid nodes are ${valid} (or with a prefix, e.g. ${prefix}rs1)`,
  };
}
