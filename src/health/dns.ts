/**
 * DNS_CHECK as keepalived's check_dns.c: one UDP query (type, name; default SOA for "."),
 * up iff a reply with our id, QR set and RCODE 0 (NOERROR) arrives in connect_timeout.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import type { CheckResult, CheckTarget, ConnectionParams, RunOptions } from './types.js';
import { errorReason, probeEndpoint, timeoutMs } from './types.js';
import { runProbe } from './probe.js';

export interface DnsCheckParams extends ConnectionParams {
  type?: string;
  name?: string;
}

export const DNS_TYPES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28,
};

/** Pure: a standard query with RD set (as keepalived). Throws on a bad name or type. */
export function buildDnsQuery(id: number, name: string, type: string): Buffer {
  const qtype = DNS_TYPES[type.toUpperCase()];
  if (qtype === undefined) throw new Error(`unknown DNS type ${type}`);
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  parts.push(header);
  for (const label of labels) {
    const b = Buffer.from(label, 'ascii');
    if (b.length === 0 || b.length > 63) throw new Error(`bad DNS label in ${name}`);
    parts.push(Buffer.from([b.length]), b);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt8(0, 0);
  tail.writeUInt16BE(qtype, 1);
  tail.writeUInt16BE(1, 3); // IN
  parts.push(tail);
  return Buffer.concat(parts);
}

/** Pure: verdict on a datagram; null when it is not a reply to `id` (keep waiting). */
export function judgeDnsReply(id: number, msg: Uint8Array): CheckResult | null {
  if (msg.length < 12) return null;
  if (((msg[0] << 8) | msg[1]) !== (id & 0xffff)) return null;
  if ((msg[2] & 0x80) === 0) return null; // a query, not a reply
  const rcode = msg[3] & 0x0f;
  return rcode === 0 ? { ok: true, reason: 'DNS NOERROR' } : { ok: false, reason: `DNS RCODE ${rcode}` };
}

export function runDnsCheck(target: CheckTarget, params: DnsCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  const ep = probeEndpoint(target, params);
  return runProbe(timeoutMs(params), opts.signal, `DNS timeout from ${ep.ip}:${ep.port}`, (ctx) => {
    const id = randomInt(0, 0x10000);
    const query = buildDnsQuery(id, params.name ?? '.', params.type ?? 'SOA');
    const socket = dgram.createSocket(net.isIPv6(ep.ip) ? 'udp6' : 'udp4');
    ctx.onSettle(() => { try { socket.close(); } catch { /* already closed */ } });
    socket.on('error', (err) => ctx.finish({ ok: false, reason: `DNS socket error: ${errorReason(err)}` }));
    socket.on('message', (msg) => {
      const verdict = judgeDnsReply(id, msg);
      if (verdict) ctx.finish(verdict);
    });
    const go = (): void => socket.connect(ep.port, ep.ip, () => socket.send(query));
    if (params.bindto || params.bind_port) socket.bind({ address: params.bindto, port: params.bind_port ?? 0 }, go);
    else go();
  });
}
