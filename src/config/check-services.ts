/**
 * Cross-checks of the LVS blocks: virtual_server_groups defined twice, services addressed
 * wrongly or defined twice, settings that contradict each other, real servers listed twice,
 * and checkers (one per real server, scripts that exist, file_check's source).
 */
import { didYouMean } from './did-you-mean.js';
import { CHECKER_KINDS } from './raw-schema.js';
import {
  commandPath, has, list, num, obj, scriptState, str,
  type CrossCheckEnv, type Findings, type Names, type Obj, type Path,
} from './cross-check-kit.js';

const RETRY_TWICE = ['nb_get_retry and retry both set', 'nb_get_retry is the old name of retry'] as const;

export function checkServerGroups(cfg: Obj, names: Names, r: Findings, env: CrossCheckEnv): void {
  list(cfg.virtual_server_groups).forEach((raw, i) => {
    const name = str(obj(raw)?.name);
    if (name === undefined) return;
    const first = names.serverGroups.get(name)!;
    if (first !== i) r.error(['virtual_server_groups', i, 'name'], `virtual server group "${name}" is defined twice`, `first at ${env.where(['virtual_server_groups', first, 'name'])}`);
  });
}

/** vip, group or fwmark: one of them, and the port that goes with it. */
function checkAddressing(vs: Obj, base: Path, names: Names, r: Findings): void {
  const addressing = ['vip', 'group', 'fwmark'].filter((k) => has(vs, k));
  if (addressing.length === 0) {
    r.error(base, 'a virtual server needs "vip" and "port", or "group"');
  } else if (addressing.length > 1) {
    r.error([...base, addressing[1]], `a virtual server takes one of vip, group or fwmark, not ${addressing.join(' and ')}`, undefined, true);
  }
  // fwmark itself is refused with its reason by refused-keys.ts.
  if (has(vs, 'group')) {
    const g = str(vs.group);
    const groupNames = [...names.serverGroups.keys()];
    if (g !== undefined && !names.serverGroups.has(g)) r.error([...base, 'group'], `group "${g}" names no virtual_server_groups entry`, didYouMean(g, groupNames) ?? (groupNames.length ? `defined: ${groupNames.join(', ')}` : undefined));
    if (has(vs, 'port')) r.error([...base, 'port'], 'port goes with vip, not group', "a group's members carry their ports", true);
  }
  const vip = str(vs.vip);
  if (vip !== undefined && !has(vs, 'port') && !(num(vs.persistence_timeout) ?? 0)) {
    r.error([...base, 'vip'], 'port is required for a vip service', 'leave it out only with persistence_timeout (every port of the VIP), as keepalived');
  }
  if (vip !== undefined && num(vs.port) === 0 && !(num(vs.persistence_timeout) ?? 0)) {
    r.error([...base, 'port'], 'port 0 (every port) needs persistence_timeout, as in IPVS');
  }
}

/** Settings of one service that contradict each other or the dataplane. */
function checkServiceSettings(vs: Obj, base: Path, dataplane: Obj | undefined, r: Findings): void {
  const protocol = str(vs.protocol) ?? 'TCP';
  const algo = str(vs.lb_algo) ?? str(vs.lvs_sched) ?? 'wlc';
  const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
  if (has(vs, 'lb_algo') && has(vs, 'lvs_sched')) r.error([...base, 'lvs_sched'], 'lvs_sched and lb_algo both set', 'they are the same setting; keep lb_algo', true);
  if (has(vs, 'lb_kind') && has(vs, 'lvs_method')) r.error([...base, 'lvs_method'], 'lvs_method and lb_kind both set', 'they are the same setting; keep lb_kind', true);
  if (has(vs, 'retry') && has(vs, 'nb_get_retry')) r.error([...base, 'nb_get_retry'], ...RETRY_TWICE, true);
  for (const flag of ['sh_port', 'sh_fallback', 'mh_port', 'mh_fallback']) {
    const needed = flag.slice(0, 2);
    if (vs[flag] === true && algo !== needed) r.error([...base, flag], `${flag} is a flag of the ${needed} scheduler, not ${algo}`, undefined, true);
  }
  if (vs.ops === true && protocol !== 'UDP') r.error([...base, 'ops'], `ops (one-packet scheduling) applies to UDP services, not ${protocol}`, undefined, true);
  if (has(vs, 'persistence_granularity') && !(num(vs.persistence_timeout) ?? 0)) {
    r.warn([...base, 'persistence_granularity'], 'persistence_granularity has no effect without persistence_timeout', undefined, true);
  }
  // NAT without dataplane.inside (or with `auto`) is fine: the director finds the interface
  // from the kernel's routes to the real servers at start (src/control/inside.ts).
}

/** One checker per real server; a misc_check script that can run; file_check's one source. */
export function checkCheckers(rs: Obj, rsBase: Path, names: Names, r: Findings, env: CrossCheckEnv): void {
  const checkers = CHECKER_KINDS.filter((k) => has(rs, k));
  if (checkers.length > 1) {
    r.error([...rsBase, checkers[1]], `one checker per real server: ${checkers.join(' and ')} both set`, 'keep one', true);
  }
  for (const kindName of checkers) {
    const c = obj(rs[kindName]);
    if (!c) continue;
    const cBase: Path = [...rsBase, kindName];
    if (has(c, 'retry') && has(c, 'nb_get_retry')) r.error([...cBase, 'nb_get_retry'], ...RETRY_TWICE, true);
    if (kindName === 'misc_check') {
      const path = str(c.misc_path);
      if (path) {
        const program = commandPath(path);
        const state = scriptState(program, env.dirOf([...cBase, 'misc_path']));
        // keepalived warns and disables the checker; this machine is often not the director.
        const disabled = 'a director that cannot run it disables the checker and leaves the real server unchecked, as keepalived does';
        if (state === 'missing') r.warn([...cBase, 'misc_path'], `misc_path script "${program}" does not exist on this machine`, disabled);
        else if (state === 'not-executable') r.warn([...cBase, 'misc_path'], `misc_path script "${program}" is not executable`, `chmod +x ${program}; ${disabled}`);
      }
    }
    if (kindName === 'file_check') {
      const both = has(c, 'file') && has(c, 'track_file');
      const neither = !has(c, 'file') && !has(c, 'track_file');
      if (both || neither) r.error(cBase, 'file_check needs exactly one of "file" or "track_file"', undefined, true);
      const tf = str(c.track_file);
      if (tf !== undefined && !names.trackFiles.includes(tf)) r.error([...cBase, 'track_file'], `track_file "${tf}" names no track_files entry`, didYouMean(tf, names.trackFiles));
    }
  }
}

/** The real servers of one service: listed twice, thresholds, DR ports, then their checkers. */
function checkRealServers(vs: Obj, base: Path, names: Names, r: Findings, env: CrossCheckEnv): void {
  const kind = str(vs.lb_kind) ?? str(vs.lvs_method) ?? 'NAT';
  const vport = num(vs.port);
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
      if (first !== undefined) r.error([...rsBase, 'ip'], `real server ${key} is listed twice in this service`, `first at ${env.where([...base, 'real_servers', first, 'ip'])}`);
      else seenRs.set(key, j);
    }
    const upper = num(rs.uthreshold) ?? 0;
    const lower = num(rs.lthreshold) ?? 0;
    if (upper > 0 && upper < lower) {
      r.error([...rsBase, 'uthreshold'], `uthreshold ${upper} is below lthreshold ${lower}`, 'the upper connection limit must be at least the lower');
    }
    if (kind === 'DR' && vport !== undefined && vport !== 0 && has(rs, 'port') && rport !== vport) {
      r.warn([...rsBase, 'port'], `real server port ${rport} differs from the service port ${vport}`, 'DR cannot change ports: packets arrive on port ' + vport);
    }
    if (has(rs, 'retry') && has(rs, 'nb_get_retry')) r.error([...rsBase, 'nb_get_retry'], ...RETRY_TWICE, true);
    checkCheckers(rs, rsBase, names, r, env);
  });
}

/** virtual_servers: each service on its own, and no service defined twice. */
export function checkServices(cfg: Obj, names: Names, r: Findings, env: CrossCheckEnv): void {
  const dataplane = obj(cfg.dataplane);
  const serviceFirst = new Map<string, Path>();
  list(cfg.virtual_servers).forEach((raw, i) => {
    const vs = obj(raw);
    if (!vs) return;
    const base: Path = ['virtual_servers', i];
    const protocol = str(vs.protocol) ?? 'TCP';
    const vip = str(vs.vip);
    const vport = num(vs.port);
    checkAddressing(vs, base, names, r);
    const serviceKey = vip !== undefined ? `${vip}:${vport ?? 0}/${protocol}` : has(vs, 'group') ? `group ${str(vs.group)}/${protocol}` : undefined;
    if (serviceKey !== undefined) {
      const first = serviceFirst.get(serviceKey);
      const shown = vip !== undefined ? `${protocol} ${vip}:${vport ?? 0}` : `${protocol} group "${str(vs.group)}"`;
      if (first) r.error([...base, vip !== undefined ? 'vip' : 'group'], `service ${shown} is defined twice`, `first at ${env.where(first)}`);
      else serviceFirst.set(serviceKey, [...base, vip !== undefined ? 'vip' : 'group']);
    }
    checkServiceSettings(vs, base, dataplane, r);
    checkRealServers(vs, base, names, r, env);
  });
}
