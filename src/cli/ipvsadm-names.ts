/**
 * Host and port names as ipvsadm resolves them without -n (gethostbyaddr, getservbyport) and in
 * its arguments (gethostbyname, getservbyname), from /etc/hosts and /etc/services only: a
 * listing never waits on DNS (ipvsadm's known hang on a dead resolver), and the lab has none.
 */
import { readFileSync } from 'node:fs';
import type { NameResolver } from './ipvsadm-args.js';

export interface NameTables extends NameResolver {
  hostOf(ip: string): string | undefined;
  serviceOf(port: number, proto: 'tcp' | 'udp' | 'sctp'): string | undefined;
}

/** /etc/hosts text -> name <-> IPv4 (first line wins, as the files backend reads). */
export function parseHosts(text: string): { byName: Map<string, string>; byAddr: Map<string, string> } {
  const byName = new Map<string, string>();
  const byAddr = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!addr || !names.length || !/^\d+\.\d+\.\d+\.\d+$/.test(addr)) continue;
    if (!byAddr.has(addr)) byAddr.set(addr, names[0]);
    for (const n of names) if (!byName.has(n)) byName.set(n, addr);
  }
  return { byName, byAddr };
}

/** /etc/services text -> "name/proto" -> port and "port/proto" -> name (aliases included). */
export function parseServices(text: string): { byName: Map<string, number>; byPort: Map<string, string> } {
  const byName = new Map<string, number>();
  const byPort = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!name || !m) continue;
    const port = Number(m[1]);
    const proto = m[2];
    if (!byPort.has(`${port}/${proto}`)) byPort.set(`${port}/${proto}`, name);
    for (const n of [name, ...aliases]) if (!byName.has(`${n}/${proto}`)) byName.set(`${n}/${proto}`, port);
  }
  return { byName, byPort };
}

export function nameTables(hostsText: string, servicesText: string): NameTables {
  const hosts = parseHosts(hostsText);
  const services = parseServices(servicesText);
  return {
    host: (name) => hosts.byName.get(name),
    service: (name, proto) => services.byName.get(`${name}/${proto}`),
    hostOf: (ip) => hosts.byAddr.get(ip),
    serviceOf: (port, proto) => services.byPort.get(`${port}/${proto}`),
  };
}

function readOr(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

export function systemNames(): NameTables {
  return nameTables(readOr('/etc/hosts'), readOr('/etc/services'));
}

/** No names at all: what -n prints, and what tests use. */
export const NUMERIC_ONLY: NameTables = nameTables('', '');
