// The vrrp part of ulvs.yaml (CONFIG.md: keepalived's keywords, snake_case). Mirrors the
// zod schema in src/config; the speaker takes this shape so it can be built and tested apart.

export interface VirtualIpaddressConfig { address: string; dev?: string; label?: string }

export interface VrrpScriptConfig {
  script: string;
  /** Seconds between runs (keepalived default 1). */
  interval?: number;
  /** Seconds before the run counts as failed (default: interval). */
  timeout?: number;
  weight?: number;
  rise?: number;
  fall?: number;
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
  /** Names, or `{ name, weight }`. */
  track_interface?: (string | TrackInterfaceConfig)[];
  /** Names of vrrp_scripts, or `{ name, weight }` overriding the script's weight. */
  track_script?: (string | { name: string; weight?: number; reverse?: boolean })[];
  track_file?: TrackFileConfig[];
  notify_master?: string;
  notify_backup?: string;
  notify_fault?: string;
  notify_stop?: string;
  notify?: string;
  /** Seconds after becoming MASTER before the second burst of GARPs (keepalived default 5). */
  garp_master_delay?: number;
  /** GARPs per burst (default 5). */
  garp_master_repeat?: number;
  /** Seconds between refresh GARPs while MASTER (0 = none). */
  garp_master_refresh?: number;
}

export interface VrrpSyncGroupConfig {
  name: string;
  group: string[];
  notify_master?: string;
  notify_backup?: string;
  notify_fault?: string;
  notify?: string;
}

export interface VrrpConfig {
  vrrp_instances: VrrpInstanceConfig[];
  vrrp_scripts?: Record<string, VrrpScriptConfig>;
  vrrp_sync_groups?: VrrpSyncGroupConfig[];
  /** global_defs.vrrp_mcast_group4 */
  vrrp_mcast_group4?: string;
}
