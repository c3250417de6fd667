/**
 * ldirectord.cf -> ulvs YAML. The format (ldirectord(8)): `key=value` lines; `virtual=IP:PORT`
 * starts a service whose settings are the indented lines after it; unindented lines are global
 * defaults. `real=IP:PORT gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"]`. ldirectord's
 * negotiate check (request + receive) is an http_get with the path and a regex, as
 * src/health's negotiateAsHttpGet runs it.
 */
import { readFileSync, statSync } from 'node:fs';
import { closestMatch } from '../config/did-you-mean.js';
import { LB_ALGOS } from '../config/raw-schema.js';
import { MAX_INPUT_BYTES, MigrateError, type MigrateDiagnostic, type SourcePos } from './errors.js';
import { YAMLMap, YAMLSeq } from 'yaml';
import { OutMap, YamlBuilder } from './yaml-out.js';
import type { Translation } from './keepalived-translate.js';
import { parseLdirectord, type Setting } from './ldirectord-parse.js';
export { parseLdirectord } from './ldirectord-parse.js';
import { bracketedIpv6, ldirectordChecker, parseRealLine } from './ldirectord-checks.js';

export interface LdirectordOptions {
  interface?: string;
  inside?: string;
  readText?: (path: string) => string;
}

/** ldirectord's service guess from the port when service= is not given. */
const SERVICE_BY_PORT: Record<number, string> = { 80: 'http', 8080: 'http', 443: 'https', 25: 'smtp', 53: 'dns', 21: 'ftp', 110: 'pop', 143: 'imap', 389: 'ldap', 3306: 'mysql', 5432: 'pgsql' };
const METHODS: Record<string, string> = { gate: 'DR', masq: 'NAT', ipip: 'TUN' };
/** What works instead of ldirectord's emailalert: keepalived's mail keys, which ulvs sends. */
const EMAIL_HINT = 'write global_defs notification_email: [ADDRESS], smtp_server: HOST and smtp_alert: true; ulvs then mails on real server up/down as keepalived does';

/** ldirectord settings ulvs refuses whatever their value, with the reason each report gives. */
export const LDIRECTORD_REFUSED: Readonly<Record<string, string>> = {
  logfile: 'ulvs logs to stderr (journald); set dataplane.log_level',
  callback: 'ulvs reloads by itself: dataplane.autoreload',
  fork: 'ulvs is one process',
  supervised: 'ulvs is one process',
  emailalert: EMAIL_HINT,
  emailalertfreq: EMAIL_HINT,
  emailalertstatus: EMAIL_HINT,
  emailalertfrom: EMAIL_HINT,
  smtp: EMAIL_HINT,
  failurecount: "use the checker's retry (consecutive failures before down)",
  cleanstop: 'no ulvs equivalent',
  monitorfile: 'no ulvs equivalent',
  readdquiescent: 'no ulvs equivalent',
  maintenancedir: 'no ulvs equivalent',
  login: 'ulvs has no negotiate check that logs in',
  passwd: 'ulvs has no negotiate check that logs in',
  database: 'ulvs has no negotiate check that logs in',
  secret: 'ulvs has no negotiate check that logs in',
};

export const GLOBAL_ONLY = ['autoreload', 'logfile', 'callback', 'emailalertfreq', 'emailalertstatus', 'emailalertfrom', 'fork', 'supervised', 'cleanstop', 'readdquiescent', 'maintenancedir', 'smtp'];
export const VIRTUAL_KEYS = ['real', 'checktype', 'service', 'request', 'receive', 'httpmethod', 'virtualhost', 'fallback', 'quiescent', 'scheduler', 'persistent', 'netmask', 'protocol', 'checktimeout', 'negotiatetimeout', 'connecttimeout', 'checkinterval', 'checkport', 'failurecount', 'login', 'passwd', 'database', 'secret', 'checkcommand', 'emailalert', 'monitorfile', 'cleanstop', 'ops', 'real6'];
/** Settings ldirectord takes globally and per virtual (virtual wins). */
export const INHERITED = ['checktimeout', 'negotiatetimeout', 'connecttimeout', 'checkinterval', 'quiescent', 'fallback', 'emailalert', 'failurecount', 'cleanstop'];

export function translateLdirectord(text: string, file: string, opts: LdirectordOptions = {}): Translation {
  const { globals, virtuals } = parseLdirectord(text, file);
  const reports: MigrateDiagnostic[] = [];
  const reported = new Set<string>();
  const report = (at: SourcePos, message: string): void => {
    // A global setting every virtual inherits is reported once, at its own line.
    const key = `${at.file}:${at.line}:${message}`;
    if (reported.has(key)) return;
    reported.add(key);
    reports.push({ file: at.file, line: at.line, col: at.col, message });
  };
  const unsupported = (s: Setting, why: string): void => report(s, `${s.key} not supported by ulvs (${why})`);
  const yaml = new YamlBuilder();
  const map = () => new OutMap(yaml);
  const root = map();
  const dataplane = map();
  const statics = yaml.doc.createNode([]) as YAMLSeq;
  const services = yaml.doc.createNode([]) as YAMLSeq;
  let anyNat = false;
  const iface = opts.interface ?? 'eth0';
  if (opts.interface === undefined) report({ file, line: 1, col: 1 }, 'ldirectord.cf names no interface: dataplane.interface is eth0; rerun with --interface IF to change it');
  dataplane.set('interface', iface);

  const num = (s: Setting, int = true): number | undefined => {
    const v = s.values[0];
    const n = v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || (int && !Number.isInteger(n))) {
      report({ ...s, col: s.col + s.key.length + 1 }, `${s.key}: "${s.raw}" is not ${int ? 'a whole number' : 'a number'}, not translated`);
      return undefined;
    }
    return n;
  };
  const yes = (s: Setting): boolean | undefined => {
    const v = (s.values[0] ?? '').toLowerCase();
    if (v === 'yes') return true;
    if (v === 'no') return false;
    report(s, `${s.key}: "${s.raw}" is not yes or no, not translated`);
    return undefined;
  };
  const ipPort = (s: Setting, word: string): { ip: string; port?: number } | undefined => {
    // virtual6=/fallback6-style IPv6 is written [ADDR]:PORT (ldirectord(8)).
    const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(word) ?? bracketedIpv6(word);
    if (!m) {
      report(s, `${s.key}: "${word}" is not IP:PORT${/^\d+$/.test(word) ? ' (a firewall mark: ulvs takes packets before netfilter, so there are no marks; write the VIP:port)' : ' (ulvs needs IPv4 addresses, not names)'}, not translated`);
      return undefined;
    }
    return m[2] !== undefined ? { ip: m[1], port: Number(m[2]) } : { ip: m[1] };
  };

  const globalByKey = new Map<string, Setting>();
  // Comments above global settings (the file's header, mostly) go above dataplane: the global
  // settings themselves land in every virtual.
  const header = globals.flatMap((g) => g.commentsBefore);
  if (header.length > 0) dataplane.set('interface', iface, { commentsBefore: header });
  for (const g of globals) g.commentsBefore = [];
  for (const g of globals) {
    if (g.key === 'autoreload') {
      const b = yes(g);
      if (b !== undefined) dataplane.set('autoreload', b, g);
    } else if (g.key === 'logfile') unsupported(g, LDIRECTORD_REFUSED.logfile);
    else if (INHERITED.includes(g.key)) globalByKey.set(g.key, g);
    else if (GLOBAL_ONLY.includes(g.key)) unsupported(g, LDIRECTORD_REFUSED[g.key] ?? 'no ulvs equivalent');
    else {
      const near = closestMatch(g.key, [...GLOBAL_ONLY, ...INHERITED]);
      report(g, `${g.key}: unknown ldirectord setting, not translated${near ? ` (did you mean ${near}?)` : ''}`);
    }
  }

  const asked = { 'virtual servers': virtuals.length, 'real servers': 0, 'vrrp instances': 0, checkers: 0 };
  for (const v of virtuals) {
    const vs = map();
    const vip = ipPort(v.head, v.head.values[0] ?? '');
    if (!vip) continue;
    if (vip.port === undefined) {
      report(v.head, 'virtual= has no port; ulvs needs IP:PORT, not translated');
      continue;
    }
    vs.set('vip', vip.ip, v.head);
    vs.set('port', vip.port);
    const get = (key: string): Setting | undefined => {
      const list = v.settings.filter((s) => s.key === key);
      for (const s of list.slice(key === 'real' ? list.length : 1)) report(s, `${key}= given twice in this virtual; the first is kept`);
      return list[0] ?? globalByKey.get(key);
    };
    for (const s of v.settings) {
      if (!VIRTUAL_KEYS.includes(s.key)) {
        const near = closestMatch(s.key, VIRTUAL_KEYS);
        report(s, `${s.key}: unknown ldirectord setting, not translated${near ? ` (did you mean ${near}?)` : ''}`);
      }
    }
    const protocol = get('protocol');
    if (protocol) {
      const p = (protocol.values[0] ?? '').toUpperCase();
      if (p === 'TCP' || p === 'UDP') vs.set('protocol', p, protocol);
      else unsupported(protocol, `protocol ${protocol.raw}: ulvs has no firewall marks; use tcp or udp`);
    } else vs.set('protocol', 'TCP');
    const sched = get('scheduler');
    const algo = sched?.values[0] ?? 'wrr';
    if ((LB_ALGOS as readonly string[]).includes(algo)) vs.set('lb_algo', algo, sched ?? { commentsBefore: ["ldirectord's default scheduler"] });
    else if (sched) report(sched, `scheduler "${algo}" not supported by ulvs (schedulers: ${LB_ALGOS.join(' ')})`);
    // virtual6= blocks list their servers as real6= (real= too, as ldirectord reads either).
    const reals = v.settings.filter((s) => s.key === 'real' || s.key === 'real6');
    const kinds = new Set<string>();
    for (const r of reals) {
      const method = METHODS[(r.values[1] ?? 'gate').toLowerCase()];
      if (method) kinds.add(method);
    }
    const kind = [...kinds][0] ?? 'DR';
    vs.set('lb_kind', kind, { comment: `from the real= lines' ${Object.keys(METHODS).find((k) => METHODS[k] === kind)}` });
    if (kind === 'NAT') anyNat = true;
    const ops = get('ops');
    if (ops) {
      const b = yes(ops);
      if (b !== undefined) vs.set('ops', b, ops);
    }
    const persistent = get('persistent');
    if (persistent) {
      const n = num(persistent);
      if (n !== undefined) vs.set('persistence_timeout', n, persistent);
    }
    const netmask = get('netmask');
    if (netmask) vs.set('persistence_granularity', netmask.values[0] ?? '', netmask);
    const interval = get('checkinterval');
    if (interval) {
      const n = num(interval, false);
      if (n !== undefined) vs.set('delay_loop', n, interval);
    }
    const timeout = get('checktimeout');
    if (timeout) {
      const n = num(timeout, false);
      if (n !== undefined) vs.set('connect_timeout', n, timeout);
    }
    const quiescent = get('quiescent');
    if (quiescent) {
      const b = yes(quiescent);
      if (b !== undefined) vs.set('inhibit_on_failure', b, quiescent);
    } else vs.set('inhibit_on_failure', true, { comment: "ldirectord's default quiescent=yes: a failed server keeps weight 0" });
    const fallback = get('fallback');
    if (fallback) {
      const f = ipPort(fallback, fallback.values[0] ?? '');
      if (f) {
        const m = map();
        m.set('ip', f.ip);
        if (f.port !== undefined) m.set('port', f.port);
        vs.set('sorry_server', m.compact(), fallback);
        const fm = fallback.values[1] ? METHODS[fallback.values[1].toLowerCase()] : undefined;
        if (fm && fm !== kind) unsupported(fallback, `the sorry server is forwarded like the real servers (${kind}), not ${fm}`);
      }
    }
    for (const key of ['failurecount', 'emailalert', 'cleanstop', 'monitorfile']) {
      const s = get(key);
      if (s) unsupported(s, LDIRECTORD_REFUSED[key]);
    }

    // The check every real server of this virtual gets (ldirectord checks all of them alike).
    const checktype = get('checktype');
    const type = (checktype?.values[0] ?? 'negotiate').toLowerCase();
    const serviceSetting = get('service');
    const service = (serviceSetting?.values[0] ?? SERVICE_BY_PORT[vip.port] ?? 'none').toLowerCase();
    const checkport = get('checkport');
    const port = checkport ? num(checkport) : undefined;
    const negotiateTimeout = get('negotiatetimeout');
    const connectTimeout = get('connecttimeout');
    const request = get('request');
    const receive = get('receive');
    const vhost = get('virtualhost');
    const method = get('httpmethod');
    if (method && (method.values[0] ?? '').toUpperCase() !== 'GET') unsupported(method, 'ulvs checks with GET, as keepalived');
    for (const key of ['login', 'passwd', 'database', 'secret']) {
      const s = get(key);
      if (s) unsupported(s, LDIRECTORD_REFUSED[key]);
    }
    const checkCommand = get('checkcommand');

    const conn: Record<string, unknown> = {};
    if (port !== undefined) conn.connect_port = port;
    const checkTimeout = type === 'negotiate' ? negotiateTimeout : connectTimeout;
    if (checkTimeout) {
      const n = num(checkTimeout, false);
      if (n !== undefined) conn.connect_timeout = n;
    }
    const protocolName = vs.get('protocol')?.toJSON() === 'UDP' ? 'UDP' : 'TCP';
    const checkInputs = { type, service, protocol: protocolName, connect: conn, virtualhost: vhost?.values[0], checkCommand: checkCommand?.values.join(' ') } as const;
    if (checktype && !['negotiate', 'connect', 'ping', 'off', 'on', 'external', 'external-perl'].includes(type) && !/^\d+$/.test(type)) {
      report(checktype, `checktype "${checktype.raw}" is not negotiate, connect, ping, external, on, off or a number, not translated`);
    } else if (/^\d+$/.test(type)) {
      report(checktype!, `checktype=${type} (${type} connect checks, then one negotiate) not supported by ulvs (ulvs runs one checker: the negotiate check is kept)`);
    }
    if ((type === 'negotiate' || /^\d+$/.test(type)) && !['http', 'https', 'smtp', 'dns'].includes(service)) {
      report(serviceSetting ?? checktype ?? v.head, `negotiate check for service ${service} not supported by ulvs (checked with ${protocolName === 'UDP' ? 'udp_check' : 'tcp_check: connect only'})`);
    }
    if ((type === 'negotiate' || /^\d+$/.test(type)) && service === 'dns' && (receive || reals.some((r) => r.values.length > 4))) {
      report(receive ?? checktype ?? v.head, 'receive= of a dns negotiate check not supported by ulvs (dns_check queries request= and is up on any answer; it does not match the answer): the check is kept without it');
    }
    if (type === 'connect' && protocolName === 'UDP') report(checktype!, 'checktype=connect on a UDP service: translated as udp_check (a datagram, down on ICMP port unreachable), not a TCP probe');
    if ((type === 'external' || type === 'external-perl') && !checkCommand) report(checktype!, 'checktype=external needs checkcommand=, not translated');
    if (type === 'on') report(checktype!, 'checktype=on: no checker, real servers are always up');
    if (type === 'off') {
      report(checktype!, 'checktype=off: ldirectord activates no real or fallback server, so every real server is kept with weight 0 and the fallback is left out');
      vs.delete('sorry_server');
    }

    const rsList = yaml.doc.createNode([]) as YAMLSeq;
    for (const r of reals) {
      const line = parseRealLine(r.values);
      if (typeof line === 'string') {
        report(r, `${r.key}: ${line}, not translated`);
        asked['real servers']++;
        continue;
      }
      asked['real servers'] += line.ips.length;
      if (line.ips.length > 1) report(r, `real= range ${r.values[0]}: ${line.ips.length} real servers, ${line.ips[0]} to ${line.ips[line.ips.length - 1]}`);
      const [methodWord, weightWord, req, rcv, ...extra] = line.rest;
      const m = methodWord?.toLowerCase();
      const rk = m ? METHODS[m] : 'DR';
      if (m && !rk) report(r, `real=: "${methodWord}" is not gate, masq or ipip, not translated`);
      else if (rk !== kind) report(r, `real= ${m} not supported by ulvs (every real server of a service is forwarded the same way: ${kind}); make it a separate virtual`);
      let weight = 1;
      if (weightWord !== undefined) {
        const w = /^\d+$/.test(weightWord) ? Number(weightWord) : NaN;
        if (Number.isInteger(w) && w <= 65535) weight = w;
        else report(r, `real=: weight "${weightWord}" is not a whole number 0..65535, not translated`);
      }
      const check = ldirectordChecker(checkInputs, req ?? request?.values[0], rcv ?? receive?.values[0]);
      if (check || type === 'on' || type === 'off') asked.checkers += check ? 1 : 0;
      else asked.checkers++;
      if (extra.length > 0) report(r, `real=: extra words "${extra.join(' ')}" not translated`);
      for (const [i, ip] of line.ips.entries()) {
        const rs = map();
        rs.set('ip', ip, i === 0 ? r : undefined);
        rs.set('port', line.port ?? vip.port);
        rs.set('weight', type === 'off' ? 0 : weight);
        if (line.lthreshold !== undefined) rs.set('lthreshold', line.lthreshold);
        if (line.uthreshold !== undefined) rs.set('uthreshold', line.uthreshold);
        if (check) rs.set(check[0], compactOf(yaml, check[1]));
        rsList.items.push(rs.node);
      }
    }
    vs.set('real_servers', rsList);
    services.items.push(vs.node);
    statics.items.push(yaml.node({ address: `${vip.ip}/${vip.ip.includes(':') ? 128 : 32}`, dev: iface }));
  }

  if (opts.inside !== undefined) dataplane.set('inside', opts.inside);
  else if (anyNat) dataplane.set('inside', 'auto', { comment: 'NAT: the interface the kernel routes the real servers through (--inside IF names one)' });
  root.set('dataplane', dataplane.compact());
  if (statics.items.length > 0) {
    root.set('static_ipaddress', statics, { commentsBefore: ['ldirectord leaves the VIPs to the admin (ifconfig ethX:0 VIP); ulvs holds them here'] });
    for (const item of statics.items) (item as YAMLMap).flow = true;
  }
  root.set('virtual_servers', services);
  return { builder: yaml, root, reports, asked };
}

function compactOf(yaml: YamlBuilder, value: Record<string, unknown>): OutMap {
  const m = new OutMap(yaml);
  for (const [k, v] of Object.entries(value)) {
    const node = m.set(k, v);
    if (node instanceof YAMLSeq) for (const item of node.items) if (item instanceof YAMLMap) item.flow = true;
  }
  return m.compact();
}

/** Does this text look like ldirectord.cf (key=value lines, a virtual=, no braces)? */
export function looksLikeLdirectord(text: string): boolean {
  return /^virtual\s*=/m.test(text) && !/[{}]/.test(text.replace(/#.*$/gm, ''));
}

export function readLdirectordFile(path: string, opts: LdirectordOptions = {}): Translation {
  let text: string;
  try {
    if (opts.readText) text = opts.readText(path);
    else {
      const size = statSync(path).size;
      if (size > MAX_INPUT_BYTES) throw new Error(`is ${size} bytes, more than the ${MAX_INPUT_BYTES} a configuration may have`);
      text = readFileSync(path, 'utf8');
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MigrateError([{ file: path, line: 1, col: 1, message: `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (err as Error).message}` }]);
  }
  return translateLdirectord(text, path, opts);
}
