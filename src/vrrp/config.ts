import type { RunAs } from '../os/script-user.js';
import type { NotifyScript } from '../os/notify.js';

// The vrrp part of ulvs.yaml (CONFIG.md: keepalived's keywords, snake_case). Mirrors the
// zod schema in src/config; the speaker takes this shape so it can be built and tested apart.

/** keepalived's ip address: `ADDR[/MASK] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL] [peer ADDR]`. */
export interface VirtualIpaddressConfig {
  address: string; dev?: string; label?: string; brd?: string; scope?: string; peer?: string;
}

export interface VrrpScriptConfig {
  script: string;
  /** Seconds between runs (keepalived default 1). */
  interval?: number;
  /** Seconds before the run counts as failed (default: interval). */
  timeout?: number;
  weight?: number;
  rise?: number;
  fall?: number;
  /** Who runs it: its `user`, script_user, enable_script_security (os/script-user.ts). */
  run_as?: RunAs;
  /** keepalived's `weight W reverse`: the weight moves the priority the other way. */
  reverse?: boolean;
  /** keepalived's init_fail: the script starts failed until it succeeds `rise` times. */
  init_fail?: boolean;
}

/** `reverse` (keepalived): the weight moves the priority the other way. */
export interface TrackInterfaceConfig { name: string; weight?: number; reverse?: boolean }
export interface TrackFileConfig { name: string; file: string; weight?: number; reverse?: boolean }

export interface VrrpInstanceConfig {
  name: string;
  state?: 'MASTER' | 'BACKUP';
  interface: string;
  virtual_router_id: number;
  priority?: number;
  /** Seconds; fractional (centiseconds) with version 3. */
  advert_int?: number;
  version?: 2 | 3;
  nopreempt?: boolean;
  /** Seconds. */
  preempt_delay?: number;
  authentication?: { auth_type: 'PASS' | 'AH'; auth_pass: string } | null;
  /** Source of our adverts (keepalived's unicast_src_ip or mcast_src_ip); default the primary address. */
  unicast_src_ip?: string | null;
  unicast_peer?: string[];
  mcast_dst_ip?: string;
  virtual_ipaddress: VirtualIpaddressConfig[];
  /** Added and removed with the VIPs, GARP'd, never in an advert (keepalived's eVIPs). */
  virtual_ipaddress_excluded?: VirtualIpaddressConfig[];
  /** global_defs.vrrp_strict: keepalived's strict RFC mode (state.ts; the config checks did the rest). */
  vrrp_strict?: boolean;
  /** The instance's own interface going down does not put it in FAULT. */
  dont_track_primary?: boolean;
  /** Names, or `{ name, weight }`. */
  track_interface?: (string | TrackInterfaceConfig)[];
  /** Names of vrrp_scripts, or `{ name, weight }` overriding the script's weight. */
  track_script?: (string | { name: string; weight?: number; reverse?: boolean })[];
  track_file?: TrackFileConfig[];
  notify_master?: NotifyScript;
  notify_backup?: NotifyScript;
  notify_fault?: NotifyScript;
  notify_stop?: NotifyScript;
  notify?: NotifyScript;
  /** Seconds after becoming MASTER before the second burst of GARPs (keepalived default 5). */
  garp_master_delay?: number;
  /** GARPs per burst (default 5). */
  garp_master_repeat?: number;
  /** Seconds between refresh GARPs while MASTER (0 = none). */
  garp_master_refresh?: number;
  /** GARPs per VIP at each refresh (default 1). */
  garp_master_refresh_repeat?: number;
}

export interface VrrpSyncGroupConfig {
  name: string;
  group: string[];
  notify_master?: NotifyScript;
  notify_backup?: NotifyScript;
  notify_fault?: NotifyScript;
  notify_stop?: NotifyScript;
  notify?: NotifyScript;
}

export interface VrrpConfig {
  vrrp_instances: VrrpInstanceConfig[];
  vrrp_scripts?: Record<string, VrrpScriptConfig>;
  vrrp_sync_groups?: VrrpSyncGroupConfig[];
  /** global_defs.vrrp_mcast_group4 */
  vrrp_mcast_group4?: string;
  /** global_defs.vrrp_mcast_group6 */
  vrrp_mcast_group6?: string;
  /** Who runs the notify scripts (global_defs.script_user, enable_script_security). */
  run_as?: RunAs;
  /** global_defs.vrrp_skip_check_adv_addr: no check that an advert's VIPs are ours. */
  vrrp_skip_check_adv_addr?: boolean;
  /** global_defs.vrrp_garp_interval: seconds between two GARPs on one interface (0: no pacing). */
  vrrp_garp_interval?: number;
  /** global_defs.vrrp_gna_interval: the same for unsolicited neighbour advertisements (IPv6 VIPs). */
  vrrp_gna_interval?: number;
}
