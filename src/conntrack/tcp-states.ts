// IPVS's TCP connection states, transition tables and timeouts, as in the kernel's
// net/netfilter/ipvs/ip_vs_proto_tcp.c (tcp_states[], tcp_timeouts[], tcp_state_active_table[]).
// Pure data plus one pure step function; the flow table applies it per packet.

export const TCP_NONE = 0;
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT = 4;
export const TCP_TIME_WAIT = 5;
export const TCP_CLOSE = 6;
export const TCP_CLOSE_WAIT = 7;
export const TCP_LAST_ACK = 8;
export const TCP_LISTEN = 9;
export const TCP_SYNACK = 10;
export const TCP_STATE_COUNT = 11;

/** Indexed by state number; the names ipvsadm -Lnc prints. */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK',
];
/** IPVS's UDP has a single state (IP_VS_UDP_S_NORMAL), printed as "UDP". */
export const UDP_STATE_NAME = 'UDP';

/** TCP header flag bits (byte 13 of the TCP header). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/**
 * Which direction table applies. IPVS picks INPUT_ONLY for connections flagged NOOUTPUT
 * (every forwarding method except NAT: the director never sees the real server's replies).
 */
export const DIR_INPUT = 0;
export const DIR_OUTPUT = 1;
export const DIR_INPUT_ONLY = 2;

// Rows: [direction][flag event: syn, fin, ack, rst]; columns: current state.
// Copied by meaning from ip_vs_proto_tcp.c tcp_states[] (the normal, non-secure_tcp table).
const sES = TCP_ESTABLISHED, sSS = TCP_SYN_SENT, sSR = TCP_SYN_RECV,
  sFW = TCP_FIN_WAIT, sTW = TCP_TIME_WAIT, sCL = TCP_CLOSE, sCW = TCP_CLOSE_WAIT,
  sLA = TCP_LAST_ACK, sLI = TCP_LISTEN, sSA = TCP_SYNACK;
const TABLE_ROWS: readonly (readonly number[])[] = [
  // INPUT   sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA
  /*syn*/ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /*fin*/ [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /*rst*/ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR],
  // OUTPUT
  /*syn*/ [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR],
  /*fin*/ [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  /*rst*/ [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  // INPUT-ONLY
  /*syn*/ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /*fin*/ [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  /*ack*/ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /*rst*/ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
];

/** Flat transition table: NEXT_STATE[(direction * 4 + event) * 11 + state]. */
export const NEXT_STATE: Uint8Array = Uint8Array.from(TABLE_ROWS.flat());

/**
 * ActiveConn versus InActConn: since Linux 4.x (tcp_state_active_table) the pre-established
 * states count as active too, so a real server under a SYN flood shows them as ActiveConn.
 */
export const TCP_STATE_ACTIVE: Uint8Array = Uint8Array.from([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1]);

/**
 * tcp_state_idx(): RST wins over SYN over FIN over ACK; a segment with none of them has no
 * event (-1), and IPVS then moves the connection to CLOSE.
 */
export function tcpEvent(tcpFlags: number): number {
  if ((tcpFlags & TCP_RST) !== 0) return 3;
  if ((tcpFlags & TCP_SYN) !== 0) return 0;
  if ((tcpFlags & TCP_FIN) !== 0) return 1;
  if ((tcpFlags & TCP_ACK) !== 0) return 2;
  return -1;
}

/** One IPVS set_tcp_state() step (state only; counters and timers are the table's job). */
export function nextTcpState(state: number, direction: number, tcpFlags: number): number {
  const event = tcpEvent(tcpFlags);
  if (event < 0) return TCP_CLOSE;
  return NEXT_STATE[(direction * 4 + event) * TCP_STATE_COUNT + state];
}

/** Seconds per state. `tcp`, `tcpfin`, `udp` are the three ipvsadm --set changes. */
export interface Timeouts {
  tcp: number;        // ESTABLISHED
  tcpfin: number;     // FIN_WAIT
  udp: number;        // UDP (IP_VS_UDP_S_NORMAL)
  none: number;
  synSent: number;
  synRecv: number;
  timeWait: number;
  close: number;
  closeWait: number;
  lastAck: number;
  listen: number;
  synack: number;
}

/** ip_vs_proto_tcp.c tcp_timeouts[] and ip_vs_proto_udp.c udp_timeouts[] (5*60). */
export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  tcp: 900, tcpfin: 120, udp: 300,
  none: 2, synSent: 120, synRecv: 60, timeWait: 120, close: 10,
  closeWait: 60, lastAck: 30, listen: 120, synack: 120,
});

/** The per-state array the hot path indexes: [TCP states 0..10, UDP at index 11]. */
export const UDP_TIMEOUT_INDEX = TCP_STATE_COUNT;
export function timeoutTable(t: Timeouts, into: Uint32Array = new Uint32Array(TCP_STATE_COUNT + 1)): Uint32Array {
  into[TCP_NONE] = t.none;
  into[TCP_ESTABLISHED] = t.tcp;
  into[TCP_SYN_SENT] = t.synSent;
  into[TCP_SYN_RECV] = t.synRecv;
  into[TCP_FIN_WAIT] = t.tcpfin;
  into[TCP_TIME_WAIT] = t.timeWait;
  into[TCP_CLOSE] = t.close;
  into[TCP_CLOSE_WAIT] = t.closeWait;
  into[TCP_LAST_ACK] = t.lastAck;
  into[TCP_LISTEN] = t.listen;
  into[TCP_SYNACK] = t.synack;
  into[UDP_TIMEOUT_INDEX] = t.udp;
  return into;
}

/**
 * Applies a change the way ip_vs_set_timeout() does: a missing or 0 value leaves that
 * timeout as it was (ipvsadm --set 0 0 300 changes only udp). Throws on a negative or
 * fractional value (control path).
 */
export function mergeTimeouts(base: Readonly<Timeouts>, change: Partial<Timeouts>): Timeouts {
  const merged: Timeouts = { ...base };
  for (const key of Object.keys(DEFAULT_TIMEOUTS) as (keyof Timeouts)[]) {
    const value = change[key];
    if (value === undefined || value === 0) continue;
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      throw new RangeError(`timeout ${key} must be a whole number of seconds >= 0, got ${String(value)}`);
    }
    merged[key] = value;
  }
  return merged;
}

/** Exactly as `ipvsadm -L --timeout` prints them. */
export function formatTimeouts(t: Pick<Timeouts, 'tcp' | 'tcpfin' | 'udp'>): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}`;
}
