// Which packets the XDP program (AF_XDP) or the tc filter (TAP) hands to ulvs; everything
// else goes on to the kernel. Pure, so its rules are tested without a worker.
import type { SteeringRule } from '../io/port.js';
import { FORWARD_FNAT, FORWARD_NAT, type Snapshot } from './snapshot.js';

/** An IPv6 service's rule carries its address as text (ip is then 0 / the fold, ignored). */
function withIp6(rule: SteeringRule, ip6: string | undefined): SteeringRule {
  return ip6 === undefined ? rule : { ...rule, ip: 0, ip6 };
}

export function steeringFor(snapshot: Snapshot): { outside: SteeringRule[]; inside: SteeringRule[] } {
  const outside: SteeringRule[] = [];
  const inside: SteeringRule[] = [];
  for (const s of snapshot.services) {
    // Local forwarding: unsteered, so XDP passes (TAP: tc does not redirect) to the kernel.
    if (s.kernel) continue;
    const protocol = s.protocol === 6 ? 'tcp' : 'udp';
    for (const a of s.addresses) outside.push(withIp6({ kind: 'service', ip: a.vip, port: a.vport, protocol }, a.vip6));
    if (s.forward === FORWARD_NAT) {
      for (const rs of s.realServers) inside.push(withIp6({ kind: 'reply', ip: rs.ip, port: rs.port, protocol }, rs.ip6));
    }
    if (s.forward === FORWARD_FNAT) {
      // Full NAT replies come from the real server's ip:port to a local address, on the
      // interface that address lives on: steered by their source as NAT's are. The dataplane
      // hands those not to a local address:pool port on to the kernel (fnat.ts toClient).
      const group = (snapshot.localGroups ?? [])[s.localGroup ?? -1] ?? [];
      const where = group.map((a) => snapshot.localAddresses![a].outside);
      for (const rs of s.realServers) {
        const rule: SteeringRule = { kind: 'reply', ip: rs.ip, port: rs.port, protocol };
        if (where.includes(true)) outside.push(rule);
        if (where.includes(false)) inside.push(rule);
      }
    }
  }
  return { outside, inside };
}

/**
 * "Whole address" keys (port 0) for fragment steering (the XDP program's map, TAP's u32 filters), one per
 * VIP and per NAT or Full NAT real server and protocol, so every fragment of their datagrams reaches ulvs
 * (a later fragment has no ports to match; see native/bpf/ulvs_xdp.c). A service on port 0
 * has the same key already; duplicates are harmless in a hash map (src/io/tc.ts says how TAP
 * spells them).
 */
export function fragmentSteeringFor(snapshot: Snapshot): { outside: SteeringRule[]; inside: SteeringRule[] } {
  const outside = new Map<string, SteeringRule>();
  const inside = new Map<string, SteeringRule>();
  for (const s of snapshot.services) {
    if (s.kernel) continue;
    const protocol = s.protocol === 6 ? 'tcp' : 'udp';
    for (const a of s.addresses) outside.set(`${protocol} ${a.vip6 ?? a.vip}`, withIp6({ kind: 'service', ip: a.vip, port: 0, protocol }, a.vip6));
    if (s.forward === FORWARD_NAT) {
      for (const rs of s.realServers) inside.set(`${protocol} ${rs.ip6 ?? rs.ip}`, withIp6({ kind: 'reply', ip: rs.ip, port: 0, protocol }, rs.ip6));
    }
    if (s.forward === FORWARD_FNAT) {
      // Full NAT replies' fragments, on the interface(s) the service's local addresses live on.
      const where = ((snapshot.localGroups ?? [])[s.localGroup ?? -1] ?? []).map((a) => snapshot.localAddresses![a].outside);
      for (const rs of s.realServers) {
        const rule: SteeringRule = { kind: 'reply', ip: rs.ip, port: 0, protocol };
        if (where.includes(true)) outside.set(`${protocol} ${rs.ip}`, rule);
        if (where.includes(false)) inside.set(`${protocol} ${rs.ip}`, rule);
      }
    }
  }
  return { outside: [...outside.values()], inside: [...inside.values()] };
}

/** Everything a port steers: the connection rules and the whole-address fragment rules. */
export function allSteeringFor(snapshot: Snapshot): { outside: SteeringRule[]; inside: SteeringRule[] } {
  const rules = steeringFor(snapshot);
  const whole = fragmentSteeringFor(snapshot);
  return { outside: [...rules.outside, ...whole.outside], inside: [...rules.inside, ...whole.inside] };
}
