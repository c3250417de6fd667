/**
 * Cross-checks of the VRRP blocks: vrrp_scripts that cannot run, tracking that names nothing,
 * instances defined twice, a VIP held twice, a VRID used twice on one link, sync groups whose
 * members are not instances or already in another group.
 */
import { checkStrictGlobals, checkStrictInstance } from './check-vrrp-strict.js';
import { didYouMean } from './did-you-mean.js';
import { parseCidr } from './ipv4.js';
import { parseIpv6Cidr } from './ipv6.js';
import { formatIpv6, parseIpv6 } from '../packet/addr6.js';
import {
  commandPath, has, list, num, obj, scriptState, SHELL_BUILTINS, str, trackedName,
  type CrossCheckEnv, type Findings, type Names, type Obj, type Path,
} from './cross-check-kit.js';

/** A vrrp script that starts with a shell word, or names a program that does not exist. */
export function checkScripts(cfg: Obj, r: Findings, env: CrossCheckEnv): void {
  const scripts = obj(cfg.vrrp_scripts) ?? {};
  for (const name of Object.keys(scripts)) {
    const script = str(obj(scripts[name])?.script);
    if (!script) continue;
    const program = commandPath(script);
    if (SHELL_BUILTINS.has(program)) {
      r.warn(['vrrp_scripts', name, 'script'], `vrrp script "${name}" starts with the shell word "${program}", which is not a program`, 'ulvs runs scripts without a shell: write sh -c "..."');
    } else if (scriptState(program, env.dirOf(['vrrp_scripts', name])) === 'missing') {
      r.warn(['vrrp_scripts', name, 'script'], `script "${program}" not found`, 'it will fail until it exists');
    }
  }
}

/** track_script and track_file entries of an instance or sync group that name nothing. */
function checkTracks(base: Path, owner: Obj, names: Names, r: Findings): void {
  list(owner.track_script).forEach((t, i) => {
    const n = trackedName(t);
    if (n !== undefined && !names.scripts.includes(n)) {
      r.error([...base, 'track_script', i], `track_script "${n}" names no vrrp_scripts entry`, didYouMean(n, names.scripts) ?? (names.scripts.length ? `defined: ${names.scripts.join(', ')}` : 'define it under vrrp_scripts'));
    }
  });
  list(owner.track_file).forEach((t, i) => {
    const n = trackedName(t);
    if (n !== undefined && !names.trackFiles.includes(n)) {
      r.error([...base, 'track_file', i], `track_file "${n}" names no track_files entry`, didYouMean(n, names.trackFiles) ?? 'define it under track_files');
    }
  });
}

function addressIp(a: unknown): string | undefined {
  const address = str(a) ?? str(obj(a)?.address);
  if (!address) return undefined;
  const v6 = parseIpv6Cidr(address);
  return parseCidr(address)?.ip ?? (v6 ? formatIpv6(parseIpv6(v6.ip)) : undefined);
}

/** An IPv6 instance (its first VIP decides) runs version 3, whatever is written (check-families warns). */
function isIpv6Instance(vi: Obj): boolean {
  const first = list(vi.virtual_ipaddress)[0];
  return (str(first) ?? str(obj(first)?.address) ?? '').includes(':');
}

/** One instance's settings that contradict each other. */
function checkInstanceSettings(vi: Obj, base: Path, globalVersion: number, r: Findings): void {
  const version = isIpv6Instance(vi) ? 3 : num(vi.version) ?? globalVersion;
  const advert = num(vi.advert_int);
  if (version === 2 && advert !== undefined && !Number.isInteger(advert)) {
    r.error([...base, 'advert_int'], `advert_int ${advert} is not whole seconds, which VRRP version 2 requires`, 'set version: 3 for fractions of a second');
  }
  if (version === 3 && has(vi, 'authentication')) {
    r.warn([...base, 'authentication'], 'authentication is ignored with VRRP version 3', 'RFC 5798 removed it', true);
  }
  const pass = obj(vi.authentication)?.auth_pass;
  if ((typeof pass === 'string' || typeof pass === 'number') && String(pass).length > 8) {
    r.warn([...base, 'authentication', 'auth_pass'], 'auth_pass is longer than 8 characters', 'only the first 8 are used, as in keepalived');
  }
  if (vi.state === 'MASTER' && vi.nopreempt === true) {
    r.warn([...base, 'nopreempt'], 'nopreempt has no effect with state MASTER', 'use state: BACKUP on both directors', true);
  }
}

/** vrrp_instances: names, settings, tracking, VIPs (also against static_ipaddress) and VRIDs. */
export function checkInstances(cfg: Obj, names: Names, r: Findings, env: CrossCheckEnv): void {
  const globals = obj(cfg.global_defs) ?? {};
  const globalVersion = num(globals.vrrp_version) ?? 2;
  checkStrictGlobals(globals, r);
  const instances = list(cfg.vrrp_instances);
  const instanceFirst = new Map<string, number>();
  const vipOwner = new Map<string, Path>();
  const vridOwner = new Map<string, { index: number; peers: string[] }>();
  list(cfg.static_ipaddress).forEach((a, i) => {
    const ip = addressIp(a);
    if (ip) vipOwner.set(ip, ['static_ipaddress', i]);
  });
  instances.forEach((raw, i) => {
    const vi = obj(raw);
    if (!vi) return;
    const base: Path = ['vrrp_instances', i];
    const name = str(vi.name);
    if (name !== undefined) {
      const first = instanceFirst.get(name);
      if (first !== undefined) r.error([...base, 'name'], `vrrp instance "${name}" is defined twice`, `first at ${env.where(['vrrp_instances', first, 'name'])}`);
      else instanceFirst.set(name, i);
    }
    checkInstanceSettings(vi, base, globalVersion, r);
    checkStrictInstance(vi, base, globals, r);
    checkTracks(base, vi, names, r);
    for (const key of ['virtual_ipaddress', 'virtual_ipaddress_excluded']) {
      list(vi[key]).forEach((a, j) => {
        const ip = addressIp(a);
        if (!ip) return;
        const owner = vipOwner.get(ip);
        if (owner && owner[0] === 'vrrp_instances' && owner[1] === i) {
          r.warn([...base, key, j], `${ip} is listed twice in this instance: the repeat is dropped, as keepalived drops it`, `first at ${env.where(owner)}`);
        } else if (owner) {
          const what = owner[0] === 'static_ipaddress' ? 'static_ipaddress' : `vrrp instance "${str(obj(instances[owner[1] as number])?.name) ?? owner[1]}"`;
          r.error([...base, key, j], `${ip} is already held by ${what}`, `first at ${env.where(owner)}`);
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
        r.error([...base, 'virtual_router_id'], `virtual_router_id ${vrid} is already used on ${iface}`, `by vrrp instance at ${env.where(['vrrp_instances', prior.index, 'name'])}`);
      } else if (!prior) vridOwner.set(key, { index: i, peers });
    }
  });
}

/** vrrp_sync_groups: names, members that are no instance or in two groups, tracking. */
export function checkSyncGroups(cfg: Obj, names: Names, r: Findings, env: CrossCheckEnv): void {
  const groupOf = new Map<string, string>();
  const syncNames = new Map<string, number>();
  list(cfg.vrrp_sync_groups).forEach((raw, i) => {
    const sg = obj(raw);
    if (!sg) return;
    const base: Path = ['vrrp_sync_groups', i];
    const name = str(sg.name) ?? `#${i}`;
    if (syncNames.has(name)) r.error([...base, 'name'], `vrrp sync group "${name}" is defined twice`, `first at ${env.where(['vrrp_sync_groups', syncNames.get(name)!, 'name'])}`);
    else syncNames.set(name, i);
    list(sg.group).forEach((m, j) => {
      const member = str(m);
      if (member === undefined) return;
      if (!names.instances.includes(member)) {
        r.error([...base, 'group', j], `sync group member "${member}" names no vrrp instance`, didYouMean(member, names.instances));
      } else if (groupOf.has(member)) {
        r.error([...base, 'group', j], `vrrp instance "${member}" is already in sync group "${groupOf.get(member)}"`);
      } else groupOf.set(member, name);
    });
    checkTracks(base, sg, names, r);
  });
}

/** lvs_sync_daemon follows one vrrp_instance, which must exist and speak on the sync interface. */
export function checkSyncDaemon(cfg: Obj, names: Names, r: Findings): void {
  const sync = obj(obj(cfg.global_defs)?.lvs_sync_daemon);
  if (!sync) return;
  const instance = str(sync.instance);
  const base: Path = ['global_defs', 'lvs_sync_daemon'];
  // mode all (ulvs): every director sends and receives, so no VRRP role decides anything.
  if (sync.mode === 'all') {
    if (instance !== undefined) {
      r.error([...base, 'instance'], 'lvs_sync_daemon mode all has no instance: every director sends and receives whatever VRRP says',
        'drop instance, or drop mode for keepalived\'s master-to-backup sync');
    }
    return;
  }
  // Another mode is the schema's error alone.
  if (sync.mode !== undefined && sync.mode !== 'vrrp') return;
  if (instance === undefined) {
    r.error(base, 'lvs_sync_daemon needs instance (the vrrp_instance whose MASTER sends)',
      'or mode: all for sync among all active directors (behind ECMP)');
    return;
  }
  const vi = list(cfg.vrrp_instances).map(obj).find((v) => str(v?.name) === instance);
  if (!vi) {
    r.error([...base, 'instance'], `lvs_sync_daemon instance "${instance}" names no vrrp_instances entry`,
      didYouMean(instance, names.instances) ?? (names.instances.length ? `defined: ${names.instances.join(', ')}` : 'the sync role follows a vrrp_instance: define one'));
    return;
  }
  const iface = str(sync.interface);
  const viIface = str(vi.interface);
  if (iface !== undefined && viIface !== undefined && iface !== viIface) {
    // keepalived takes a dedicated sync link (lvs_sync_daemon eth1 VI_1 with VI_1 on eth0), and so
    // does ulvs: the role follows the instance, the messages use the sync interface.
    r.warn([...base, 'interface'], `lvs_sync_daemon interface ${iface} is not the interface of vrrp_instance ${instance} (${viIface})`,
      `sync messages go out of and come in on ${iface} while the role follows ${instance} on ${viIface}: the other directors must be reachable on ${iface}`);
  }
}
