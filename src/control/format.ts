/** Text formats that mirror ipvsadm's, so scripts and eyes trained on ipvsadm keep working. */
import type { IpvsRates, IpvsStats } from './ipvs-stats.js';

export type ForwardName = 'Route' | 'Masq' | 'Tunnel' | 'Local';

export interface RealServerStatus {
  ip: string; port: number; forward: ForwardName; weight: number;
  activeConns: number; inactiveConns: number; up: boolean;
  /** Counters and rates (`--stats`, `--rate`); absent when the director does not report them. */
  stats?: IpvsStats; rates?: IpvsRates;
}

export interface ServiceStatus {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  vip: string; port: number;
  scheduler: string;
  /** Scheduler flags as ipvsadm prints them after the name (e.g. "sh-port"). */
  schedulerFlags: string[];
  persistenceTimeout: number;
  persistenceNetmask: string;
  onePacket: boolean;
  realServers: RealServerStatus[];
  stats?: IpvsStats; rates?: IpvsRates;
}

/** Size ipvsadm prints in its header is the connection hash table's; ulvs prints the bound. */
export function formatIpvsList(services: ServiceStatus[], tableSize: number): string {
  const lines = [
    `IP Virtual Server version 1.2.1 (size=${tableSize})`,
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of services) {
    let line = `${s.protocol.padEnd(4)} ${s.vip}:${s.port} ${s.scheduler}`;
    if (s.schedulerFlags.length) line += ` (${s.schedulerFlags.join(',')})`;
    if (s.persistenceTimeout > 0) {
      line += ` persistent ${s.persistenceTimeout}`;
      if (s.persistenceNetmask !== '255.255.255.255') line += ` mask ${s.persistenceNetmask}`;
    }
    if (s.onePacket) line += ' ops';
    lines.push(line);
    for (const r of s.realServers) {
      lines.push(`  -> ${`${r.ip}:${r.port}`.padEnd(28)} ${r.forward.padEnd(7)} ${String(r.weight).padEnd(6)} ${String(r.activeConns).padEnd(10)} ${r.inactiveConns}`);
    }
  }
  return lines.join('\n') + '\n';
}

export interface ConnectionEntry {
  protocol: string; expiresIn: number; state: string;
  source: string; virtual: string; destination: string;
}

/** `ipvsadm -Lnc`: expire as mm:ss, columns as ipvsadm pads them. */
export function formatConnections(conns: ConnectionEntry[]): string {
  const lines = ['IPVS connection entries', 'pro expire state       source             virtual            destination'];
  for (const c of conns) {
    const secs = Math.max(0, Math.floor(c.expiresIn));
    const expire = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
    lines.push(`${c.protocol.padEnd(3)} ${expire}  ${c.state.padEnd(11)} ${c.source.padEnd(18)} ${c.virtual.padEnd(18)} ${c.destination}`);
  }
  return lines.join('\n') + '\n';
}
