/**
 * UDP_CHECK as keepalived's check_udp.c: send `payload` (random when unset) on a connected
 * UDP socket. With require_reply, up iff a reply arrives whose length is within
 * [min_reply_length, max_reply_length] and that matches the require_reply hex (X = any
 * nibble) over the shorter of the two. Without it, up unless an ICMP error
 * (port unreachable -> ECONNREFUSED on the connected socket) arrives within connect_timeout.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { CheckResult, CheckTarget, ConnectionParams, RunOptions } from './types.js';
import { errorReason, probeEndpoint, timeoutMs } from './types.js';
import { runProbe } from './probe.js';

export interface UdpCheckParams extends ConnectionParams {
  payload?: string;
  /** true: any reply; a hex string: a reply matching it. */
  require_reply?: boolean | string;
  min_reply_length?: number;
  max_reply_length?: number;
}

/**
 * keepalived's free-format hex: whitespace-separated groups, each read two digits at a
 * time from the left, an odd last digit becoming 0X ("Ab12f 3" = AB 12 0F 03).
 * With `wildcards`, X/x digits are allowed and come back as a mask nibble of 0.
 * Returns null when the text is not hex.
 */
export function parseKeepalivedHex(text: string, wildcards = false): { bytes: Buffer; mask: Buffer } | null {
  const bytes: number[] = [];
  const mask: number[] = [];
  const digit = wildcards ? /^[0-9a-fA-FxX]+$/ : /^[0-9a-fA-F]+$/;
  for (const group of text.trim().split(/\s+/).filter((g) => g.length > 0)) {
    if (!digit.test(group)) return null;
    for (let i = 0; i < group.length; i += 2) {
      const pair = i + 1 < group.length ? group.slice(i, i + 2) : `0${group[i]}`;
      let b = 0;
      let m = 0;
      for (const c of pair) {
        b <<= 4; m <<= 4;
        if (c !== 'x' && c !== 'X') { b |= parseInt(c, 16); m |= 0xf; }
      }
      bytes.push(b); mask.push(m);
    }
  }
  return { bytes: Buffer.from(bytes), mask: Buffer.from(mask) };
}

/** Pure: does `reply` satisfy the require_reply settings? */
export function judgeUdpReply(reply: Uint8Array, params: UdpCheckParams): CheckResult {
  const min = params.min_reply_length ?? 0;
  const max = params.max_reply_length ?? 255;
  if (reply.length < min || reply.length > max) {
    return { ok: false, reason: `UDP reply length ${reply.length} outside ${min}-${max}` };
  }
  if (typeof params.require_reply === 'string') {
    const want = parseKeepalivedHex(params.require_reply, true);
    if (!want) return { ok: false, reason: 'bad require_reply hex' };
    const n = Math.min(reply.length, want.bytes.length);
    for (let i = 0; i < n; i++) {
      if ((reply[i] & want.mask[i]) !== want.bytes[i]) return { ok: false, reason: `UDP reply differs at byte ${i}` };
    }
  }
  return { ok: true, reason: `UDP reply of ${reply.length} bytes` };
}

export function runUdpCheck(target: CheckTarget, params: UdpCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  const ep = probeEndpoint(target, params);
  const needReply = params.require_reply !== undefined && params.require_reply !== false;
  const quietOk: CheckResult = { ok: true, reason: 'no ICMP error within connect_timeout' };
  return runProbe(timeoutMs(params), opts.signal, needReply ? `no UDP reply from ${ep.ip}:${ep.port}` : quietOk, (ctx) => {
    let payload: Buffer;
    if (params.payload !== undefined) {
      const parsed = parseKeepalivedHex(params.payload);
      if (!parsed) { ctx.finish({ ok: false, reason: 'bad payload hex' }); return; }
      payload = parsed.bytes;
    } else {
      payload = randomBytes(16);
    }
    const socket = dgram.createSocket(net.isIPv6(ep.ip) ? 'udp6' : 'udp4');
    ctx.onSettle(() => { try { socket.close(); } catch { /* already closed */ } });
    socket.on('error', (err) => {
      const code = errorReason(err);
      ctx.finish({ ok: false, reason: code === 'ECONNREFUSED' ? 'ICMP port unreachable' : `UDP error: ${code}` });
    });
    socket.on('message', (msg) => {
      ctx.finish(needReply ? judgeUdpReply(msg, params) : { ok: true, reason: 'UDP reply' });
    });
    const go = (): void => socket.connect(ep.port, ep.ip, () => socket.send(payload));
    if (params.bindto || params.bind_port) socket.bind({ address: params.bindto, port: params.bind_port ?? 0 }, go);
    else go();
  });
}
