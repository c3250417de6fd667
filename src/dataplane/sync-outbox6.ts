/**
 * The IPv6 producer side of the sync outbox (issue 16): copies an IPv6 flow or persistence
 * template into the ring's scratch6 (layout in sync-outbox.ts, R6_*) with no allocation; the
 * caller then calls push6(). The flow table keeps IPv6 addresses as handles (addresses6.ts), so
 * the words come from its address table; a template keeps its masked client and VIP words
 * (wide PersistenceTable) and its real server by rsId (the steps' rsAddress bytes).
 */
import type { Ipv6Addresses } from '../conntrack/addresses6.js';
import type { PersistenceTable } from '../conntrack/persistence.js';
import {
  R6_CLIENT, R6_PORTS, R6_RS, R6_RS_IP, R6_SERVICE, R6_TIMEOUT, R6_VIP, RING_CONNECTION6, RING_TEMPLATE6, OUTBOX_TEMPLATE, type OutboxRecord6,
} from './sync-outbox.js';
import type { FlowFields } from './sync-outbox.js';

/** An IPv6 flow table as writeFlowRecord6 reads it (FlowTable6). */
export interface FlowFields6 extends FlowFields { readonly addresses: Ipv6Addresses }

/** The 16 bytes at bytes[from..) as four big-endian words at s[at..). */
function wordsOfBytes(s: Uint32Array, at: number, bytes: Uint8Array, from = 0): void {
  for (let i = 0; i < 4; i++) {
    const b = from + i * 4;
    s[at + i] = ((bytes[b] << 24) | (bytes[b + 1] << 16) | (bytes[b + 2] << 8) | bytes[b + 3]) >>> 0;
  }
}

function wordsOfHandle(s: Uint32Array, at: number, addresses: Ipv6Addresses, handle: number): void {
  addresses.copyWords(handle, s, at);
}

/** Producer: copies a live IPv6 flow into scratch6 (the caller then calls push6()). */
export function writeFlowRecord6(s: Uint32Array, flows: FlowFields6, flow: number, now: number): void {
  const proto = flows.proto(flow), a = flows.addresses;
  s[0] = ((RING_CONNECTION6 << 24) | (proto << 16) | (proto === 6 ? flows.state(flow) : 0)) >>> 0;
  wordsOfHandle(s, R6_CLIENT, a, flows.clientIp(flow));
  wordsOfHandle(s, R6_VIP, a, flows.vip(flow));
  s[R6_PORTS] = ((flows.clientPort(flow) << 16) | flows.vport(flow)) >>> 0;
  wordsOfHandle(s, R6_RS_IP, a, flows.rsIp(flow));
  s[R6_RS] = ((flows.rsPort(flow) << 16) | flows.rsId(flow)) >>> 0;
  s[R6_SERVICE] = flows.service(flow);
  const left = flows.expiresAt(flow) - now;
  s[R6_TIMEOUT] = left > 0 ? left : 0;
}

/**
 * Producer: copies an IPv6 persistence template into scratch6 (client port 0). `rsAddress`
 * holds each IPv6 real server's 16 bytes at rsId * 16. Seconds left as writeTemplateRecord.
 */
export function writeTemplateRecord6(s: Uint32Array, templates: PersistenceTable, t: number, rsAddress: Uint8Array, now: number): void {
  s[0] = ((RING_TEMPLATE6 << 24) | (templates.proto(t) << 16)) >>> 0;
  for (let i = 0; i < 4; i++) {
    s[R6_CLIENT + i] = templates.wideWord(t, i);
    s[R6_VIP + i] = templates.wideWord(t, 4 + i);
  }
  s[R6_PORTS] = templates.vport(t);
  const rsId = templates.rsId(t);
  wordsOfBytes(s, R6_RS_IP, rsAddress, rsId * 16);
  s[R6_RS] = ((templates.rsPort(t) << 16) | rsId) >>> 0;
  s[R6_SERVICE] = templates.service(t);
  const left = templates.expiresAt(t) - now;
  s[R6_TIMEOUT] = left > 0 ? left : templates.timeout(t);
}


/** Writes a whole IPv6 record into scratch6 from named fields (tests, the control path). */
export function fillRecord6(s: Uint32Array, r: OutboxRecord6): void {
  s.fill(0);
  const kind = r.kind === OUTBOX_TEMPLATE ? RING_TEMPLATE6 : RING_CONNECTION6;
  s[0] = ((kind << 24) | ((r.proto & 0xff) << 16) | (r.state & 0xff)) >>> 0;
  wordsOfBytes(s, R6_CLIENT, r.clientIp);
  wordsOfBytes(s, R6_VIP, r.vip);
  s[R6_PORTS] = ((r.clientPort << 16) | (r.vport & 0xffff)) >>> 0;
  wordsOfBytes(s, R6_RS_IP, r.rsIp);
  s[R6_RS] = ((r.rsPort << 16) | (r.rsId & 0xffff)) >>> 0;
  s[R6_SERVICE] = r.service >>> 0;
  s[R6_TIMEOUT] = r.timeout >>> 0;
}
