// What every lab-built namespace gets, shared by createLab (lab.ts) and the point-to-point
// builder (linked.ts): creation with a retry, lo up and the sysctls, tx checksum off on veths.
import { run, runInNamespace } from './shell.js';
import { namespaceExists } from './servers.js';

// Set before any interface exists so that new interfaces inherit them from "default":
// no IPv6 chatter (RS/DAD) on the wire for captures and AF_XDP tests, and no reverse-path
// filtering in the way of DR/NAT/IPIP paths.
export const NAMESPACE_SYSCTLS = [
  'net.ipv6.conf.all.disable_ipv6=1',
  'net.ipv6.conf.default.disable_ipv6=1',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
];

// The first `ip netns add` on a machine also sets up the /run/netns mount; parallel first
// calls (tap runs test files at once) can trip over each other, so retry once.
export async function addNamespace(namespace: string): Promise<void> {
  try {
    await run('ip', ['netns', 'add', namespace]);
  } catch {
    if (namespaceExists(namespace)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (!namespaceExists(namespace)) await run('ip', ['netns', 'add', namespace]);
  }
}

/** Creates the namespace and brings it to the lab's baseline: lo up, NAMESPACE_SYSCTLS set. */
export async function addPreparedNamespace(namespace: string): Promise<void> {
  await addNamespace(namespace);
  await runInNamespace(namespace, `ip link set lo up\nsysctl -q -w ${NAMESPACE_SYSCTLS.join(' ')}`);
}

// Frames that went through AF_XDP otherwise keep CHECKSUM_PARTIAL and arrive with bad checksums.
export function txChecksumOff(ifname: string): string {
  return `ethtool -K ${ifname} tx off >/dev/null`;
}
