/**
 * What a reload may change in place and what only a restart can: a pure decision over the
 * running and the new config, so the director's reload is a list of steps it carries out.
 */
import type { StaticIpAddressConfig, UlvsConfig } from '../config/index.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../conntrack/tcp-states.js';
import { FORWARD_NAT, type Snapshot } from '../dataplane/snapshot.js';

/** dataplane keys the workers were started with: a change to one of them needs a restart. */
export const RESTART_ONLY_KEYS = ['interface', 'inside', 'io', 'queues', 'conn_table_size', 'busy_poll', 'busy_poll_spin_us'] as const;

export interface ReloadPlan {
  /** Why the new config cannot be applied in place (one line each); empty = it can. */
  rejections: string[];
  /** Static addresses the new config no longer has. */
  release: StaticIpAddressConfig[];
  /** Static addresses of the new config (holding one already held is a no-op). */
  hold: StaticIpAddressConfig[];
  /** The new effective connection timeouts when the config changed them, else null. */
  timeouts: Timeouts | null;
}

/** The connection timeouts a config asks for: IPVS's defaults overridden by lvs_timeouts. */
export function configuredTimeouts(config: UlvsConfig): Timeouts {
  return { ...DEFAULT_TIMEOUTS, ...config.dataplane.lvs_timeouts };
}

/**
 * The inside interface the workers open: whenever one is configured (not only when a NAT
 * service exists), so that a reload can add the first NAT service. null = none.
 */
export function insideToOpen(dataplane: UlvsConfig['dataplane'], snapshot: Snapshot): string | null {
  const needsInside = snapshot.services.some((s) => s.forward === FORWARD_NAT) || dataplane.inside !== undefined;
  return needsInside ? dataplane.inside ?? null : null;
}

/** `insideOpen`: the running workers opened an inside interface. */
export function planReload(old: UlvsConfig, next: UlvsConfig, insideOpen: boolean): ReloadPlan {
  const plan: ReloadPlan = { rejections: [], release: [], hold: [], timeouts: null };
  const restartOnly = RESTART_ONLY_KEYS.filter((k) => JSON.stringify(old.dataplane[k]) !== JSON.stringify(next.dataplane[k]));
  if (restartOnly.length) {
    plan.rejections = restartOnly.map((k) => `dataplane.${k} changed: it takes effect only on restart`);
    return plan;
  }
  if (JSON.stringify(old.local_address_groups) !== JSON.stringify(next.local_address_groups)) {
    // The workers' port pools are sized from them at start (snapshot.ts localAddresses).
    plan.rejections = ['local_address_groups changed: it takes effect only on restart'];
    return plan;
  }
  if (next.virtual_servers.some((vs) => vs.lb_kind === 'NAT') && !insideOpen) {
    plan.rejections = ['a NAT service needs the inside interface, which this director did not open: restart to add the first NAT service'];
    return plan;
  }
  const key = (a: { address: string; dev: string }): string => `${a.address} ${a.dev}`;
  const wanted = new Set(next.static_ipaddress.map(key));
  plan.release = old.static_ipaddress.filter((a) => !wanted.has(key(a)));
  plan.hold = next.static_ipaddress;
  const timeouts = configuredTimeouts(next);
  if (JSON.stringify(timeouts) !== JSON.stringify(configuredTimeouts(old))) plan.timeouts = timeouts;
  return plan;
}

/** VIPs some vrrp_instance manages: not forwarded until the speaker says this director is MASTER. */
export function vrrpManagedVips(config: UlvsConfig): Set<string> {
  return new Set(config.vrrp_instances.flatMap((vi) => [...vi.virtual_ipaddress, ...vi.virtual_ipaddress_excluded].map((a) => a.ip)));
}
