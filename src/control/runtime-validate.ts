/**
 * A runtime change is checked by the config room itself: the services it touched are written
 * back as ulvs.yaml entries and loaded as check-config loads a file, so a weight out of range
 * or an unknown scheduler is refused in check-config's words (without its FILE:LINE:COL, which
 * would point into a file that does not exist).
 */
import { stringify } from 'yaml';
import { ConfigError, loadConfigText, type UlvsConfig, type VirtualServerConfig } from '../config/index.js';
import type { ServiceRef } from './runtime-overrides.js';

function rawService(vs: VirtualServerConfig): Record<string, unknown> {
  return {
    vip: vs.vip, port: vs.port, protocol: vs.protocol, lb_algo: vs.lb_algo, lb_kind: vs.lb_kind,
    persistence_timeout: vs.persistence_timeout, persistence_granularity: vs.persistence_granularity, ops: vs.ops,
    sh_port: vs.sh_port, sh_fallback: vs.sh_fallback, mh_port: vs.mh_port, mh_fallback: vs.mh_fallback,
    ...(vs.laddr_group_name !== undefined ? { laddr_group_name: vs.laddr_group_name } : {}),
    real_servers: vs.real_servers.map((rs) => ({ ip: rs.ip, port: rs.port, weight: rs.weight, uthreshold: rs.uthreshold, lthreshold: rs.lthreshold })),
  };
}

/** check-config's messages for the touched services of the effective config; empty = acceptable. */
export function validateServices(effective: UlvsConfig, touched: readonly ServiceRef[]): string[] {
  const services = effective.virtual_servers.filter((vs) => !vs.group && touched.some((t) => t.vip === vs.vip && t.port === vs.port && t.protocol === vs.protocol));
  if (services.length === 0) return [];
  const dp = effective.dataplane;
  // Full NAT's groups go along: a FNAT service is checked against the groups it may name.
  const groups = effective.local_address_groups ?? [];
  const doc = {
    dataplane: { interface: dp.interface, ...(dp.inside ? { inside: dp.inside } : {}) },
    ...(groups.length ? { local_address_groups: groups } : {}),
    virtual_servers: services.map(rawService),
  };
  try {
    loadConfigText(stringify(doc), 'ipvsadm');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) return [(err as Error).message];
    return err.diagnostics.map((d) => d.message);
  }
}
