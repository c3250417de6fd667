// Builds and tears down the lab's namespaces by shelling out to ip/ethtool/sysctl.
// Nothing is created in the root namespace: veths are created inside the switch namespace
// with their peer sent straight into the node's namespace.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { ipBatch, run, runInNamespace } from './shell.js';
import { addPreparedNamespace, txChecksumOff } from './namespaces.js';
import { LAB_IPV6, QUIET_MLD_SCRIPT, quietIpv6Script } from './ipv6.js';
import {
  DEFAULT_PREFIX,
  LAB_VIP,
  REAL_SERVER_NAMES,
  labNamespaceNames,
  isValidPrefix,
  labTopology,
  type LabNode,
  type LabTopology,
  type NodeShortName,
} from './topology.js';
import {
  logfilePath,
  namespaceExists,
  pidfilePath,
  runningServerPid,
  startServer,
  stopServerInNamespace,
  terminate,
} from './servers.js';

const KILL_GRACE_MS = 1_000;
/** Where directors keep their state files (src/control/recovery.ts STATE_DIR; not imported: the lab stays apart from the director). */
const DIRECTOR_STATE_DIR = '/run/ulvs';

export interface CreateLabOptions {
  prefix?: string;
  nat?: boolean;
  /** Start the HTTP servers on rs1..rs3 (default true). */
  servers?: boolean;
  /** RX/TX queues of the directors' veths (default 1), for `dataplane.queues` > 1. */
  directorQueues?: number;
  /**
   * Called once the switch (bridges and ports) is up and before any node configures an
   * address: the moment to start a capture on br0 that should see the whole bring-up.
   */
  onSwitchUp?: (topology: LabTopology) => Promise<void>;
}

export interface DestroyLabOptions {
  prefix?: string;
}

/** Builds the lab from scratch (an existing lab with this prefix is destroyed first). */
export async function createLab(options: CreateLabOptions = {}): Promise<LabTopology> {
  const topology = labTopology({ prefix: options.prefix ?? DEFAULT_PREFIX, nat: options.nat ?? false });
  await destroyLab({ prefix: topology.prefix });
  try {
    await Promise.all(topology.namespaces.map(addPreparedNamespace));
    await buildSwitch(topology, options.directorQueues ?? 1);
    if (options.onSwitchUp) await options.onSwitchUp(topology);
    const nodes = Object.values(topology.nodes);
    await Promise.all(nodes.map((node) => runInNamespace(node.name, nodeScript(node, topology.nat))));
    if (options.servers ?? true) {
      await Promise.all(REAL_SERVER_NAMES.map((rs) => startServer(topology.nodes[rs].name)));
    }
  } catch (error) {
    await destroyLab({ prefix: topology.prefix }).catch(() => undefined);
    throw error;
  }
  return topology;
}

async function buildSwitch(topology: LabTopology, directorQueues: number): Promise<void> {
  const bridges = topology.nat ? ['br0', 'br1'] : ['br0'];
  const lines: string[] = [];
  for (const [i, br] of bridges.entries()) {
    // No STP and no multicast snooping: ports forward at once and VRRP multicast is flooded.
    lines.push(`link add ${br} address 02:18:fe:0${i}:00:00 type bridge stp_state 0 forward_delay 0 mcast_snooping 0`);
  }
  const ports: string[] = [];
  for (const node of Object.values(topology.nodes)) {
    for (const ifc of node.interfaces) {
      // Both ends get the queues: a veth delivers a frame on the RX queue of its peer's TX queue.
      const queues = node.role === 'director' && directorQueues > 1 ? ` numrxqueues ${directorQueues} numtxqueues ${directorQueues}` : '';
      lines.push(
        `link add ${ifc.switchPort} address ${ifc.switchPortMac}${queues} type veth peer name ${ifc.name} address ${ifc.mac}${queues} netns ${node.name}`,
      );
      lines.push(`link set ${ifc.switchPort} master ${ifc.bridge}`);
      ports.push(ifc.switchPort);
    }
  }
  for (const name of [...bridges, ...ports]) lines.push(`link set ${name} up`);
  await ipBatch(topology.switchNamespace, lines);
  await runInNamespace(topology.switchNamespace, [...ports.map(txChecksumOff), BRIDGE_NETFILTER_OFF].join('\n'));
}

// A switch passes frames as they are. With br_netfilter loaded, bridged IPv4 goes through
// netfilter, which drops malformed headers before they reach a director (garbage-frame tests
// need them to arrive) and runs conntrack on every lab packet.
const BRIDGE_NETFILTER_OFF =
  'for k in iptables ip6tables arptables; do f=/proc/sys/net/bridge/bridge-nf-call-$k; [ -w "$f" ] && echo 0 > "$f"; done; true';

/**
 * Shell script run inside a node's namespace once its interfaces exist. Dual-stack: IPv6 is
 * turned on per interface the quiet way (ipv6.ts: no DAD, RS, generated link-local or MLD
 * report), with the global address and a static link-local one.
 */
export function nodeScript(node: LabNode, nat: boolean): string {
  const lines: string[] = [QUIET_MLD_SCRIPT];
  // A router joins ff02::2 when forwarding turns on: set it before any interface has IPv6.
  if (nat && node.role === 'director') lines.push('sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1');
  for (const ifc of node.interfaces) {
    lines.push(`ip addr add ${ifc.ip}/${ifc.prefixLength} dev ${ifc.name}`);
    lines.push(`ip link set ${ifc.name} up`);
    lines.push(txChecksumOff(ifc.name));
    lines.push(quietIpv6Script(ifc.name, [ifc.ip6, `${ifc.linkLocal}/64`]));
  }
  if (node.role === 'real') {
    // DR: the real server owns the VIP but must neither answer nor announce ARP for it.
    // IPv6 needs no sysctl for that: the kernel answers neighbour solicitations only for
    // addresses on the interface they arrive on, and the VIP is on lo.
    lines.push(`ip addr add ${LAB_VIP}/32 dev lo`);
    lines.push(quietIpv6Script('lo', [LAB_IPV6.vip]));
    const arp = ['all', 'eth0'].flatMap((dev) => [
      `net.ipv4.conf.${dev}.arp_ignore=1`,
      `net.ipv4.conf.${dev}.arp_announce=2`,
    ]);
    lines.push(`sysctl -q -w ${arp.join(' ')}`);
  }
  if (node.gateway !== undefined) {
    // The gateway is not up yet (the active director adds it): onlink skips the reachability check.
    lines.push(`ip route add default via ${node.gateway} dev eth0 onlink`);
  }
  if (node.gateway6 !== undefined) lines.push(`ip -6 route add default via ${node.gateway6} dev eth0 onlink`);
  return lines.join('\n');
}

/**
 * Removes everything a lab with this prefix made: its servers, every process still inside its
 * namespaces (directors, keepalived, ...), and the namespaces, which takes the veths and
 * bridges with them. Idempotent, and works after a crash (finds things by name).
 */
export async function destroyLab(options: DestroyLabOptions = {}): Promise<void> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const names = labNamespaceNames(prefix);
  const existing = names.filter(namespaceExists);
  await Promise.all(names.map((ns) => stopServerInNamespace(ns)));
  const pids = (await Promise.all(existing.map(namespacePids))).flat();
  await Promise.all(pids.map((pid) => terminate(pid, KILL_GRACE_MS)));
  // A director killed with -9 leaves its state file (src/control/leftovers.ts), named by the
  // namespace's inode: it goes with the namespace, or a new namespace reusing the inode would
  // find another lab's leftovers in it.
  removeDirectorStateFiles(existing);
  if (existing.length > 0) {
    // If the batch stops half-way, delete what is left one by one to report the real culprit.
    await ipBatch(undefined, existing.map((ns) => `netns del ${ns}`)).catch(async () => {
      for (const ns of existing.filter(namespaceExists)) await run('ip', ['netns', 'del', ns]);
    });
  }
  for (const ns of names) {
    rmSync(pidfilePath(ns), { force: true });
    rmSync(logfilePath(ns), { force: true });
  }
}

/** ulvs's /run/ulvs/netns-<inode>-<instance>.json of each namespace (its /run/netns file's inode). */
function removeDirectorStateFiles(namespaces: readonly string[]): void {
  let files: string[];
  try { files = readdirSync(DIRECTOR_STATE_DIR); } catch { return; }
  for (const ns of namespaces) {
    let inode: number;
    try { inode = statSync(`/run/netns/${ns}`).ino; } catch { continue; }
    for (const f of files) if (f.startsWith(`netns-${inode}-`) && f.endsWith('.json')) rmSync(`${DIRECTOR_STATE_DIR}/${f}`, { force: true });
  }
}

async function namespacePids(namespace: string): Promise<number[]> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', namespace]);
    return stdout
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  } catch {
    return [];
  }
}

export interface LabNodeStatus {
  short: NodeShortName | 'switch';
  namespace: string;
  present: boolean;
  /** Pid of the lab HTTP server in this namespace, if running. */
  serverPid?: number;
}

export interface LabStatus {
  prefix: string;
  /** All namespaces present. */
  up: boolean;
  /** Some but not all namespaces present (a crashed create: run down, then up). */
  partial: boolean;
  nat: boolean;
  nodes: LabNodeStatus[];
}

export async function labStatus(options: DestroyLabOptions = {}): Promise<LabStatus> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const topology = labTopology({ prefix });
  const shorts = [...Object.keys(topology.nodes), 'switch'] as (NodeShortName | 'switch')[];
  const nodes = shorts.map((short): LabNodeStatus => {
    const namespace = prefix + short;
    const status: LabNodeStatus = { short, namespace, present: namespaceExists(namespace) };
    const pid = runningServerPid(namespace);
    return pid === undefined ? status : { ...status, serverPid: pid };
  });
  const present = nodes.filter((n) => n.present).length;
  let nat = false;
  if (namespaceExists(topology.switchNamespace)) {
    const { stdout } = await run('ip', ['-n', topology.switchNamespace, '-o', 'link', 'show']);
    nat = /^\d+: br1[:@]/m.test(stdout);
  }
  return { prefix, up: present === nodes.length, partial: present > 0 && present < nodes.length, nat, nodes };
}

/** Prefixes of the labs present on this machine (found by their switch namespace). */
export function listLabPrefixes(): string[] {
  let entries: string[];
  try {
    entries = readdirSync('/run/netns');
  } catch {
    return [];
  }
  return entries
    .filter((ns) => ns.endsWith('switch') && ns.length > 'switch'.length)
    .map((ns) => ns.slice(0, -'switch'.length))
    .filter(isValidPrefix)
    .sort();
}
