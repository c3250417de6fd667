/**
 * From the normalized config (src/config normalizeConfig) to what HealthManager takes.
 * Typed structurally, so this room depends on the shape of the config, not on its module.
 */
import type { CheckerType } from './types.js';
import type { CheckDefinition, ServiceDefinition } from './manager.js';
import type { RunAs } from '../os/script-user.js';
import type { NotifyScript } from '../os/notify.js';

export interface PlanRealServer {
  ip: string;
  port: number;
  weight?: number;
  notify_up?: NotifyScript;
  notify_down?: NotifyScript;
  /** The normalized checker block (`type` + keepalived keys with timing resolved), or null. */
  check: { checker: CheckerType } | null;
}

export interface PlanVirtualServer {
  vip?: string;
  port?: number;
  group?: string;
  protocol?: string;
  delay_loop?: number;
  quorum?: number;
  hysteresis?: number;
  quorum_up?: NotifyScript;
  quorum_down?: NotifyScript;
  sorry_server?: { ip: string; port: number };
  ha_suspend?: boolean;
  omega?: boolean;
  real_servers: PlanRealServer[];
}

export interface HealthPlan {
  checks: CheckDefinition[];
  services: ServiceDefinition[];
  /** Who runs the notify_up/down and quorum_up/down scripts (global_defs.script_user). */
  runAs: RunAs;
}

/** How ulvs names a virtual service unless the caller says otherwise: "198.18.0.100:80/TCP". */
export function defaultServiceId(vs: Pick<PlanVirtualServer, 'vip' | 'port' | 'group' | 'protocol'>, index: number): string {
  const proto = vs.protocol ?? 'TCP';
  if (vs.group) return `group:${vs.group}/${proto}`;
  if (vs.vip) return `${vs.vip}:${vs.port ?? 0}/${proto}`;
  return `vs#${index}`;
}

export const realServerKey = (rs: { ip: string; port: number }): string => `${rs.ip}:${rs.port}`;

export function healthPlan(
  config: {
    virtual_servers: PlanVirtualServer[];
    track_files?: Record<string, { file: string; weight?: number; reverse?: boolean }>;
    global_defs?: { script_user?: string; enable_script_security?: boolean };
  },
  serviceId: (vs: PlanVirtualServer, index: number) => string = defaultServiceId,
): HealthPlan {
  const checks: CheckDefinition[] = [];
  const services: ServiceDefinition[] = [];
  const runAs: RunAs = { scriptUser: config.global_defs?.script_user, security: config.global_defs?.enable_script_security ?? false };
  config.virtual_servers.forEach((vs, i) => {
    const id = serviceId(vs, i);
    const unchecked: Array<{ rsKey: string; weight?: number }> = [];
    for (const rs of vs.real_servers) {
      if (!rs.check) { unchecked.push({ rsKey: realServerKey(rs), weight: rs.weight }); continue; }
      const { checker: type, ...params } = rs.check as { checker: CheckerType } & Record<string, unknown>;
      if (type === 'file_check' && params.file === undefined && typeof params.track_file === 'string') {
        // keepalived FILE_CHECK names a track_file block; its file and weight are the defaults.
        const tf = config.track_files?.[params.track_file];
        if (tf) {
          params.file = tf.file;
          if (params.weight === undefined && tf.weight !== undefined) params.weight = tf.weight;
          if (params.reverse === undefined && tf.reverse !== undefined) params.reverse = tf.reverse;
        }
      }
      // MISC_CHECK's `user`, else script_user (keepalived); part of the probe's identity.
      if (type === 'misc_check') params.run_as = { ...runAs, user: typeof params.user === 'string' ? params.user : undefined };
      checks.push({
        serviceId: id,
        rsKey: realServerKey(rs),
        target: { ip: rs.ip, port: rs.port },
        type,
        params,
        delay_loop: vs.delay_loop,
        weight: rs.weight,
        notify_up: rs.notify_up,
        notify_down: rs.notify_down,
      });
    }
    services.push({
      id,
      quorum: vs.quorum,
      hysteresis: vs.hysteresis,
      quorum_up: vs.quorum_up,
      quorum_down: vs.quorum_down,
      sorry_server: vs.sorry_server,
      uncheckedRealServers: unchecked,
      ha_suspend: vs.ha_suspend,
      omega: vs.omega,
      vips: vs.vip ? [vs.vip] : undefined,
    });
  });
  return { checks, services, runAs };
}
