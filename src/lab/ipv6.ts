// The lab's IPv6 address plan (issue 16 item 8: RFC 5180's 2001:2::/48 beside the IPv4 plan)
// and how one interface gets IPv6 without chatter on the wire. The lab's namespaces start with
// IPv6 disabled (NAMESPACE_SYSCTLS) so captures stay clean; enableQuietIpv6 turns it on for
// one interface only, with no link-local address generated (addr_gen_mode=1: no MLD report
// for a solicited-node group, no DAD), no router solicitations, no RA, and addresses nodad.
// A global address still joins its solicited-node group, and this kernel (6.18) then sends an
// MLDv2 report from :: whatever the sysctls say: an nftables output rule in the namespace
// drops MLD reports (nothing in the lab needs them: its bridges do not snoop multicast).
// `ulvs lab up` applies it to every node's interfaces (lab.ts nodeScript); the per-node
// addresses are in topology.ts (same host part as IPv4: 198.18.0.10 and 2001:2::10).
import { runInNamespace } from './shell.js';

export const LAB_IPV6 = {
  client: '2001:2::1',
  dir1: '2001:2::2',
  dir2: '2001:2::3',
  rs1: '2001:2::10',
  rs2: '2001:2::20',
  rs3: '2001:2::30',
  /** The samples' IPv6 VIP, held by the real servers on lo for DR. */
  vip: '2001:2::100',
  prefixLength: 64,
  /** With --nat the real servers move to their own /64 behind the director. */
  nat: { dir1: '2001:2:0:1::1', dir2: '2001:2:0:1::2', rs1: '2001:2:0:1::10', rs2: '2001:2:0:1::20', rs3: '2001:2:0:1::30', gateway: '2001:2:0:1::254', prefixLength: 64 },
} as const;

/** Per-interface settings, in the order they must apply (before disable_ipv6=0 turns it on). */
export function quietIpv6Sysctls(ifname: string): string[] {
  const c = `net.ipv6.conf.${ifname}`;
  return [`${c}.addr_gen_mode=1`, `${c}.accept_ra=0`, `${c}.accept_dad=0`, `${c}.router_solicitations=0`, `${c}.disable_ipv6=0`];
}

/**
 * Once per namespace, before any IPv6 address: drops outgoing MLD reports (listener reports
 * v1 and v2). Idempotent (`add` of an existing table/chain is a no-op; the rule set is flushed).
 */
export const QUIET_MLD_SCRIPT = [
  'nft add table ip6 ulvs_lab_quiet',
  "nft add chain ip6 ulvs_lab_quiet out '{ type filter hook output priority 0; }'",
  'nft flush chain ip6 ulvs_lab_quiet out',
  'nft add rule ip6 ulvs_lab_quiet out icmpv6 type { mld-listener-report, mld2-listener-report } drop',
].join('\n');

/** The shell lines enableQuietIpv6 runs (pure, for tests and for anyone's own script). */
export function quietIpv6Script(ifname: string, addresses: readonly string[]): string {
  return [
    `sysctl -q -w ${quietIpv6Sysctls(ifname).join(' ')}`,
    ...addresses.map((a) => `ip -6 addr add ${a.includes('/') ? a : `${a}/${ifname === 'lo' ? 128 : LAB_IPV6.prefixLength}`} dev ${ifname} nodad`),
  ].join('\n');
}

/** Turns IPv6 on for one interface of a namespace, quietly, and adds `addresses`. */
export async function enableQuietIpv6(namespace: string, ifname: string, addresses: readonly string[]): Promise<void> {
  await runInNamespace(namespace, `${QUIET_MLD_SCRIPT}\n${quietIpv6Script(ifname, addresses)}`);
}
