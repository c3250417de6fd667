/**
 * Runtime changes (`ulvs ipvsadm -A/-E/-D/-a/-e/-d/-C/-R`) live beside the config file as a
 * table of overrides keyed by service and real server: what differs from the file. Pure.
 * - applyEdit: one ipvsadm change -> new overrides (or a refusal in ipvsadm's or check-config's words).
 * - mergeOverrides: config + overrides -> the effective config the director compiles.
 * An override whose target is in the config changes only the fields it names, so a reload
 * that changes something else keeps the drain; one whose target is not in the config carries
 * every field (it was added at run time); overrides equal to the config vanish (normalize), so
 * `-S`, `-C`, `-R` of the same table leaves none and the config's health checkers stay.
 */
import type { LbKind, RealServerConfig, UlvsConfig, VirtualServerConfig } from '../config/index.js';
import { ulvsConfigSchema } from '../config/index.js';
import { ipToNumber } from '../packet/addr.js';

export interface ServiceRef { protocol: 'TCP' | 'UDP' | 'SCTP'; vip: string; port: number; fwmark?: number }
export interface ServerRef { ip: string; port: number }

export interface ServiceFields {
  lb_algo: string; lb_kind: LbKind; persistence_timeout: number; persistence_granularity: string; ops: boolean;
  sh_port: boolean; sh_fallback: boolean; mh_port: boolean; mh_fallback: boolean;
}
export interface ServerFields { weight: number; uthreshold: number; lthreshold: number }

export interface ServerOverride extends ServerRef { deleted: boolean; fields: Partial<ServerFields> }
export interface ServiceOverride extends ServiceRef { deleted: boolean; fields: Partial<ServiceFields>; servers: ServerOverride[] }
export interface RuntimeOverrides { services: ServiceOverride[] }

export const NO_OVERRIDES: RuntimeOverrides = Object.freeze({ services: [] }) as RuntimeOverrides;

export type RuntimeEdit =
  | { op: 'add-service' | 'edit-service'; service: ServiceRef; scheduler: string; persistent: number; netmask: string; ops: boolean; schedFlags: string[] }
  | { op: 'delete-service'; service: ServiceRef }
  | { op: 'add-server' | 'edit-server'; service: ServiceRef; server: ServerRef; forward: LbKind; weight: number; uthreshold: number; lthreshold: number }
  | { op: 'delete-server'; service: ServiceRef; server: ServerRef }
  | { op: 'flush' };

/** A change the director refuses: ipvsadm's message (status 255, as libipvs errors) or check-config's (2). */
export class RuntimeRefusal extends Error {
  constructor(message: string, readonly status: number) { super(message); }
}

const SERVICE_KEYS: (keyof ServiceFields)[] = ['lb_algo', 'lb_kind', 'persistence_timeout', 'persistence_granularity', 'ops', 'sh_port', 'sh_fallback', 'mh_port', 'mh_fallback'];
const SERVER_KEYS: (keyof ServerFields)[] = ['weight', 'uthreshold', 'lthreshold'];

export const serviceName = (s: ServiceRef): string => `${s.protocol} ${s.vip}:${s.port}`;
const sameService = (a: ServiceRef, b: ServiceRef): boolean => a.protocol === b.protocol && a.vip === b.vip && a.port === b.port;
const sameServer = (a: ServerRef, b: ServerRef): boolean => a.ip === b.ip && a.port === b.port;

/** Defaults of a service and a real server with nothing set, from the schema itself. */
const TEMPLATE = (() => {
  const c = ulvsConfigSchema.parse({ dataplane: { interface: 'x' }, virtual_servers: [{ vip: '0.0.0.1', port: 1, lb_kind: 'DR', real_servers: [{ ip: '0.0.0.2' }] }] });
  return { service: c.virtual_servers[0], server: c.virtual_servers[0].real_servers[0] };
})();

const complete = <K extends string>(fields: Partial<Record<K, unknown>>, keys: K[]): boolean => keys.every((k) => fields[k] !== undefined);

function configService(config: UlvsConfig, ref: ServiceRef): VirtualServerConfig | undefined {
  return config.virtual_servers.find((vs) => !vs.group && vs.vip === ref.vip && vs.port === ref.port && vs.protocol === ref.protocol);
}

/** config + overrides -> the config the director runs (virtual_servers rewritten, the rest as is). */
export function mergeOverrides(config: UlvsConfig, overrides: RuntimeOverrides): UlvsConfig {
  if (overrides.services.length === 0) return config;
  const used = new Set<ServiceOverride>();
  const services: VirtualServerConfig[] = [];
  for (const vs of config.virtual_servers) {
    const o = vs.group || vs.vip === undefined ? undefined
      : overrides.services.find((x) => sameService(x, { protocol: vs.protocol, vip: vs.vip!, port: vs.port ?? 0 }));
    if (!o) { services.push(vs); continue; }
    used.add(o);
    if (!o.deleted) services.push(withServers({ ...vs, ...o.fields } as VirtualServerConfig, vs.real_servers, o.servers));
  }
  for (const o of overrides.services) {
    if (used.has(o) || o.deleted || !complete(o.fields, SERVICE_KEYS)) continue;
    const base = { ...TEMPLATE.service, vip: o.vip, port: o.port, protocol: o.protocol, ...o.fields, real_servers: [] } as VirtualServerConfig;
    services.push(withServers(base, [], o.servers));
  }
  return { ...config, virtual_servers: services };
}

function withServers(vs: VirtualServerConfig, configured: readonly RealServerConfig[], overrides: readonly ServerOverride[]): VirtualServerConfig {
  const used = new Set<ServerOverride>();
  const servers: RealServerConfig[] = [];
  for (const rs of configured) {
    const o = overrides.find((x) => sameServer(x, { ip: rs.ip, port: rs.port ?? vs.port ?? 0 }));
    if (o) used.add(o);
    if (o?.deleted) continue;
    servers.push(o ? { ...rs, ...o.fields } : rs);
  }
  for (const o of overrides) {
    if (used.has(o) || o.deleted || !complete(o.fields, SERVER_KEYS)) continue;
    // Added at run time: no checker (health_check: none), so it is up until removed.
    servers.push({ ...TEMPLATE.server, inhibit_on_failure: vs.inhibit_on_failure, ip: o.ip, port: o.port, ...o.fields } as RealServerConfig);
  }
  return { ...vs, real_servers: servers };
}

/** Effective service and server entries as IPVS would hold them (for existence checks). */
function effectiveService(config: UlvsConfig, ov: RuntimeOverrides, ref: ServiceRef): VirtualServerConfig | undefined {
  return mergeOverrides(config, ov).virtual_servers.find((vs) => !vs.group && vs.vip === ref.vip && (vs.port ?? 0) === ref.port && vs.protocol === ref.protocol);
}

function refuseUnsupported(config: UlvsConfig, ref: ServiceRef): void {
  if (ref.fwmark !== undefined) throw new RuntimeRefusal('fwmark services are not supported: ulvs bypasses netfilter, so there are no firewall marks', 2);
  if (ref.protocol === 'SCTP') throw new RuntimeRefusal('SCTP services are not supported: the ulvs dataplane forwards TCP and UDP', 2);
  const ip = ipToNumber(ref.vip);
  for (const vs of config.virtual_servers) {
    if (!vs.group || vs.protocol !== ref.protocol) continue;
    const g = config.virtual_server_groups.find((x) => x.name === vs.group);
    const member = g?.members.some((m) => m.port === ref.port && ip >= ipToNumber(m.first) && ip <= ipToNumber(m.last));
    if (member) throw new RuntimeRefusal(`service ${serviceName(ref)} belongs to virtual_server_group "${vs.group}": change it in the config file`, 2);
  }
}

/** One ipvsadm change applied to the overrides; throws RuntimeRefusal as IPVS (or check-config) would refuse it. */
export function applyEdit(config: UlvsConfig, ov: RuntimeOverrides, edit: RuntimeEdit): RuntimeOverrides {
  if (edit.op === 'flush') {
    // Every service of the file is marked deleted (runtime-added ones simply go): the table is empty.
    const all = config.virtual_servers.filter((vs) => !vs.group && vs.vip !== undefined);
    return normalize(config, { services: all.map((vs) => ({ protocol: vs.protocol, vip: vs.vip!, port: vs.port ?? 0, deleted: true, fields: {}, servers: [] })) });
  }
  refuseUnsupported(config, edit.service);
  const current = effectiveService(config, ov, edit.service);
  const services = ov.services.map((s) => ({ ...s, servers: [...s.servers] }));
  let o = services.find((s) => sameService(s, edit.service));
  const ensure = (): ServiceOverride => {
    if (!o) { o = { ...edit.service, fwmark: undefined, deleted: false, fields: {}, servers: [] }; delete o.fwmark; services.push(o); }
    return o;
  };
  switch (edit.op) {
    case 'add-service': case 'edit-service': {
      if (edit.op === 'add-service' && current) throw new RuntimeRefusal('Service already exists', 255);
      if (edit.op === 'edit-service' && !current) throw new RuntimeRefusal('No such service', 255);
      const flags = new Set(edit.schedFlags);
      for (const f of flags) if (!['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'].includes(f)) throw new RuntimeRefusal(`scheduler flag ${f} has no meaning for ${edit.scheduler} in ulvs`, 2);
      const s = ensure();
      const inConfig = configService(config, edit.service);
      const lbKind = current?.lb_kind ?? s.fields.lb_kind ?? 'DR';
      s.deleted = false;
      s.fields = {
        lb_algo: edit.scheduler, lb_kind: lbKind, persistence_timeout: edit.persistent, persistence_granularity: edit.netmask, ops: edit.ops,
        sh_port: flags.has('sh-port'), sh_fallback: flags.has('sh-fallback'), mh_port: flags.has('mh-port'), mh_fallback: flags.has('mh-fallback'),
      };
      // -A makes an empty service, as IPVS does: the config's servers come back only with -a.
      if (edit.op === 'add-service') {
        s.servers = (inConfig?.real_servers ?? []).map((rs) => ({ ip: rs.ip, port: rs.port ?? edit.service.port, deleted: true, fields: {} }));
      }
      break;
    }
    case 'delete-service': {
      if (!current) throw new RuntimeRefusal('No such service', 255);
      const s = ensure();
      s.deleted = true; s.fields = {}; s.servers = [];
      break;
    }
    case 'add-server': case 'edit-server': case 'delete-server': {
      if (!current) throw new RuntimeRefusal('Service not defined', 255);
      const exists = current.real_servers.some((rs) => sameServer({ ip: rs.ip, port: rs.port ?? current.port ?? 0 }, edit.server));
      const shown = `${edit.server.ip}:${edit.server.port}`;
      if (edit.op === 'add-server' && exists) throw new RuntimeRefusal(`real server ${shown} is listed twice in this service`, 2);
      if (edit.op !== 'add-server' && !exists) throw new RuntimeRefusal('No such destination', 255);
      const s = ensure();
      let so = s.servers.find((x) => sameServer(x, edit.server));
      if (!so) { so = { ...edit.server, deleted: false, fields: {} }; s.servers.push(so); }
      const i = s.servers.indexOf(so);
      if (edit.op === 'delete-server') { s.servers[i] = { ...so, deleted: true, fields: {} }; break; }
      const others = current.real_servers.filter((rs) => !sameServer({ ip: rs.ip, port: rs.port ?? current.port ?? 0 }, edit.server));
      if (edit.forward !== current.lb_kind) {
        // ulvs forwards a whole service one way (lb_kind); an empty service takes the first server's.
        if (others.length) throw new RuntimeRefusal(`service ${serviceName(edit.service)} forwards by ${current.lb_kind} (lb_kind): ulvs forwards all real servers of a service one way; use ${SWITCH_OF[current.lb_kind]}`, 2);
        s.fields = { ...s.fields, lb_kind: edit.forward };
      }
      s.servers[i] = { ...so, deleted: false, fields: { weight: edit.weight, uthreshold: edit.uthreshold, lthreshold: edit.lthreshold } };
      break;
    }
  }
  return normalize(config, { services });
}

const SWITCH_OF: Record<LbKind, string> = { DR: '-g', NAT: '-m', TUN: '-i', FNAT: '--fullnat' };

/** Drops what equals the config: fields it already has, servers and services left unchanged. */
export function normalize(config: UlvsConfig, ov: RuntimeOverrides): RuntimeOverrides {
  const services: ServiceOverride[] = [];
  for (const o of ov.services) {
    const vs = configService(config, o);
    if (!vs) {
      if (!o.deleted) services.push(o);
      continue;
    }
    const fields = Object.fromEntries(Object.entries(o.fields).filter(([k, v]) => (vs as unknown as Record<string, unknown>)[k] !== v)) as Partial<ServiceFields>;
    const servers: ServerOverride[] = [];
    for (const so of o.servers) {
      const rs = vs.real_servers.find((r) => sameServer({ ip: r.ip, port: r.port ?? vs.port ?? 0 }, so));
      if (!rs) { if (!so.deleted) servers.push(so); continue; }
      const f = Object.fromEntries(Object.entries(so.fields).filter(([k, v]) => (rs as unknown as Record<string, unknown>)[k] !== v)) as Partial<ServerFields>;
      if (so.deleted || Object.keys(f).length) servers.push({ ...so, fields: so.deleted ? {} : f });
    }
    if (o.deleted) services.push({ ...o, fields: {}, servers: [] });
    else if (Object.keys(fields).length || servers.length) services.push({ ...o, fields, servers });
  }
  return { services };
}

/** Overrides whose target the config no longer has and that carry too little to stand alone. */
export function dormantOverrides(config: UlvsConfig, ov: RuntimeOverrides): string[] {
  const out: string[] = [];
  for (const o of ov.services) {
    const vs = configService(config, o);
    if (!vs && !complete(o.fields, SERVICE_KEYS)) out.push(serviceName(o));
    for (const so of o.servers) {
      const inConfig = vs?.real_servers.some((r) => sameServer({ ip: r.ip, port: r.port ?? vs.port ?? 0 }, so));
      if (!inConfig && !so.deleted && !complete(so.fields, SERVER_KEYS)) out.push(`${serviceName(o)} -> ${so.ip}:${so.port}`);
    }
  }
  return out;
}

/** Services an edit touched (to validate them as check-config would). */
export function touchedServices(edit: RuntimeEdit): ServiceRef[] {
  return edit.op === 'flush' ? [] : [edit.service];
}
