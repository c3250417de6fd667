/**
 * Which event gives which mail to whom, as keepalived decides it (core/smtp.c smtp_alert(),
 * vrrp/vrrp_notify.c, check/check_*.c, check/ipwrapper.c). Pure: the mailer shell (mailer.ts)
 * only sends what this module returns.
 */
import { hostname, userInfo } from 'node:os';

/** Where and how mail goes; null from mailSettings() means keepalived would send nothing. */
export interface MailSettings {
  routerId: string;
  from: string;
  to: string[];
  host: string;
  port: number;
  heloName: string;
  connectTimeoutMs: number;
}

export interface Mail {
  subject: string;
  body: string;
}

/** The global_defs keys the alerts read (the normalized config's shape). */
export interface AlertGlobals {
  router_id?: string;
  notification_email: string[];
  notification_email_from?: string;
  smtp_server?: string;
  smtp_helo_name?: string;
  smtp_connect_timeout: number;
  smtp_alert?: boolean;
  smtp_alert_vrrp?: boolean;
  smtp_alert_checker?: boolean;
  /** keepalived's no_email_faults: FAULT transitions of instances and groups are not mailed. */
  no_email_faults?: boolean;
}

export const SMTP_PORT = 25;

/**
 * keepalived's `smtp_server IP [PORT]`, also as `IP:PORT` or `[IPv6]:PORT` (what `ulvs migrate`
 * writes) and a host name. Returns null with no reason when the text cannot be read.
 */
export function parseSmtpServer(text: string): { host: string; port: number } | { error: string } {
  const t = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  const words = t.split(/\s+/);
  if (bracket) { host = bracket[1]; portText = bracket[2]; }
  else if (words.length === 2) { host = words[0]; portText = words[1]; }
  else if (words.length > 2) return { error: `"${t}" is not "HOST [PORT]"` };
  else if ((t.match(/:/g) ?? []).length === 1) { [host, portText] = t.split(':'); }
  else host = t;
  if (host === '') return { error: `"${t}" names no host` };
  if (portText === undefined) return { host, port: SMTP_PORT };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return { error: `port "${portText}" is not 1-65535` };
  return { host, port };
}

/**
 * keepalived mails only when it has both recipients and a server. Its defaults: router_id and
 * the HELO name are the host name, the sender is the running user at the host name.
 */
export function mailSettings(g: AlertGlobals, host = hostname(), user = runningUser()): MailSettings | null {
  if (g.notification_email.length === 0 || g.smtp_server === undefined) return null;
  const server = parseSmtpServer(g.smtp_server);
  if ('error' in server) return null;
  return {
    routerId: g.router_id ?? host,
    from: g.notification_email_from ?? `${user}@${host}`,
    to: [...g.notification_email],
    host: server.host,
    port: server.port,
    heloName: g.smtp_helo_name ?? host,
    connectTimeoutMs: g.smtp_connect_timeout * 1000,
  };
}

function runningUser(): string {
  try { return userInfo().username; } catch { return 'root'; }
}

// ---- which block alerts (keepalived's -1 = unset resolution) ------------------------------

/** vrrp_instance and vrrp_sync_group: own, else smtp_alert_vrrp, else smtp_alert, else off. */
export function vrrpAlerts(own: boolean | undefined, g: AlertGlobals): boolean {
  return own ?? g.smtp_alert_vrrp ?? g.smtp_alert ?? false;
}

/** virtual_server (quorum mails): own, else smtp_alert_checker, else smtp_alert, else off. */
export function virtualServerAlerts(own: boolean | undefined, g: AlertGlobals): boolean {
  return own ?? g.smtp_alert_checker ?? g.smtp_alert ?? false;
}

/**
 * real_server: own, else smtp_alert_checker, else smtp_alert, else ON: keepalived keeps this
 * one default different from the others for backward compatibility (check_data.c).
 */
export function realServerAlerts(own: boolean | undefined, g: AlertGlobals): boolean {
  return own ?? g.smtp_alert_checker ?? g.smtp_alert ?? true;
}

// ---- subjects and bodies ------------------------------------------------------------------

export type VrrpMailState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

const INSTANCE_MAILS: Record<VrrpMailState, Mail> = {
  MASTER: { subject: 'Entering MASTER state', body: '=> VRRP Instance is now owning VRRP VIPs <=' },
  BACKUP: { subject: 'Entering BACKUP state', body: '=> VRRP Instance is no longer owning VRRP VIPs <=' },
  FAULT: { subject: 'Entering FAULT state', body: '=> VRRP Instance is no longer owning VRRP VIPs <=' },
  STOP: { subject: 'Stopping', body: '=> VRRP Instance stopping <=' },
};

const GROUP_MAILS: Record<VrrpMailState, Mail> = {
  MASTER: { subject: 'Entering MASTER state', body: '=> All VRRP group instances are now in MASTER state <=' },
  BACKUP: { subject: 'Entering BACKUP state', body: '=> All VRRP group instances are now in BACKUP state <=' },
  FAULT: { subject: 'Entering FAULT state', body: '=> All VRRP group instances are now in FAULT state <=' },
  STOP: { subject: 'Stopping', body: '=> All VRRP group instances are now stopping <=' },
};

export function instanceMail(routerId: string, instance: string, state: VrrpMailState): Mail {
  const m = INSTANCE_MAILS[state];
  return { subject: `[${routerId}] VRRP Instance ${instance} - ${m.subject}`, body: m.body };
}

export function groupMail(routerId: string, group: string, state: VrrpMailState): Mail {
  const m = GROUP_MAILS[state];
  return { subject: `[${routerId}] VRRP Group ${group} - ${m.subject}`, body: m.body };
}

/** keepalived's FMT_VS / FMT_RS: `[IP]:tcp:PORT`; a group service is `[NAME]:PORT`. */
export function formatService(s: { vip?: string; group?: string; port?: number; protocol?: string }): string {
  if (s.group !== undefined) return `[${s.group}]:${s.port ?? 0}`;
  return formatEndpoint(s.vip ?? '0.0.0.0', s.port ?? 0, s.protocol);
}

export function formatEndpoint(ip: string, port: number, protocol = 'TCP'): string {
  const p = protocol.toUpperCase() === 'UDP' ? 'udp' : protocol.toUpperCase() === 'SCTP' ? 'sctp' : 'tcp';
  return `[${ip}]:${p}:${port}`;
}

/**
 * The body each keepalived checker writes on a verdict change (check_tcp.c, check_http.c...).
 * `misc` carries MISC_CHECK's own wording: succeeded, failed or timed out. null: keepalived
 * mails nothing for this checker (FILE_CHECK is a tracked file, it sends no alert).
 */
export function checkerBody(checker: string | undefined, up: boolean, misc?: 'succeeded' | 'failed' | 'timed out'): string | null {
  switch (checker) {
    case 'tcp_check': return `=> TCP CHECK ${up ? 'succeed' : 'failed'} on service <=`;
    case 'udp_check': return `=> UDP CHECK ${up ? 'succeed' : 'failed'} on service <=`;
    case 'ping_check': return `=> ICMP CHECK ${up ? 'succeed' : 'failed'} on service <=`;
    case 'dns_check': return `=> DNS_CHECK: ${up ? 'succeed' : 'failed'} on service <=`;
    case 'http_get':
    case 'ssl_get': return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service : HTTP/SSL request failed <=';
    case 'misc_check': return `=> MISC CHECK ${misc ?? (up ? 'succeeded' : 'failed')} on service <=`;
    case 'file_check': return null;
    default: return `=> CHECK ${up ? 'succeed' : 'failed'} on service <=`;
  }
}

export function realServerMail(routerId: string, rs: string, service: string, up: boolean, body: string): Mail {
  return { subject: `[${routerId}] Realserver ${rs} of virtual server ${service} - ${up ? 'UP' : 'DOWN'}`, body };
}

/** ipwrapper.c do_vs_notifies: `=> Gained quorum Q+H=T <= W <=` and its three siblings. */
export function quorumMail(
  routerId: string, service: string,
  q: { up: boolean; quorum: number; hysteresis: number; threshold: number; liveWeight: number; initial?: boolean },
): Mail {
  const what = q.up ? (q.initial ? 'Starting with quorum up' : 'Gained quorum') : (q.initial ? 'Starting with quorum down' : 'Lost quorum');
  return {
    subject: `[${routerId}] Virtualserver ${service} - ${q.up ? 'UP' : 'DOWN'}`,
    body: `=> ${what} ${q.quorum}+${q.hysteresis}=${q.threshold} <= ${q.liveWeight} <=`,
  };
}

/**
 * ipwrapper.c clear_service_rs: a live real server taken out of a service by a reload (or the
 * whole service removed) mails "DOWN" with "=> Removing <="; at shutdown, only in omega
 * services, "=> Shutting down <=".
 */
export function realServerShutMail(routerId: string, rs: string, service: string, stopping: boolean): Mail {
  return realServerMail(routerId, rs, service, false, stopping ? '=> Shutting down <=' : '=> Removing <=');
}
