// Director configs for the lab, written once: the e2e tests and the benches build their
// ulvs.yaml from these pieces instead of each spelling out the same YAML. The defaults are the
// lab's DR service: VIP 198.18.0.100:80/TCP, rr, the three real servers rs1..rs3 on port 80.

import { LAB_VIP } from './topology.js';

/** rs1..rs3's addresses, the default real servers. */
export const LAB_REAL_SERVERS = ['198.18.0.10', '198.18.0.20', '198.18.0.30'];

export interface LabRealServer {
  ip: string;
  port?: number;
  weight?: number;
  /** More keys of the entry, flow style, e.g. `tcp_check: { connect_timeout: 1 }`. */
  extra?: string;
}

export interface LabService {
  vip?: string;
  port?: number;
  protocol?: 'TCP' | 'UDP';
  lbAlgo?: string;
  lbKind?: string;
  /** More keys of the service, one `key: value` each (e.g. `delay_loop: 1`). */
  keys?: string[];
  /** Default: LAB_REAL_SERVERS on port 80. */
  realServers?: LabRealServer[];
}

export interface LabVrrpInstance {
  name?: string;
  state?: 'MASTER' | 'BACKUP';
  virtualRouterId: number;
  priority: number;
  version?: 2 | 3;
  advertInt?: number;
  /** keepalived's simple password (VRRPv2 only). */
  authPass?: string;
  vip?: string;
}

export interface LabDirectorConfig {
  /** Keys of dataplane beside `interface: eth0` (default `io: auto`). */
  dataplane?: string;
  /** The global_defs block's lines, indented by the caller's two spaces. */
  globalDefs?: string[];
  /** VIPs held as static addresses (the default when there is no VRRP instance). */
  staticVips?: string[];
  vrrp?: LabVrrpInstance[];
  /** Default: one labService(). */
  services?: LabService[];
  /** More top-level YAML, written after vrrp_instances (e.g. vrrp_sync_groups). */
  more?: string;
}

/** One real server as a flow-style list entry. */
export function labRealServer(r: LabRealServer): string {
  const keys = [`ip: ${r.ip}`, `port: ${r.port ?? 80}`];
  if (r.weight !== undefined) keys.push(`weight: ${r.weight}`);
  if (r.extra) keys.push(r.extra);
  return `      - { ${keys.join(', ')} }\n`;
}

/** One entry of virtual_servers. */
export function labService(s: LabService = {}): string {
  const servers = s.realServers ?? LAB_REAL_SERVERS.map((ip) => ({ ip }));
  return `  - vip: ${s.vip ?? LAB_VIP}
    port: ${s.port ?? 80}
    protocol: ${s.protocol ?? 'TCP'}
    lb_algo: ${s.lbAlgo ?? 'rr'}
    lb_kind: ${s.lbKind ?? 'DR'}
${(s.keys ?? []).map((k) => `    ${k}\n`).join('')}    real_servers:
${servers.map(labRealServer).join('')}`;
}

/** One entry of vrrp_instances, flow style. */
export function labVrrpInstance(v: LabVrrpInstance): string {
  const keys = [`name: ${v.name ?? 'VI_1'}`];
  if (v.state) keys.push(`state: ${v.state}`);
  keys.push('interface: eth0', `virtual_router_id: ${v.virtualRouterId}`, `priority: ${v.priority}`);
  if (v.version) keys.push(`version: ${v.version}`);
  keys.push(`advert_int: ${v.advertInt ?? 1}`);
  if (v.authPass) keys.push(`authentication: { auth_type: PASS, auth_pass: "${v.authPass}" }`);
  return `  - { ${keys.join(', ')},
      virtual_ipaddress: [ { address: ${v.vip ?? LAB_VIP}/32, dev: eth0 } ] }\n`;
}

/** A whole ulvs.yaml for a lab director. */
export function labDirectorConfig(c: LabDirectorConfig = {}): string {
  const parts: string[] = [];
  if (c.globalDefs?.length) parts.push(`global_defs:\n${c.globalDefs.map((l) => `  ${l}\n`).join('')}`);
  parts.push(`dataplane: { interface: eth0, ${c.dataplane ?? 'io: auto'} }\n`);
  const statics = c.staticVips ?? (c.vrrp?.length ? [] : [LAB_VIP]);
  if (statics.length) parts.push(`static_ipaddress: [ ${statics.map((a) => `{ address: ${a}/32, dev: eth0 }`).join(', ')} ]\n`);
  if (c.vrrp?.length) parts.push(`vrrp_instances:\n${c.vrrp.map(labVrrpInstance).join('')}`);
  if (c.more) parts.push(c.more.endsWith('\n') ? c.more : `${c.more}\n`);
  parts.push(`virtual_servers:\n${(c.services ?? [labService()]).map(labService).join('')}`);
  return parts.join('');
}
