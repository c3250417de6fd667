/**
 * ipvsadm 1.31's text formats, byte for byte (ipvsadm.c: list_all, print_title,
 * print_service_entry, print_largenum, print_conn, the FMT_RULE save format), so scripts and
 * eyes trained on ipvsadm keep working. Pure: names come in through `names`.
 */
import type { IpvsRates, IpvsStats } from './ipvs-stats.js';
import { ipv6Words, parseIpv6OrNull } from '../packet/addr6.js';

export type ForwardName = 'Route' | 'Masq' | 'Tunnel' | 'Local' | 'FullNat';

export interface RealServerStatus {
  ip: string; port: number; forward: ForwardName; weight: number;
  activeConns: number; inactiveConns: number; up: boolean;
  /** Counters and rates (`--stats`, `--rate`); absent when the director does not report them. */
  stats?: IpvsStats; rates?: IpvsRates;
  /** `--thresholds` (0 = none) and `--persistent-conn` (templates pointing at this server). */
  uthreshold?: number; lthreshold?: number; persistConns?: number;
}

export interface ServiceStatus {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  vip: string; port: number;
  scheduler: string;
  /** Scheduler flags as ipvsadm prints them after the name (e.g. "sh-port"). */
  schedulerFlags: string[];
  persistenceTimeout: number;
  /** IPv4: a netmask (255.255.255.255 = none); IPv6: a prefix length as text (128 = none). */
  persistenceNetmask: string;
  onePacket: boolean;
  realServers: RealServerStatus[];
  stats?: IpvsStats; rates?: IpvsRates;
}

export interface ListFormat {
  numeric: boolean; stats: boolean; rate: boolean; thresholds: boolean; persistentConn: boolean;
  noSort: boolean; exact: boolean;
}

export const NUMERIC: ListFormat = { numeric: true, stats: false, rate: false, thresholds: false, persistentConn: false, noSort: false, exact: false };

/** What a listing without -n looks names up in (gethostbyaddr / getservbyport). */
export interface ReverseNames {
  hostOf(ip: string): string | undefined;
  serviceOf(port: number, proto: 'tcp' | 'udp' | 'sctp'): string | undefined;
}
const NO_NAMES: ReverseNames = { hostOf: () => undefined, serviceOf: () => undefined };

const PROTO_NUMBER = { TCP: 6, UDP: 17, SCTP: 132 } as const;
const ipValue = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
/** C's `int r = ntohl(a) - ntohl(b)`: the unsigned difference read as a signed 32-bit int. */
const cDiff = (a: number, b: number): number => ((a - b) | 0);
const isV6 = (ip: string): boolean => ip.includes(':');
/** AF_INET (2) sorts before AF_INET6 (10). */
const afDiff = (a: string, b: string): number => Number(isV6(a)) - Number(isV6(b));
/** IPv4: one cDiff; IPv6: cDiff word by word until one differs (libipvs). Same family assumed. */
function addressDiff(a: string, b: string): number {
  if (!isV6(a)) return cDiff(ipValue(a), ipValue(b));
  const wa = ipv6Words(parseIpv6OrNull(a) ?? new Uint8Array(16));
  const wb = ipv6Words(parseIpv6OrNull(b) ?? new Uint8Array(16));
  for (let i = 0; i < 4; i++) { const r = cDiff(wa[i], wb[i]); if (r !== 0) return r; }
  return 0;
}

/** ipvs_cmp_services: af, protocol, address, port (fwmark is equal for ulvs). */
export function compareServices(a: ServiceStatus, b: ServiceStatus): number {
  return afDiff(a.vip, b.vip) || (PROTO_NUMBER[a.protocol] - PROTO_NUMBER[b.protocol]) || addressDiff(a.vip, b.vip) || a.port - b.port;
}

/** ipvs_cmp_dests: address, then port. */
export function compareServers(a: RealServerStatus, b: RealServerStatus): number {
  return addressDiff(a.ip, b.ip) || a.port - b.port;
}

/** The table in ipvsadm's order: sorted unless --nosort (then in the order they were added). */
export function ordered(services: readonly ServiceStatus[], format: Pick<ListFormat, 'noSort'>): ServiceStatus[] {
  if (format.noSort) return [...services];
  return [...services].sort(compareServices).map((s) => ({ ...s, realServers: [...s.realServers].sort(compareServers) }));
}

/** addrport_to_anyname(). */
export function addrPort(ip: string, port: number, proto: ServiceStatus['protocol'], numeric: boolean, names: ReverseNames): string {
  // IPv6 in brackets, as ipvsadm: [2001:2::100]:80.
  const [open, close] = isV6(ip) ? ['[', ']'] : ['', ''];
  if (numeric) return `${open}${ip}${close}:${port}`;
  const p = proto.toLowerCase() as 'tcp' | 'udp' | 'sctp';
  return `${open}${names.hostOf(ip) ?? ip}${close}:${proto === 'SCTP' ? port : names.serviceOf(port, p) ?? port}`;
}

const left = (s: string | number, w: number): string => String(s).padEnd(w);
const right = (s: string | number, w: number): string => String(s).padStart(w);

/** print_largenum(): 9 columns, or K/M/G/T past 100 million; --exact widens instead. */
export function largeNum(n: number, exact: boolean): string {
  const i = Math.max(0, Math.floor(n));
  if (exact) { const s = String(i); return right(s, s.length <= 8 ? 9 : s.length + 1); }
  if (i < 1e8) return right(i, 9);
  if (i < 1e9) return `${right(Math.floor(i / 1e3), 8)}K`;
  if (i < 1e11) return `${right(Math.floor(i / 1e6), 8)}M`;
  if (i < 1e14) return `${right(Math.floor(i / 1e9), 8)}G`;
  return `${right(Math.floor(i / 1e12), 8)}T`;
}

/** IPv4 prints a netmask other than /32; IPv6 a prefix length other than 128 (ipvsadm -M). */
function persistenceMasked(s: ServiceStatus): boolean {
  return s.persistenceNetmask !== (isV6(s.vip) ? '128' : '255.255.255.255');
}

/** print_sched_flags(): sh and mh name their flags; the other schedulers have none ulvs sets. */
function schedFlags(s: ServiceStatus): string {
  const order = s.scheduler === 'sh' ? ['sh-fallback', 'sh-port'] : s.scheduler === 'mh' ? ['mh-fallback', 'mh-port'] : [];
  return order.filter((f) => s.schedulerFlags.includes(f)).join(',');
}

export function formatTitle(format: ListFormat): string {
  const prot = left('Prot LocalAddress:Port', 33);
  const tail = '\n  -> RemoteAddress:Port\n';
  if (format.stats) return `${prot} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => right(h, 8)).join(' ')}${tail}`;
  if (format.rate) return `${prot} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => right(h, 8)).join(' ')}${tail}`;
  if (format.thresholds) return `${prot} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((h) => left(h, 10)).join(' ')}${tail}`;
  if (format.persistentConn) return `${prot} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}${tail}`;
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

const ZERO = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };

/** print_service_entry() for the listing formats. */
export function formatServiceEntry(s: ServiceStatus, format: ListFormat, names: ReverseNames = NO_NAMES): string {
  const vname = addrPort(s.vip, s.port, s.protocol, format.numeric, names);
  // ipvsadm cuts IPv4 names at 33 (28 for real servers), never IPv6 ones.
  const svcName = isV6(s.vip) ? `${s.protocol}  ${vname}` : `${s.protocol}  ${vname}`.slice(0, 33);
  const ex = format.exact;
  let line: string;
  if (format.stats) {
    const st = s.stats ?? ZERO;
    line = left(svcName, 33) + [st.conns, st.inPkts, st.outPkts, st.inBytes, st.outBytes].map((n) => largeNum(n, ex)).join('');
  } else if (format.rate) {
    const r = s.rates ?? ZERO;
    line = left(svcName, 33) + [r.cps, r.inPps, r.outPps, r.inBps, r.outBps].map((n) => largeNum(n, ex)).join('');
  } else {
    line = `${svcName} ${s.scheduler}`;
    const flags = schedFlags(s);
    if (flags) line += ` (${flags})`;
    if (s.persistenceTimeout > 0) {
      line += ` persistent ${s.persistenceTimeout}`;
      if (persistenceMasked(s)) line += ` mask ${s.persistenceNetmask}`;
    }
    if (s.onePacket) line += ' ops';
  }
  const lines = [line];
  for (const r of s.realServers) {
    const fullName = addrPort(r.ip, r.port, s.protocol, format.numeric, names);
    const dname = isV6(s.vip) ? fullName : fullName.slice(0, 28);
    if (format.stats) {
      const st = r.stats ?? ZERO;
      lines.push(`  -> ${left(dname, 28)}` + [st.conns, st.inPkts, st.outPkts, st.inBytes, st.outBytes].map((n) => largeNum(n, ex)).join(''));
    } else if (format.rate) {
      const rt = r.rates ?? ZERO;
      lines.push(`  -> ${left(dname, 28)} ${right(rt.cps, 8)} ${right(rt.inPps, 8)} ${right(rt.outPps, 8)}${largeNum(rt.inBps, ex)}${largeNum(rt.outBps, ex)}`);
    } else if (format.thresholds) {
      lines.push(`  -> ${left(dname, 28)} ${left(r.uthreshold ?? 0, 10)} ${left(r.lthreshold ?? 0, 10)} ${left(r.activeConns, 10)} ${left(r.inactiveConns, 10)}`);
    } else if (format.persistentConn) {
      lines.push(`  -> ${left(dname, 28)} ${left(r.weight, 9)} ${left(r.persistConns ?? 0, 11)} ${left(r.activeConns, 10)} ${left(r.inactiveConns, 10)}`);
    } else {
      lines.push(`  -> ${left(dname, 28)} ${left(r.forward, 7)} ${left(r.weight, 6)} ${left(r.activeConns, 10)} ${left(r.inactiveConns, 10)}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `ipvsadm -L[n] [options]`: list_all(). Size is the connection table's bound. */
export function formatIpvsList(services: readonly ServiceStatus[], tableSize: number, format: ListFormat = NUMERIC,
  names: ReverseNames = NO_NAMES): string {
  return `IP Virtual Server version 1.2.1 (size=${tableSize})\n` + formatTitle(format)
    + ordered(services, format).map((s) => formatServiceEntry(s, format, names)).join('');
}

/** `ipvsadm -L -t VIP:PORT`: list_service(): no version line. */
export function formatIpvsService(service: ServiceStatus, format: ListFormat, names: ReverseNames = NO_NAMES): string {
  return formatTitle(format) + formatServiceEntry(ordered([service], format)[0], format, names);
}

// FullNat: DPVS's ipvsadm writes -b, which ipvsadm 1.31 (and this one) reads as --sched-flags;
// --fullnat is the long name both read back (the service's laddr_group_name stays the config's).
const SWITCH: Record<ForwardName, string> = { Masq: '-m', Tunnel: '-i', Route: '-g', Local: '-g', FullNat: '--fullnat' };
const PROTO_SWITCH = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;

/** `ipvsadm -S [-n]`: the FMT_RULE lines -R reads back. */
export function formatRules(services: readonly ServiceStatus[], numeric: boolean, names: ReverseNames = NO_NAMES): string {
  const out: string[] = [];
  for (const s of ordered(services, { noSort: false })) {
    const svc = `${PROTO_SWITCH[s.protocol]} ${addrPort(s.vip, s.port, s.protocol, numeric, names)}`;
    let line = `-A ${svc} -s ${s.scheduler}`;
    if (s.persistenceTimeout > 0) {
      line += ` -p ${s.persistenceTimeout}`;
      if (persistenceMasked(s)) line += ` -M ${s.persistenceNetmask}`;
    }
    if (s.onePacket) line += ' -o';
    const flags = schedFlags(s);
    if (flags) line += ` -b ${flags}`;
    out.push(line);
    for (const r of s.realServers) {
      out.push(`-a ${svc} -r ${addrPort(r.ip, r.port, s.protocol, numeric, names)} ${SWITCH[r.forward]} -w ${r.weight}`);
    }
  }
  return out.map((l) => l + '\n').join('');
}

export interface ConnectionEntry {
  protocol: string; expiresIn: number; state: string;
  source: string; virtual: string; destination: string;
}

function renameEndpoint(endpoint: string, proto: string, numeric: boolean, names: ReverseNames): string {
  if (numeric) return endpoint;
  const colon = endpoint.lastIndexOf(':');
  const p = proto === 'TCP' || proto === 'UDP' ? proto : 'SCTP';
  // IPv6 endpoints come as [addr]:port already; addrPort adds the brackets back.
  const host = endpoint.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return addrPort(host, Number(endpoint.slice(colon + 1)), p, false, names);
}

/** `ipvsadm -Lc[n] [--persistent-conn]`: list_conn()/print_conn(); ulvs has no persistence engine, so no pe columns per line. */
export function formatConnections(conns: readonly ConnectionEntry[], format: Pick<ListFormat, 'numeric' | 'persistentConn'> = NUMERIC,
  names: ReverseNames = NO_NAMES): string {
  const head = format.persistentConn
    ? `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} ${left('destination', 18)} ${left('pe name', 16)} pe_data`
    : `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination`;
  const lines = ['IPVS connection entries', head];
  for (const c of conns) {
    const secs = Math.max(0, Math.floor(c.expiresIn));
    const expire = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
    const [src, vip, dst] = [c.source, c.virtual, c.destination].map((e) => renameEndpoint(e, c.protocol, format.numeric, names));
    lines.push(`${left(c.protocol, 3)} ${left(expire, 6)} ${left(c.state, 11)} ${left(src, 18)} ${left(vip, 18)} ${dst}`);
  }
  return lines.join('\n') + '\n';
}
