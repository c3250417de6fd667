/**
 * Mistakes no single key shows: names that point nowhere, an address or VRID used twice,
 * contradictory settings. Runs on the loaded value as written (paths as in the file), reading
 * it defensively so that it can run even when the schema found errors too: every mistake is
 * reported at once.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { didYouMean } from './did-you-mean.js';
import { parseCidr } from './ipv4.js';
import { CHECKER_KINDS, parseGroupMember } from './raw-schema.js';
import { parseIpv4 } from './ipv4.js';

export type Severity = 'error' | 'warning';
type Path = (string | number)[];

export interface Finding {
  severity: Severity;
  path: Path;
  /** point at the key (true) or at its value (false) */
  atKey: boolean;
  message: string;
  hint?: string;
  /** set when the finding refers back to another spot ("first defined at ...") */
  related?: Path;
}

export interface CrossCheckEnv {
  /** directory of the file that wrote `path`, for relative script names */
  dirOf(path: Path): string;
  /** `FILE:LINE:COL` of `path`, for "first defined at" hints */
  where(path: Path): string;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}
function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function has(o: Obj | undefined, key: string): boolean {
  return o !== undefined && Object.prototype.hasOwnProperty.call(o, key) && o[key] !== undefined;
}
function trackedName(v: unknown): string | undefined {
  return str(v) ?? str(obj(v)?.name);
}

/** First word of a command line, honouring simple quotes: `"/a b/x.sh" arg` -> `/a b/x.sh`. */
export function commandPath(command: string): string {
  const t = command.trim();
  const q = t[0];
  if (q === '"' || q === "'") {
    const end = t.indexOf(q, 1);
    return end > 0 ? t.slice(1, end) : t.slice(1);
  }
  return t.split(/\s+/)[0];
}

type ScriptState = 'ok' | 'missing' | 'not-executable';

function scriptState(program: string, baseDir: string): ScriptState {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : resolve(baseDir, program)]
    : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).filter(Boolean).map((d) => join(d, program));
  let sawFile = false;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      sawFile = true;
      accessSync(c, constants.X_OK);
      return 'ok';
    } catch {
      // try the next one
    }
  }
  return sawFile ? 'not-executable' : 'missing';
}

const SHELL_BUILTINS = new Set(['[', '[[', 'test', 'exit', 'true', 'false', 'echo', 'kill']);

export function crossCheck(root: unknown, env: CrossCheckEnv): Finding[] {
  const out: Finding[] = [];
  const error = (path: Path, message: string, hint?: string, atKey = false): void => {
    out.push({ severity: 'error', path, atKey, message, ...(hint ? { hint } : {}) });
  };
  const warn = (path: Path, message: string, hint?: string, atKey = false): void => {
    out.push({ severity: 'warning', path, atKey, message, ...(hint ? { hint } : {}) });
  };
  const cfg = obj(root);
  if (!cfg) return out;

  const globalDefs = obj(cfg.global_defs);
  const dataplane = obj(cfg.dataplane);
  const globalVersion = num(globalDefs?.vrrp_version) ?? 2;
  const scripts = obj(cfg.vrrp_scripts) ?? {};
  const scriptNames = Object.keys(scripts);
  const trackFiles = obj(cfg.track_files) ?? {};
  const trackFileNames = Object.keys(trackFiles);

  // ---- dataplane
  if (dataplane && str(dataplane.inside) !== undefined && str(dataplane.inside) === (str(dataplane.interface) ?? 'eth0')) {
    error(['dataplane', 'inside'], 'dataplane.inside must differ from dataplane.interface', 'NAT needs a second interface toward the real servers');
  }
  if (has(globalDefs, 'lvs_timeouts') && has(dataplane, 'lvs_timeouts')) {
    warn(['global_defs', 'lvs_timeouts'], 'lvs_timeouts is set in global_defs and in dataplane', 'dataplane.lvs_timeouts wins', true);
  }

  // ---- vrrp_scripts
  for (const name of scriptNames) {
    const s = obj(scripts[name]);
    const script = str(s?.script);
    if (!script) continue;
    const program = commandPath(script);
    if (SHELL_BUILTINS.has(program)) {
      warn(['vrrp_scripts', name, 'script'], `vrrp script "${name}" starts with the shell word "${program}", which is not a program`, 'ulvs runs scripts without a shell: write sh -c "..."');
    } else if (scriptState(program, env.dirOf(['vrrp_scripts', name])) === 'missing') {
      warn(['vrrp_scripts', name, 'script'], `script "${program}" not found`, 'it will fail until it exists');
    }
  }

  // ---- names referenced by tracking
  const checkTracks = (base: Path, owner: Obj): void => {
    list(owner.track_script).forEach((t, i) => {
      const n = trackedName(t);
      if (n !== undefined && !scriptNames.includes(n)) {
        error([...base, 'track_script', i], `track_script "${n}" names no vrrp_scripts entry`, didYouMean(n, scriptNames) ?? (scriptNames.length ? `defined: ${scriptNames.join(', ')}` : 'define it under vrrp_scripts'));
      }
    });
    list(owner.track_file).forEach((t, i) => {
      const n = trackedName(t);
      if (n !== undefined && !trackFileNames.includes(n)) {
        error([...base, 'track_file', i], `track_file "${n}" names no track_files entry`, didYouMean(n, trackFileNames) ?? 'define it under track_files');
      }
    });
  };

  // ---- vrrp_instances
  const instances = list(cfg.vrrp_instances);
  const instanceNames: string[] = [];
  const instanceFirst = new Map<string, number>();
  const vipOwner = new Map<string, Path>();
  const vridOwner = new Map<string, { index: number; peers: string[] }>();
  list(cfg.static_ipaddress).forEach((a, i) => {
    const address = str(a) ?? str(obj(a)?.address);
    const ip = address ? parseCidr(address)?.ip : undefined;
    if (ip) vipOwner.set(ip, ['static_ipaddress', i]);
  });
  instances.forEach((raw, i) => {
    const vi = obj(raw);
    if (!vi) return;
    const base: Path = ['vrrp_instances', i];
    const name = str(vi.name);
    if (name !== undefined) {
      const first = instanceFirst.get(name);
      if (first !== undefined) error([...base, 'name'], `vrrp instance "${name}" is defined twice`, `first at ${env.where(['vrrp_instances', first, 'name'])}`);
      else instanceFirst.set(name, i);
      instanceNames.push(name);
    }
    const version = num(vi.version) ?? globalVersion;
    const advert = num(vi.advert_int);
    if (version === 2 && advert !== undefined && !Number.isInteger(advert)) {
      error([...base, 'advert_int'], `advert_int ${advert} is not whole seconds, which VRRP version 2 requires`, 'set version: 3 for fractions of a second');
    }
    if (version === 3 && has(vi, 'authentication')) {
      warn([...base, 'authentication'], 'authentication is ignored with VRRP version 3', 'RFC 5798 removed it', true);
    }
    const pass = obj(vi.authentication)?.auth_pass;
    if ((typeof pass === 'string' || typeof pass === 'number') && String(pass).length > 8) {
      warn([...base, 'authentication', 'auth_pass'], 'auth_pass is longer than 8 characters', 'only the first 8 are used, as in keepalived');
    }
    if (vi.state === 'MASTER' && vi.nopreempt === true) {
      warn([...base, 'nopreempt'], 'nopreempt has no effect with state MASTER', 'use state: BACKUP on both directors', true);
    }
    checkTracks(base, vi);
    for (const key of ['virtual_ipaddress', 'virtual_ipaddress_excluded']) {
      list(vi[key]).forEach((a, j) => {
        const address = str(a) ?? str(obj(a)?.address);
        const ip = address ? parseCidr(address)?.ip : undefined;
        if (!ip) return;
        const owner = vipOwner.get(ip);
        if (owner) {
          const what = owner[0] === 'static_ipaddress' ? 'static_ipaddress' : `vrrp instance "${str(obj(instances[owner[1] as number])?.name) ?? owner[1]}"`;
          error([...base, key, j], `${ip} is already held by ${what}`, `first at ${env.where(owner)}`);
        } else vipOwner.set(ip, [...base, key, j]);
      });
    }
    const iface = str(vi.interface);
    const vrid = num(vi.virtual_router_id);
    if (iface !== undefined && vrid !== undefined) {
      const key = `${iface}/${vrid}/${str(vi.mcast_dst_ip) ?? ''}`;
      const peers = list(vi.unicast_peer).filter((p): p is string => typeof p === 'string');
      const prior = vridOwner.get(key);
      // keepalived allows a repeated VRID only between unicast instances with disjoint peers.
      const disjointUnicast = prior && peers.length > 0 && prior.peers.length > 0 && !peers.some((p) => prior.peers.includes(p));
      if (prior && !disjointUnicast) {
        error([...base, 'virtual_router_id'], `virtual_router_id ${vrid} is already used on ${iface}`, `by vrrp instance at ${env.where(['vrrp_instances', prior.index, 'name'])}`);
      } else if (!prior) vridOwner.set(key, { index: i, peers });
    }
  });

  // ---- vrrp_sync_groups
  const groupOf = new Map<string, string>();
  const syncNames = new Map<string, number>();
  list(cfg.vrrp_sync_groups).forEach((raw, i) => {
    const sg = obj(raw);
    if (!sg) return;
    const base: Path = ['vrrp_sync_groups', i];
    const name = str(sg.name) ?? `#${i}`;
    if (syncNames.has(name)) error([...base, 'name'], `vrrp sync group "${name}" is defined twice`, `first at ${env.where(['vrrp_sync_groups', syncNames.get(name)!, 'name'])}`);
    else syncNames.set(name, i);
    list(sg.group).forEach((m, j) => {
      const member = str(m);
      if (member === undefined) return;
      if (!instanceNames.includes(member)) {
        error([...base, 'group', j], `sync group member "${member}" names no vrrp instance`, didYouMean(member, instanceNames));
      } else if (groupOf.has(member)) {
        error([...base, 'group', j], `vrrp instance "${member}" is already in sync group "${groupOf.get(member)}"`);
      } else groupOf.set(member, name);
    });
    checkTracks(base, sg);
  });

  // ---- virtual_server_groups
  const vsGroups = new Map<string, number>();
  list(cfg.virtual_server_groups).forEach((raw, i) => {
    const name = str(obj(raw)?.name);
    if (name === undefined) return;
    if (vsGroups.has(name)) error(['virtual_server_groups', i, 'name'], `virtual server group "${name}" is defined twice`, `first at ${env.where(['virtual_server_groups', vsGroups.get(name)!, 'name'])}`);
    else vsGroups.set(name, i);
  });
  const groupNames = [...vsGroups.keys()];
  const groupRanges = new Map<string, { first: number; last: number; port: number; text: string }[]>();
  list(cfg.virtual_server_groups).forEach((raw) => {
    const g = obj(raw);
    const name = str(g?.name);
    if (name === undefined || groupRanges.has(name)) return;
    const ranges: { first: number; last: number; port: number; text: string }[] = [];
    for (const m of list(g?.members)) {
      const parsed = typeof m === 'string' ? parseGroupMember(m) : undefined;
      if (parsed && typeof parsed !== 'string') {
        ranges.push({ first: parseIpv4(parsed.first)!, last: parseIpv4(parsed.last)!, port: parsed.port, text: m as string });
      }
    }
    groupRanges.set(name, ranges);
  });
  // Every VIP:port a service answers, to find a packet two services would both claim.
  const claims: Claim[] = [];

  // ---- virtual_servers
  const serviceFirst = new Map<string, Path>();
  list(cfg.virtual_servers).forEach((raw, i) => {
    const vs = obj(raw);
    if (!vs) return;
    const base: Path = ['virtual_servers', i];
    const protocol = str(vs.protocol) ?? 'TCP';
    const algo = str(vs.lb_algo) ?? str(vs.lvs_sched) ?? 'wlc';
    const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
    const vip = str(vs.vip);
    const vport = num(vs.port);
    const addressing = ['vip', 'group', 'fwmark'].filter((k) => has(vs, k));
    if (addressing.length === 0) {
      error(base, 'a virtual server needs "vip" and "port", or "group"');
    } else if (addressing.length > 1) {
      error([...base, addressing[1]], `a virtual server takes one of vip, group or fwmark, not ${addressing.join(' and ')}`, undefined, true);
    }
    if (has(vs, 'fwmark')) {
      error([...base, 'fwmark'], 'fwmark services are not supported: ulvs bypasses netfilter, so there are no firewall marks', 'list the VIP:ports the iptables rule matched in a virtual_server_groups entry and use "group:"', true);
    }
    if (has(vs, 'group')) {
      const g = str(vs.group);
      if (g !== undefined && !vsGroups.has(g)) error([...base, 'group'], `group "${g}" names no virtual_server_groups entry`, didYouMean(g, groupNames) ?? (groupNames.length ? `defined: ${groupNames.join(', ')}` : undefined));
      if (has(vs, 'port')) error([...base, 'port'], 'port goes with vip, not group', "a group's members carry their ports", true);
    }
    if (vip !== undefined && !has(vs, 'port') && !(num(vs.persistence_timeout) ?? 0)) {
      error([...base, 'vip'], 'port is required for a vip service', 'leave it out only with persistence_timeout (every port of the VIP), as keepalived');
    }
    if (vip !== undefined && vport === 0 && !(num(vs.persistence_timeout) ?? 0)) {
      error([...base, 'port'], 'port 0 (every port) needs persistence_timeout, as in IPVS');
    }
    const serviceKey = vip !== undefined ? `${vip}:${vport ?? 0}/${protocol}` : has(vs, 'group') ? `group ${str(vs.group)}/${protocol}` : undefined;
    if (serviceKey !== undefined) {
      const first = serviceFirst.get(serviceKey);
      const shown = vip !== undefined ? `${protocol} ${vip}:${vport ?? 0}` : `${protocol} group "${str(vs.group)}"`;
      if (first) error([...base, vip !== undefined ? 'vip' : 'group'], `service ${shown} is defined twice`, `first at ${env.where(first)}`);
      else serviceFirst.set(serviceKey, [...base, vip !== undefined ? 'vip' : 'group']);
    }
    const vipValue = vip !== undefined ? parseIpv4(vip) : null;
    if (vipValue !== null) {
      claims.push({ protocol, first: vipValue, last: vipValue, port: vport ?? 0, text: `${vip}:${vport ?? 0}`, path: [...base, 'vip'], viaGroup: false, service: i });
    } else if (str(vs.group) !== undefined) {
      for (const r of groupRanges.get(str(vs.group)!) ?? []) {
        claims.push({ protocol, first: r.first, last: r.last, port: r.port, text: `"${r.text}" of group "${str(vs.group)}"`, path: [...base, 'group'], viaGroup: true, group: str(vs.group), service: i });
      }
    }
    if (has(vs, 'lb_algo') && has(vs, 'lvs_sched')) error([...base, 'lvs_sched'], 'lvs_sched and lb_algo both set', 'they are the same setting; keep lb_algo', true);
    if (has(vs, 'lb_kind') && has(vs, 'lvs_method')) error([...base, 'lvs_method'], 'lvs_method and lb_kind both set', 'they are the same setting; keep lb_kind', true);
    if (has(vs, 'retry') && has(vs, 'nb_get_retry')) error([...base, 'nb_get_retry'], 'nb_get_retry and retry both set', 'nb_get_retry is the old name of retry', true);
    for (const flag of ['sh_port', 'sh_fallback', 'mh_port', 'mh_fallback']) {
      const needed = flag.slice(0, 2);
      if (vs[flag] === true && algo !== needed) error([...base, flag], `${flag} is a flag of the ${needed} scheduler, not ${algo}`, undefined, true);
    }
    if (vs.ops === true && protocol !== 'UDP') error([...base, 'ops'], `ops (one-packet scheduling) applies to UDP services, not ${protocol}`, undefined, true);
    if (has(vs, 'persistence_granularity') && !(num(vs.persistence_timeout) ?? 0)) {
      warn([...base, 'persistence_granularity'], 'persistence_granularity has no effect without persistence_timeout', undefined, true);
    }
    if (kind === 'NAT' && !has(dataplane, 'inside')) {
      const explicit = has(vs, 'lb_kind') ? 'lb_kind' : has(vs, 'lvs_method') ? 'lvs_method' : undefined;
      error(explicit ? [...base, explicit] : base, explicit ? 'NAT service but dataplane.inside is not set' : 'NAT service (lb_kind defaults to NAT, as in keepalived) but dataplane.inside is not set',
        'set dataplane.inside to the interface toward the real servers, or lb_kind: DR');
    }

    const seenRs = new Map<string, number>();
    list(vs.real_servers).forEach((rawRs, j) => {
      const rs = obj(rawRs);
      if (!rs) return;
      const rsBase: Path = [...base, 'real_servers', j];
      const ip = str(rs.ip);
      const rport = num(rs.port) ?? vport ?? 0;
      if (ip !== undefined) {
        const key = `${ip}:${rport}`;
        const first = seenRs.get(key);
        if (first !== undefined) error([...rsBase, 'ip'], `real server ${key} is listed twice in this service`, `first at ${env.where([...base, 'real_servers', first, 'ip'])}`);
        else seenRs.set(key, j);
      }
      const upper = num(rs.uthreshold) ?? 0;
      const lower = num(rs.lthreshold) ?? 0;
      if (upper > 0 && upper < lower) {
        error([...rsBase, 'uthreshold'], `uthreshold ${upper} is below lthreshold ${lower}`, 'the upper connection limit must be at least the lower');
      }
      if (kind === 'DR' && vport !== undefined && vport !== 0 && has(rs, 'port') && rport !== vport) {
        warn([...rsBase, 'port'], `real server port ${rport} differs from the service port ${vport}`, 'DR cannot change ports: packets arrive on port ' + vport);
      }
      if (has(rs, 'retry') && has(rs, 'nb_get_retry')) error([...rsBase, 'nb_get_retry'], 'nb_get_retry and retry both set', 'nb_get_retry is the old name of retry', true);
      const checkers = CHECKER_KINDS.filter((k) => has(rs, k));
      if (checkers.length > 1) {
        error([...rsBase, checkers[1]], `one checker per real server: ${checkers.join(' and ')} both set`, 'keep one', true);
      }
      for (const kindName of checkers) {
        const c = obj(rs[kindName]);
        if (!c) continue;
        const cBase: Path = [...rsBase, kindName];
        if (has(c, 'retry') && has(c, 'nb_get_retry')) error([...cBase, 'nb_get_retry'], 'nb_get_retry and retry both set', 'nb_get_retry is the old name of retry', true);
        if (kindName === 'misc_check') {
          const path = str(c.misc_path);
          if (path) {
            const program = commandPath(path);
            const state = scriptState(program, env.dirOf([...cBase, 'misc_path']));
            if (state === 'missing') error([...cBase, 'misc_path'], `misc_path script "${program}" does not exist`);
            else if (state === 'not-executable') error([...cBase, 'misc_path'], `misc_path script "${program}" is not executable`, `chmod +x ${program}`);
          }
        }
        if (kindName === 'file_check') {
          const both = has(c, 'file') && has(c, 'track_file');
          const neither = !has(c, 'file') && !has(c, 'track_file');
          if (both || neither) error(cBase, 'file_check needs exactly one of "file" or "track_file"', undefined, true);
          const tf = str(c.track_file);
          if (tf !== undefined && !trackFileNames.includes(tf)) error([...cBase, 'track_file'], `track_file "${tf}" names no track_files entry`, didYouMean(tf, trackFileNames));
        }
      }
    });
  });
  checkOverlaps(claims, error, env);
  return out;
}

interface Claim {
  protocol: string;
  first: number;
  last: number;
  /** 0 = every port */
  port: number;
  text: string;
  path: Path;
  viaGroup: boolean;
  group?: string;
  service: number;
}

/**
 * Two services must not claim the same VIP:port (port 0 claims every port). Exact vip:port
 * repeats are reported above as "defined twice"; this finds the overlaps groups bring.
 */
function checkOverlaps(claims: Claim[], error: (path: Path, message: string, hint?: string) => void, env: CrossCheckEnv): void {
  if (!claims.some((c) => c.viaGroup)) return;
  const reported = new Set<number>();
  for (const later of claims) {
    if (reported.has(later.service)) continue;
    for (const earlier of claims) {
      if (earlier.service >= later.service) continue;
      if (!earlier.viaGroup && !later.viaGroup) continue;
      if (earlier.protocol !== later.protocol) continue;
      // The same group twice is already "defined twice".
      if (earlier.group !== undefined && earlier.group === later.group) continue;
      if (earlier.last < later.first || later.last < earlier.first) continue;
      if (earlier.port !== later.port && earlier.port !== 0 && later.port !== 0) continue;
      error(later.path, `${later.protocol} ${later.text} overlaps ${earlier.text}`, `claimed first at ${env.where(earlier.path)}`);
      reported.add(later.service);
      break;
    }
  }
}
