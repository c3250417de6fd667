// Which packets the XDP program (AF_XDP) or the tc filter (TAP) hands to ulvs; everything
// else goes on to the kernel. Pure, so its rules are tested without a worker.
import type { SteeringRule } from '../io/index.js';
import { FORWARD_NAT, type Snapshot } from './snapshot.js';

export function steeringFor(snapshot: Snapshot): { outside: SteeringRule[]; inside: SteeringRule[] } {
  const outside: SteeringRule[] = [];
  const inside: SteeringRule[] = [];
  for (const s of snapshot.services) {
    // Local forwarding: unsteered, so XDP passes (TAP: tc does not redirect) to the kernel.
    if (s.kernel) continue;
    const protocol = s.protocol === 6 ? 'tcp' : 'udp';
    for (const a of s.addresses) outside.push({ kind: 'service', ip: a.vip, port: a.vport, protocol });
    if (s.forward === FORWARD_NAT) {
      for (const rs of s.realServers) inside.push({ kind: 'reply', ip: rs.ip, port: rs.port, protocol });
    }
  }
  return { outside, inside };
}
