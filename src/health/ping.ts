/**
 * PING_CHECK: up iff an ICMP echo reply to our echo request arrives in connect_timeout; an
 * IPv6 target is pinged with ICMPv6 echo (types 128/129; the kernel fills and verifies the
 * checksum over the IPv6 pseudo-header on raw ICMPv6 sockets).
 * Node has no ICMP sockets, so the socket comes through `IcmpSocket`: by default the addon's
 * raw IPv4 or IPv6 socket (native/src/raw_socket.cc, via src/os/raw-sockets.ts; needs CAP_NET_RAW),
 * replaceable with setIcmpSocketFactory. Without one the check fails with a reason that says
 * so, rather than pretending a server is reachable. The packet codec here is pure and tested.
 */
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { formatIpv6, parseIpv6OrNull } from '../packet/addr6.js';
import { openRawSocket } from '../os/raw-sockets.js';
import type { CheckResult, CheckTarget, ConnectionParams, RunOptions } from './types.js';
import { errorReason, probeEndpoint, timeoutMs } from './types.js';
import { runProbe } from './probe.js';

export type PingCheckParams = ConnectionParams;

/** ICMP messages without the IP header, like Linux's ICMP datagram sockets give them. */
export interface IcmpSocket {
  send(dstIp: string, icmp: Uint8Array): void;
  /** Subscribe to received ICMP messages; returns the unsubscribe function. */
  onMessage(handler: (srcIp: string, icmp: Uint8Array) => void): () => void;
  close(): void;
}

export type IcmpFamily = 4 | 6;
export type IcmpSocketFactory = (bindto?: string, family?: IcmpFamily) => IcmpSocket | null;

const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;

/** One raw ICMP socket per probe: raw sockets each see every ICMP packet, we filter by id/seq. */
export function openRawIcmpSocket(bindto?: string, family: IcmpFamily = 4): IcmpSocket {
  return family === 6 ? openRawIcmpv6Socket(bindto) : openRawIcmpv4Socket(bindto);
}

/** Raw ICMPv6: the kernel gives the message without the IPv6 header and the source beside it. */
function openRawIcmpv6Socket(bindto?: string): IcmpSocket {
  const raw = openRawSocket(IPPROTO_ICMPV6, 6);
  try {
    if (bindto) raw.bindAddress(bindto);
  } catch (err) {
    raw.close();
    throw err;
  }
  const handlers = new Set<(src: string, icmp: Uint8Array) => void>();
  raw.start((packets) => {
    for (const p of packets) for (const h of handlers) h(p.source ?? '', p.data);
  });
  return {
    send: (dst, icmp) => { raw.send(dst, icmp); },
    onMessage: (h) => { handlers.add(h); return () => handlers.delete(h); },
    close: () => { handlers.clear(); raw.close(); },
  };
}

function openRawIcmpv4Socket(bindto?: string): IcmpSocket {
  const raw = openRawSocket(IPPROTO_ICMP);
  try {
    if (bindto) raw.bindAddress(bindto);
  } catch (err) {
    raw.close();
    throw err;
  }
  const handlers = new Set<(src: string, icmp: Uint8Array) => void>();
  raw.start((packets) => {
    for (const p of packets) {
      const d = p.data;
      if (d.length < 20 || (d[0] >> 4) !== 4) continue;
      const ihl = (d[0] & 0x0f) * 4;
      const src = `${d[12]}.${d[13]}.${d[14]}.${d[15]}`;
      const icmp = d.subarray(ihl);
      for (const h of handlers) h(src, icmp);
    }
  });
  return {
    send: (dst, icmp) => { raw.send(dst, icmp); },
    onMessage: (h) => { handlers.add(h); return () => handlers.delete(h); },
    close: () => { handlers.clear(); raw.close(); },
  };
}

let icmpSocketFactory: IcmpSocketFactory = openRawIcmpSocket;

/** The lead wires the addon's raw ICMP socket here. */
export function setIcmpSocketFactory(factory: IcmpSocketFactory | null): void {
  icmpSocketFactory = factory ?? openRawIcmpSocket;
}

function internetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length & 1) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Pure: ICMP echo request (type 8) with a valid checksum; for IPv6 ICMPv6 type 128 with the
 * checksum left 0 (it covers the IPv6 pseudo-header, which the kernel fills on raw ICMPv6 sockets).
 */
export function buildEchoRequest(id: number, seq: number, payload: Uint8Array, family: IcmpFamily = 4): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  b[0] = family === 6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST;
  b[4] = (id >>> 8) & 0xff; b[5] = id & 0xff;
  b[6] = (seq >>> 8) & 0xff; b[7] = seq & 0xff;
  b.set(payload, 8);
  if (family === 4) {
    const c = internetChecksum(b);
    b[2] = c >>> 8; b[3] = c & 0xff;
  }
  return b;
}

/**
 * Pure: id/seq of a well-formed echo reply (ICMP type 0 with a good checksum; ICMPv6 type 129,
 * whose checksum the kernel verified), else null.
 */
export function parseEchoReply(b: Uint8Array, family: IcmpFamily = 4): { id: number; seq: number } | null {
  if (b.length < 8 || b[1] !== 0) return null;
  if (family === 6 ? b[0] !== ICMPV6_ECHO_REPLY : b[0] !== ICMP_ECHO_REPLY || internetChecksum(b) !== 0) return null;
  return { id: (b[4] << 8) | b[5], seq: (b[6] << 8) | b[7] };
}

/** The same address, however written ('2001:2::010' and '2001:2::10'). */
function sameAddress(a: string, b: string, family: IcmpFamily): boolean {
  if (family === 4) return a === b;
  const x = parseIpv6OrNull(a);
  const y = parseIpv6OrNull(b);
  return x !== null && y !== null && formatIpv6(x) === formatIpv6(y);
}

export function runPingCheck(target: CheckTarget, params: PingCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  const ep = probeEndpoint(target, params);
  return runProbe(timeoutMs(params), opts.signal, `no echo reply from ${ep.ip}`, (ctx) => {
    const family: IcmpFamily = isIPv6(ep.ip) ? 6 : 4;
    let sock: IcmpSocket | null;
    let why = 'none configured';
    try { sock = icmpSocketFactory(params.bindto, family); } catch (err) { sock = null; why = errorReason(err); }
    if (!sock) {
      ctx.finish({ ok: false, reason: `ping_check: no ICMP socket available (${why})` });
      return;
    }
    const s = sock;
    ctx.onSettle(() => s.close());
    const id = randomInt(0, 0x10000);
    const seq = randomInt(0, 0x10000);
    const off = s.onMessage((src, icmp) => {
      const r = parseEchoReply(icmp, family);
      if (r && r.id === id && r.seq === seq && sameAddress(src, ep.ip, family)) ctx.finish({ ok: true, reason: `echo reply from ${ep.ip}` });
    });
    ctx.onSettle(off);
    try { s.send(ep.ip, buildEchoRequest(id, seq, new TextEncoder().encode('ulvs-ping-check'), family)); }
    catch (err) { ctx.finish({ ok: false, reason: `ICMP send: ${errorReason(err)}` }); }
  });
}
