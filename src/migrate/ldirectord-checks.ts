/**
 * ldirectord's per-virtual check and its real= lines, as ulvs checkers and real servers:
 * `checktype` (negotiate, connect, ping, external, on, off) for the virtual's `service` and
 * protocol, and `real=IP[->IP][:PORT] METHOD [WEIGHT] [<l:N>] [<u:N>] ["REQUEST", "RECEIVE"]`.
 */
import { isIPv6 } from 'node:net';
import { negotiateAsHttpGet } from '../health/http.js';

export interface CheckInputs {
  /** checktype, lower case: negotiate, connect, ping, external, external-perl, on, off, or N */
  type: string;
  /** service=, lower case (or guessed from the port) */
  service: string;
  protocol: 'TCP' | 'UDP';
  connect: Record<string, unknown>;
  virtualhost?: string;
  checkCommand?: string;
}

export type Checker = [key: string, params: Record<string, unknown>];

/** The ulvs checker for one real server, or undefined (no checker: on, off, external without a command). */
export function ldirectordChecker(c: CheckInputs, request?: string, receive?: string): Checker | undefined {
  const { type, service, connect: conn } = c;
  if (type === 'off' || type === 'on') return undefined;
  // ldirectord's connect on UDP sends a datagram; a TCP probe would test a port nobody serves.
  if (type === 'connect') return [c.protocol === 'UDP' ? 'udp_check' : 'tcp_check', conn];
  if (type === 'ping') return ['ping_check', {}];
  if (type === 'external' || type === 'external-perl') return c.checkCommand ? ['misc_check', { misc_path: c.checkCommand }] : undefined;
  // negotiate, or N (N connect checks then one negotiate): the negotiate part.
  if (service === 'http' || service === 'https') {
    const p = negotiateAsHttpGet({ ...conn, request: request ?? '/', receive: receive ?? '', ...(c.virtualhost ? { virtualhost: c.virtualhost } : {}) });
    const url = p.url.map((u) => (u.regex === '' ? { path: u.path } : { path: u.path, regex: u.regex }));
    return [service === 'https' ? 'ssl_get' : 'http_get', { ...conn, ...(p.virtualhost ? { virtualhost: p.virtualhost } : {}), url }];
  }
  if (service === 'smtp') return ['smtp_check', conn];
  if (service === 'dns') return ['dns_check', { ...conn, ...(request ? { name: request } : {}) }];
  return [c.protocol === 'UDP' ? 'udp_check' : 'tcp_check', conn];
}

export interface RealLine {
  ips: string[];
  port?: number;
  /** the words after the address, thresholds taken out: METHOD WEIGHT REQUEST RECEIVE */
  rest: string[];
  lthreshold?: number;
  uthreshold?: number;
}

const IP = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const ipValue = (ip: string): number | undefined => {
  const m = IP.exec(ip);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return undefined;
  return m.slice(1).reduce((acc, o) => acc * 256 + Number(o), 0);
};
const ipText = (v: number): string => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
/** A range larger than this is a typo, not a server farm. */
export const MAX_REAL_RANGE = 256;

/** Reads one real= value; a string says what is wrong with it. */
/** ldirectord's IPv6 form (virtual6=, real6=): `[2001:2::1]:80` or `[2001:2::1]`; [whole, address, port]. */
export function bracketedIpv6(word: string): [string, string, string | undefined] | null {
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(word);
  return m && isIPv6(m[1]) ? [m[0], m[1], m[2]] : null;
}

export function parseRealLine(words: readonly string[]): RealLine | string {
  const v6 = bracketedIpv6(words[0] ?? '');
  if (v6) return withThresholds({ ips: [v6[1]], rest: [], ...(v6[2] !== undefined ? { port: Number(v6[2]) } : {}) }, words);
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:->(\d+\.\d+\.\d+\.\d+))?(?::(\d+))?$/.exec(words[0] ?? '');
  if (!m) {
    return /^\d+$/.test(words[0] ?? '') ? `"${words[0]}" is a firewall mark: ulvs takes packets before netfilter, so there are no marks; write the IP:port`
      : `"${words[0] ?? ''}" is not IP[->IP][:PORT] (ulvs needs IPv4 addresses, not names)`;
  }
  const first = ipValue(m[1]);
  const last = m[2] !== undefined ? ipValue(m[2]) : first;
  if (first === undefined || last === undefined) return `"${words[0]}" holds an address that is not IPv4`;
  if (last < first) return `range ${words[0]} ends before it starts`;
  if (last - first >= MAX_REAL_RANGE) return `range ${words[0]} has ${last - first + 1} addresses, more than ${MAX_REAL_RANGE}`;
  const ips: string[] = [];
  for (let v = first; v <= last; v++) ips.push(ipText(v));
  return withThresholds({ ips, rest: [], ...(m[3] !== undefined ? { port: Number(m[3]) } : {}) }, words);
}

/** The words after the address: <l:N>/<u:N> thresholds, the rest kept in order. */
function withThresholds(line: RealLine, words: readonly string[]): RealLine {
  for (const w of words.slice(1)) {
    const t = /^<([lu]):(\d+)>$/i.exec(w);
    if (t) line[t[1].toLowerCase() === 'l' ? 'lthreshold' : 'uthreshold'] = Number(t[2]);
    else line.rest.push(w);
  }
  return line;
}
