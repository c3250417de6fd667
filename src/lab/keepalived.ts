// Debian's keepalived as the VRRP tests and the failover bench run it next to ulvs: one place
// for its command line, its pidfiles and the keepalived.conf they use.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_VIP } from './topology.js';

export interface KeepalivedLaunch {
  /** The command to run inside a namespace (foreground, log to stderr, VRRP only). */
  argv: string[];
  /** Pids of the main process and its VRRP child, as far as written yet (main first). */
  pids(): number[];
}

/**
 * Writes `conf` to `dir/name.conf` and returns how to run keepalived on it. Each instance gets
 * its own pidfiles: keepalived refuses to start while another one's pidfile names a live process.
 */
export function keepalivedLaunch(dir: string, name: string, conf: string): KeepalivedLaunch {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const pidFile = (kind: string): string => join(dir, `${name}.${kind}.pid`);
  return {
    argv: ['keepalived', '-n', '-l', '-D', '-P', '-f', file,
      `--pid=${pidFile('main')}`, `--vrrp_pid=${pidFile('vrrp')}`, `--checkers_pid=${pidFile('checkers')}`],
    pids: () => ['main', 'vrrp'].flatMap((kind) => {
      try { return [Number(readFileSync(pidFile(kind), 'utf8').trim())]; } catch { return []; }
    }),
  };
}

/** keepalived -n still forks its VRRP child: signal the child first, then the main process. */
export function signalKeepalived(launch: KeepalivedLaunch, signal: NodeJS.Signals): void {
  for (const pid of launch.pids().reverse()) { try { process.kill(pid, signal); } catch { /* gone */ } }
}

export interface KeepalivedConfOptions {
  name?: string; state: 'MASTER' | 'BACKUP'; priority: number; vrid?: number; vip?: string; advertInt?: number;
  version?: 2 | 3; nopreempt?: boolean; preemptDelay?: number; pass?: string; unicastSrc?: string; unicastPeers?: string[];
  extra?: string; globalExtra?: string;
}

/** One vrrp_instance on eth0 holding the VIP (the lab's by default), keepalived's syntax. */
export function keepalivedConf(o: KeepalivedConfOptions): string {
  const v = o.version ?? 2;
  return `global_defs {
  router_id ${o.name ?? 'ka'}
  vrrp_version ${v}
  ${o.globalExtra ?? ''}
}
vrrp_instance ${o.name ?? 'VI_1'} {
  state ${o.state}
  interface eth0
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.priority}
  advert_int ${o.advertInt ?? 1}
  ${o.nopreempt ? 'nopreempt' : ''}
  ${o.preemptDelay ? `preempt_delay ${o.preemptDelay}` : ''}
  ${v === 2 ? `authentication {\n    auth_type PASS\n    auth_pass ${o.pass ?? '1111'}\n  }` : ''}
  ${o.unicastSrc ? `unicast_src_ip ${o.unicastSrc}` : ''}
  ${o.unicastPeers ? `unicast_peer {\n ${o.unicastPeers.join('\n')}\n }` : ''}
  virtual_ipaddress {
    ${o.vip ?? LAB_VIP}/32 dev eth0
  }
  ${o.extra ?? ''}
}
`;
}
