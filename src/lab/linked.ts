// Point-to-point topologies: namespaces `${prefix}<name>` joined directly by veth pairs, no
// switch. For tests that need one wire between two stacks (the io layer's AF_XDP/tap tests).
// Built with the same helpers as createLab, so these namespaces get the lab's baseline too.
import { readdirSync } from 'node:fs';
import { addPreparedNamespace, txChecksumOff } from './namespaces.js';
import { namespaceExists } from './servers.js';
import { ipBatch, run, runInNamespace } from './shell.js';

export interface LinkSpec {
  /** Namespace names without the prefix. */
  a: string;
  aIf: string;
  b: string;
  bIf: string;
  /** The link's /24 is 198.18.<subnet>.0: a gets .1, b gets .2. */
  subnet: number;
  /** rx and tx queues per end (default 1), for multi-queue tests. */
  queues?: number;
}

export interface LinkedNamespacesOptions {
  prefix: string;
  /** Namespace names without the prefix; each becomes `${prefix}${name}`. */
  namespaces: readonly string[];
  links: readonly LinkSpec[];
}

export interface BuiltLink {
  /** Full namespace names. */
  a: string;
  b: string;
  aIf: string;
  bIf: string;
  aIp: string;
  bIp: string;
  aMac: string;
  bMac: string;
}

export interface LinkedNamespaces {
  /** Full names, in the order given. */
  namespaces: string[];
  links: BuiltLink[];
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Creates the namespaces (any already there under these names are deleted first) and links.
 * Can be called again with the same prefix and new names to grow a topology; a link may only
 * join namespaces of the same call. Undo with destroyLinkedNamespaces(prefix).
 */
export async function createLinkedNamespaces(options: LinkedNamespacesOptions): Promise<LinkedNamespaces> {
  const full = (name: string): string => {
    if (!options.namespaces.includes(name)) throw new Error(`lab: link names unknown namespace ${name}`);
    return options.prefix + name;
  };
  const namespaces = options.namespaces.map((name) => options.prefix + name);
  for (const ns of namespaces) if (!NAME.test(ns)) throw new Error(`lab: invalid namespace name ${ns}`);
  const specs = options.links.map((l) => ({ ...l, a: full(l.a), b: full(l.b) }));
  const stale = namespaces.filter(namespaceExists);
  if (stale.length > 0) await ipBatch(undefined, stale.map((ns) => `netns del ${ns}`));
  await Promise.all(namespaces.map(addPreparedNamespace));
  // Created inside a's namespace with the peer sent straight to b: nothing touches the root one.
  const lines = new Map<string, string[]>();
  for (const l of specs) {
    const q = `numrxqueues ${l.queues ?? 1} numtxqueues ${l.queues ?? 1}`;
    lines.set(l.a, [...(lines.get(l.a) ?? []), `link add ${l.aIf} ${q} type veth peer name ${l.bIf} ${q} netns ${l.b}`]);
  }
  await Promise.all([...lines].map(([ns, batch]) => ipBatch(ns, batch)));
  const links: BuiltLink[] = [];
  for (const l of specs) {
    const aIp = `198.18.${l.subnet}.1`;
    const bIp = `198.18.${l.subnet}.2`;
    const [aMac, bMac] = await Promise.all([configureEnd(l.a, l.aIf, aIp), configureEnd(l.b, l.bIf, bIp)]);
    links.push({ a: l.a, b: l.b, aIf: l.aIf, bIf: l.bIf, aIp, bIp, aMac, bMac });
  }
  return { namespaces, links };
}

/** Addresses one veth end, brings it up, turns tx checksum offload off; returns its MAC. */
async function configureEnd(namespace: string, ifname: string, ip: string): Promise<string> {
  const script = [
    `ip addr add ${ip}/24 dev ${ifname}`,
    `ip link set ${ifname} up`,
    txChecksumOff(ifname),
    `cat /sys/class/net/${ifname}/address`,
  ].join('\n');
  return (await runInNamespace(namespace, script)).stdout.trim();
}

/** Deletes every namespace whose name starts with prefix (their veths go with them). Idempotent. */
export async function destroyLinkedNamespaces(prefix: string): Promise<void> {
  if (prefix === '') throw new Error('lab: refusing to destroy namespaces with an empty prefix');
  let entries: string[];
  try {
    entries = readdirSync('/run/netns');
  } catch {
    return;
  }
  const mine = entries.filter((ns) => ns.startsWith(prefix));
  if (mine.length === 0) return;
  await ipBatch(undefined, mine.map((ns) => `netns del ${ns}`)).catch(async () => {
    for (const ns of mine.filter(namespaceExists)) await run('ip', ['netns', 'del', ns]);
  });
}
