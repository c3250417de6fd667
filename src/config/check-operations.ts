/**
 * The operations blocks: a metrics endpoint only on loopback unless allow_remote says so (the
 * metrics reveal every VIP and real server), and a control read_group that exists.
 */
import { isIP } from 'node:net';
import { groupId } from '../os/groups.js';
import { obj, str, type Findings, type Obj } from './cross-check-kit.js';

/** The host part of `HOST:PORT` / `[V6]:PORT`. */
export function listenHost(listen: string): string {
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

export function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function checkOperations(cfg: Obj, r: Findings): void {
  const metrics = obj(cfg.metrics);
  const listen = str(metrics?.listen);
  if (metrics && listen !== undefined && /:\d+$/.test(listen)) {
    const host = listenHost(listen);
    // A host that is no IP address is the schema's to report.
    if (isIP(host) !== 0 && !isLoopback(host) && metrics.allow_remote !== true) {
      r.error(['metrics', 'listen'], `metrics.listen ${listen} is not a loopback address`,
        'the metrics name every VIP and real server: set allow_remote: true to serve them beyond this host');
    }
  }
  const group = str(obj(cfg.control)?.read_group);
  if (group !== undefined && groupId(group) === undefined) {
    r.error(['control', 'read_group'], `control.read_group: no group "${group}" in /etc/group`, `create it first: groupadd ${group}`);
  }
}
