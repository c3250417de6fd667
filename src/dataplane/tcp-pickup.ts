// Which TCP segments of an unknown connection may create one: IPVS's tcp_conn_schedule()
// (net/netfilter/ipvs/ip_vs_proto_tcp.c). Without sloppy_tcp only a SYN schedules; with it any
// segment but a RST does, so a director that never saw the handshake (a backup after a
// failover) picks up connections mid-flow. Decided per service when a snapshot is compiled;
// the hot loop only indexes a table by the segment's flag byte.
import type { SchedulerName } from '../schedulers/types.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../conntrack/tcp-states.js';

/** `dataplane.sloppy_tcp`: auto = only where the backup picks what the master picked. */
export type SloppyTcpSetting = 'auto' | boolean;

/**
 * Schedulers whose choice depends only on the packet and the configured servers (not on
 * connection counts, turn or chance), so two directors with the same config pick the same
 * real server for a connection: a mid-flow packet lands where its connection lives.
 */
export const DETERMINISTIC_SCHEDULERS: ReadonlySet<SchedulerName> = new Set<SchedulerName>(['mh', 'sh', 'dh']);

/** Whether a TCP service of `scheduler` picks up mid-flow segments (compile time). */
export function picksUpMidFlow(setting: SloppyTcpSetting, scheduler: SchedulerName): boolean {
  return setting === 'auto' ? DETERMINISTIC_SCHEDULERS.has(scheduler) : setting;
}

/** What a segment of an unknown connection does, by its flag byte (TCP header byte 13). */
export const TCP_OPENS_NOTHING = 0;   // dropped (counted as NO_FLOW)
export const TCP_OPENS_NEW = 1;       // a bare SYN: a new connection, as without sloppy_tcp
export const TCP_OPENS_PICKUP = 2;    // mid-flow: scheduled as new (sloppy_tcp), counted

function openTable(sloppy: boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let flags = 0; flags < 256; flags++) {
    // ulvs's bare-SYN rule (SYN without ACK, FIN or RST; ECN bits and PSH allowed) stays the
    // rule for a new connection; sloppy_tcp adds every other segment except a RST, as IPVS
    // (`th->rst || !(sloppy_tcp || th->syn)` leaves the packet alone).
    if ((flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) === TCP_SYN) table[flags] = TCP_OPENS_NEW;
    else if (sloppy && (flags & TCP_RST) === 0) table[flags] = TCP_OPENS_PICKUP;
    else table[flags] = TCP_OPENS_NOTHING;
  }
  return table;
}

/** Indexed by the flag byte; shared, never written after module load. */
export const TCP_OPENS_STRICT: Uint8Array = openTable(false);
export const TCP_OPENS_SLOPPY: Uint8Array = openTable(true);

export function tcpOpenTable(sloppy: boolean): Uint8Array {
  return sloppy ? TCP_OPENS_SLOPPY : TCP_OPENS_STRICT;
}
