/**
 * From the loaded config and a runtime event (VRRP move, checker verdict, quorum change) to
 * the mails keepalived would send. Pure: an index built once per config, then lookups.
 */
import { defaultServiceId, realServerKey } from '../health/plan.js';
import {
  checkerBody, formatEndpoint, formatService, groupMail, instanceMail, mailSettings, quorumMail, realServerAlerts,
  realServerMail, realServerShutMail, virtualServerAlerts, vrrpAlerts, type AlertGlobals, type Mail, type MailSettings, type VrrpMailState,
} from './plan.js';

/** The config's shape the alerts read (structural, like health/plan.ts). */
export interface AlertConfig {
  global_defs: AlertGlobals;
  vrrp_instances: Array<{ name: string; smtp_alert?: boolean }>;
  vrrp_sync_groups: Array<{ name: string; smtp_alert?: boolean }>;
  virtual_servers: Array<{
    vip?: string; port?: number; group?: string; protocol?: string; smtp_alert?: boolean;
    quorum?: number; hysteresis?: number; omega?: boolean;
    real_servers: Array<{ ip: string; port: number; smtp_alert?: boolean }>;
  }>;
}

interface ServiceAlerts {
  label: string;
  alerts: boolean;
  quorum: number;
  hysteresis: number;
  omega: boolean;
  realServers: Map<string, { label: string; alerts: boolean }>;
}

export interface AlertIndex {
  settings: MailSettings | null;
  /** no_email_faults: FAULT moves are not mailed. */
  noEmailFaults: boolean;
  instances: Map<string, boolean>;
  groups: Map<string, boolean>;
  services: Map<string, ServiceAlerts>;
}

export function alertIndex(config: AlertConfig, settings: MailSettings | null = mailSettings(config.global_defs)): AlertIndex {
  const g = config.global_defs;
  const services = new Map<string, ServiceAlerts>();
  config.virtual_servers.forEach((vs, i) => {
    const realServers = new Map<string, { label: string; alerts: boolean }>();
    for (const rs of vs.real_servers) {
      realServers.set(realServerKey(rs), { label: formatEndpoint(rs.ip, rs.port, vs.protocol), alerts: realServerAlerts(rs.smtp_alert, g) });
    }
    services.set(defaultServiceId(vs, i), {
      label: formatService(vs), alerts: virtualServerAlerts(vs.smtp_alert, g),
      quorum: vs.quorum ?? 1, hysteresis: vs.hysteresis ?? 0, omega: vs.omega ?? false, realServers,
    });
  });
  return {
    settings,
    noEmailFaults: g.no_email_faults ?? false,
    instances: new Map(config.vrrp_instances.map((vi) => [vi.name, vrrpAlerts(vi.smtp_alert, g)])),
    groups: new Map(config.vrrp_sync_groups.map((sg) => [sg.name, vrrpAlerts(sg.smtp_alert, g)])),
    services,
  };
}

/** ulvs's VRRP states to keepalived's mailed ones; INIT is never mailed. */
export function mailState(state: string): VrrpMailState | null {
  return state === 'MASTER' || state === 'BACKUP' || state === 'FAULT' || state === 'STOP' ? state : null;
}

export function instanceMails(index: AlertIndex, instance: string, state: string): Mail[] {
  const s = mailState(state);
  if (!index.settings || s === null || index.instances.get(instance) !== true || (s === 'FAULT' && index.noEmailFaults)) return [];
  return [instanceMail(index.settings.routerId, instance, s)];
}

export function groupMails(index: AlertIndex, group: string, state: string): Mail[] {
  const s = mailState(state);
  if (!index.settings || s === null || index.groups.get(group) !== true || (s === 'FAULT' && index.noEmailFaults)) return [];
  return [groupMail(index.settings.routerId, group, s)];
}

/** MISC_CHECK says "timed out" where the others say "failed" (check_misc.c). */
function miscWord(up: boolean, reason: string): 'succeeded' | 'failed' | 'timed out' {
  if (up) return 'succeeded';
  return /timed out/.test(reason) ? 'timed out' : 'failed';
}

/** One mail per virtual service the real server changed in, as keepalived (one per checker). */
export function realServerMails(
  index: AlertIndex,
  e: { rsKey: string; serviceIds: readonly string[]; up: boolean; checker?: string; reason: string },
): Mail[] {
  if (!index.settings) return [];
  const body = checkerBody(e.checker, e.up, e.checker === 'misc_check' ? miscWord(e.up, e.reason) : undefined);
  if (body === null) return [];
  const out: Mail[] = [];
  for (const id of e.serviceIds) {
    const svc = index.services.get(id);
    const rs = svc?.realServers.get(e.rsKey);
    if (!svc || !rs?.alerts) continue;
    out.push(realServerMail(index.settings.routerId, rs.label, svc.label, e.up, body));
  }
  return out;
}

/**
 * A quorum move; `initial` is the service's first verdict, mailed only when it starts down
 * (keepalived's "Starting with quorum down"; starting up is no change).
 */
export function quorumMails(
  index: AlertIndex,
  e: { serviceId: string; quorumUp: boolean; liveWeight: number; threshold: number },
  initial = false,
): Mail[] {
  const svc = index.services.get(e.serviceId);
  if (!index.settings || !svc?.alerts || (initial && e.quorumUp)) return [];
  return [quorumMail(index.settings.routerId, svc.label, {
    up: e.quorumUp, quorum: svc.quorum, hysteresis: svc.hysteresis, threshold: e.threshold, liveWeight: e.liveWeight, initial,
  })];
}

/** Is the real server `rsKey` of service `serviceId` alive now (its checker's last verdict)? */
export type AliveOf = (serviceId: string, rsKey: string) => boolean;

/**
 * A reload: every live real server of the old config that the new one no longer has in that
 * service (or whose service is gone) mails "=> Removing <=", with the new config's settings
 * and the old server's own smtp_alert, as keepalived's clear_diff_rs / clear_diff_services.
 */
export function removedServerMails(before: AlertIndex, after: AlertIndex, alive: AliveOf): Mail[] {
  const settings = after.settings;
  if (!settings) return [];
  const out: Mail[] = [];
  for (const [id, svc] of before.services) {
    const kept = after.services.get(id)?.realServers;
    for (const [key, rs] of svc.realServers) {
      if (kept?.has(key) || !rs.alerts || !alive(id, key)) continue;
      out.push(realServerShutMail(settings.routerId, rs.label, svc.label, false));
    }
  }
  return out;
}

/** Shutdown: omega services mail "=> Shutting down <=" for each live real server. */
export function shutdownServerMails(index: AlertIndex, alive: AliveOf): Mail[] {
  const settings = index.settings;
  if (!settings) return [];
  const out: Mail[] = [];
  for (const [id, svc] of index.services) {
    if (!svc.omega) continue;
    for (const [key, rs] of svc.realServers) {
      if (rs.alerts && alive(id, key)) out.push(realServerShutMail(settings.routerId, rs.label, svc.label, true));
    }
  }
  return out;
}
