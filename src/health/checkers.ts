/** Checker registry: one entry point for every checker type, and the probe-sharing key. */
import type { CheckResult, CheckTarget, CheckerType, RunOptions } from './types.js';
import { errorReason } from './types.js';
import { runTcpCheck } from './tcp.js';
import { runHttpGet, runSslGet, type HttpGetParams } from './http.js';
import { runSmtpCheck } from './smtp.js';
import { runDnsCheck } from './dns.js';
import { runUdpCheck, type UdpCheckParams } from './udp.js';
import { runPingCheck } from './ping.js';
import { runMiscCheck, type MiscCheckParams } from './misc.js';
import { runFileCheck, type FileCheckParams } from './file.js';

export type CheckParams = Record<string, unknown>;

export type CheckRunner = (type: CheckerType, target: CheckTarget, params: CheckParams, opts?: RunOptions) => Promise<CheckResult>;

/** Run one probe of `type`. Never throws, never outlives its timeout. */
export const runCheck: CheckRunner = async (type, target, params, opts = {}) => {
  try {
    switch (type) {
      case 'tcp_check': return await runTcpCheck(target, params, opts);
      case 'http_get': return await runHttpGet(target, params as unknown as HttpGetParams, opts);
      case 'ssl_get': return await runSslGet(target, params as unknown as HttpGetParams, opts);
      case 'smtp_check': return await runSmtpCheck(target, params, opts);
      case 'dns_check': return await runDnsCheck(target, params, opts);
      case 'udp_check': return await runUdpCheck(target, params as UdpCheckParams, opts);
      case 'ping_check': return await runPingCheck(target, params, opts);
      case 'misc_check': return await runMiscCheck(target, params as unknown as MiscCheckParams, opts);
      case 'file_check': return await runFileCheck(target, params as unknown as FileCheckParams, opts);
      default: return { ok: false, reason: `unknown checker ${String(type)}` };
    }
  } catch (err) {
    return { ok: false, reason: `internal: ${errorReason(err)}` };
  }
};

/** JSON with object keys sorted at every level, so equal params give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * Two checks share one probe iff this key is equal: same checker, same parameters
 * (nb_get_retry read as retry), same target. misc/file checks do not depend on the
 * target's address, but keepalived passes none to them either, so the key keeps it simple.
 */
export function probeKey(type: CheckerType, target: CheckTarget, params: CheckParams): string {
  const p: CheckParams = { ...params };
  if (p.retry === undefined && p.nb_get_retry !== undefined) p.retry = p.nb_get_retry;
  delete p.nb_get_retry;
  return `${type}|${target.ip}|${target.port}|${canonicalJson(p)}`;
}
