import { FIRST_DROP_RESULT, PARSE_RESULT_COUNT, PARSE_RESULT_NAMES } from '../packet/parse.js';
import { PARSE6_RESULT_COUNT, PARSE6_RESULT_NAMES } from '../packet/ipv6.js';

/** Drop reasons the dataplane adds after parsing succeeded. */
export const DataplaneDrop = {
  NOT_IPV4_L4: 0,        // ARP/ICMP steered to us: not forwarded (the kernel answers those)
  NO_SERVICE: 1,         // no virtual service for the destination
  NO_FLOW: 2,            // TCP segment of no connection that may not open one (not a SYN, sloppy_tcp off; or a RST)
  NO_REAL_SERVER: 3,     // the scheduler found no available real server
  NO_NEIGHBOUR: 4,       // next hop's MAC not resolved yet
  MTU_EXCEEDED: 5,       // TUN encapsulation would exceed the MTU
  NO_ROOM: 6,            // no room in the frame slot for the tunnel headers
  REPLY_NO_FLOW: 7,      // NAT reply that matches no connection
  NO_INSIDE_PORT: 8,     // NAT service but no inside interface open
  TTL_EXPIRED: 9,        // TTL would reach 0 (IPVS decrements it in every mode)
  // issue 17 (src/dataplane/icmp.ts, fragments.ts)
  ICMP_NO_FLOW: 10,      // ICMP error quoting a service's packet of no connection (or a truncated quote)
  ICMP_RATE_LIMITED: 11, // ICMP error to forward or to send over the token bucket (rate-limit.ts)
  FRAGMENT_NO_FIRST: 12, // later fragment whose first fragment was not seen (reordered, lost, timed out, forged)
  FRAGMENT_TABLE_FULL: 13, // first fragment forwarded, but no room to remember its datagram
  FRAGMENT_FORGED: 14,   // overlapping, too many or too large fragments (fragments.ts verdicts)
  VLAN_TAGGED: 15,       // 802.1Q-tagged frame: ulvs serves the untagged segment (screen.ts)
  MARTIAN_SOURCE: 16,    // source 0/8, 127/8, multicast, class E or broadcast (screen.ts)
  SOURCE_ROUTE: 17,      // IPv4 loose/strict source route option, or malformed options (screen.ts)
  LOCAL_PORTS_EXHAUSTED: 18, // Full NAT: no free port on any local address of the service's group (fnat.ts)
} as const;
export const DATAPLANE_DROP_NAMES = Object.keys(DataplaneDrop);

/** Counter layout in the worker's SharedArrayBuffer (Float64: exact up to 2^53, one writer). */
export const C_RX = 0;
export const C_TX = 1;
export const C_NEW_FLOWS = 2;
export const C_BATCHES = 3;
export const C_PARSE_BASE = 4;
export const C_DROP_BASE = C_PARSE_BASE + PARSE_RESULT_COUNT;
/** Mid-flow TCP segments of unknown connections scheduled as new ones (sloppy_tcp). */
export const C_SLOPPY_PICKUPS = C_DROP_BASE + DATAPLANE_DROP_NAMES.length;
/** ICMP errors forwarded to a connection's real server or (NAT) client. */
export const C_ICMP_FORWARDED = C_SLOPPY_PICKUPS + 1;
/** ICMP errors ulvs sent itself (time exceeded, fragmentation needed), as IPVS does. */
export const C_ICMP_SENT = C_SLOPPY_PICKUPS + 2;
/** Fragments forwarded (first and later ones). */
export const C_FRAGMENTS = C_SLOPPY_PICKUPS + 3;
/** Full NAT: local ports held by connections now (a gauge the worker writes after each sweep). */
export const C_LOCAL_PORTS_IN_USE = C_SLOPPY_PICKUPS + 4;
/** IPv6 packets that did not parse, by reason (Parse6Result; 0 = OK is unused). */
export const C_PARSE6_BASE = C_SLOPPY_PICKUPS + 5;
/** IPv6 packets forwarded (requests and NAT66 replies); their drops share DataplaneDrop's. */
export const C_IPV6_FORWARDED = C_PARSE6_BASE + PARSE6_RESULT_COUNT;
export const COUNTER_COUNT = C_IPV6_FORWARDED + 1;

export function allocateCounters(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(COUNTER_COUNT * 8));
}

/** Named view of one or more workers' counters (control path). */
export function summarizeCounters(all: Float64Array[]): Record<string, number> {
  const sum = new Float64Array(COUNTER_COUNT);
  for (const c of all) for (let i = 0; i < COUNTER_COUNT; i++) sum[i] += c[i];
  const out: Record<string, number> = { rx: sum[C_RX], tx: sum[C_TX], new_flows: sum[C_NEW_FLOWS], batches: sum[C_BATCHES],
    sloppy_pickups: sum[C_SLOPPY_PICKUPS], icmp_forwarded: sum[C_ICMP_FORWARDED], icmp_sent: sum[C_ICMP_SENT],
    fragments: sum[C_FRAGMENTS], local_ports_in_use: sum[C_LOCAL_PORTS_IN_USE] };
  // OK and ARP are not drops; everything from FIRST_DROP_RESULT on is.
  for (let r = FIRST_DROP_RESULT; r < PARSE_RESULT_COUNT; r++) out[`drop_${PARSE_RESULT_NAMES[r].toLowerCase()}`] = sum[C_PARSE_BASE + r];
  DATAPLANE_DROP_NAMES.forEach((name, i) => { out[`drop_${name.toLowerCase()}`] = sum[C_DROP_BASE + i]; });
  for (let r = 1; r < PARSE6_RESULT_COUNT; r++) out[`drop_ipv6_${PARSE6_RESULT_NAMES[r].toLowerCase()}`] = sum[C_PARSE6_BASE + r];
  out.ipv6_forwarded = sum[C_IPV6_FORWARDED];
  return out;
}

/**
 * IPVS's per-service and per-real-server counters (ip_vs_stats): one row per id of the
 * compiler's IdRegistry (services and real servers share its id space), in a SharedArrayBuffer
 * per worker. The worker is the only writer; the control plane sums the rows across workers
 * and never writes them (zeroing keeps a baseline instead, as IPVS's kstats0).
 */
export const S_CONNS = 0;
export const S_IN_PKTS = 1;
export const S_OUT_PKTS = 2;
export const S_IN_BYTES = 3;
export const S_OUT_BYTES = 4;
export const STAT_FIELDS = 5;
/** Ids are below 65536 (IdRegistry; MAX_REAL_SERVER_IDS). */
export const STAT_IDS = 1 << 16;

export function allocateIpvsCounters(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(STAT_IDS * STAT_FIELDS * 8));
}

/** Adds one id's row of every worker into `out` (STAT_FIELDS numbers, overwritten). */
export function sumIpvsRow(all: readonly Float64Array[], id: number, out: Float64Array): Float64Array {
  out.fill(0);
  const base = id * STAT_FIELDS;
  for (const c of all) for (let f = 0; f < STAT_FIELDS; f++) out[f] += c[base + f];
  return out;
}
