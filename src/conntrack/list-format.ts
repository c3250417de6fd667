// `ipvsadm -Lnc` text for connection and template entries (control path; allocates).
// ipvsadm prints: printf("%-3s %-6s %-11s %-18s %-18s %s\n", proto, "MM:SS", state, source,
// virtual, destination), with the header below; templates appear as state NONE, client port 0.
import { numberToIp } from '../packet/addr.js';

export const CONNECTION_LIST_HEADER =
  'IPVS connection entries\npro expire state       source             virtual            destination';

export interface ListedConnection {
  proto: number; state: string; expiresIn: number;
  clientIp: number; clientPort: number; vip: number; vport: number; rsIp: number; rsPort: number;
}

export function protocolName(proto: number): string {
  if (proto === 6) return 'TCP';
  if (proto === 17) return 'UDP';
  if (proto === 0) return 'IP';
  return String(proto);
}

export function formatConnectionLine(e: ListedConnection): string {
  const seconds = Math.max(0, Math.floor(e.expiresIn));
  const expire = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  return `${protocolName(e.proto).padEnd(3)} ${expire.padEnd(6)} ${e.state.padEnd(11)} ` +
    `${`${numberToIp(e.clientIp)}:${e.clientPort}`.padEnd(18)} ${`${numberToIp(e.vip)}:${e.vport}`.padEnd(18)} ` +
    `${numberToIp(e.rsIp)}:${e.rsPort}`;
}

/** Header plus one line per entry, as `ipvsadm -Lnc` prints them. */
export function formatConnectionList(entries: readonly ListedConnection[]): string {
  return [CONNECTION_LIST_HEADER, ...entries.map(formatConnectionLine)].join('\n') + '\n';
}
