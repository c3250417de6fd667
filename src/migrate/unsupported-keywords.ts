/**
 * The keepalived keywords ulvs refuses outright, with the reason each report gives: the reasons
 * shared by many keywords (WHY), every unsupported global_defs keyword and the unsupported
 * top-level blocks. Block keywords refused one by one sit in their block's table
 * (vrrp-keywords.ts, lvs-keywords.ts) with a reason from WHY.
 */

export const WHY = {
  family: 'ulvs takes the address family from the addresses themselves (an IPv6 VIP makes an IPv6 service or instance)',
  snmp: 'ulvs has no SNMP agent; use `ulvs stats` and `ulvs list`',
  netfilter: 'ulvs takes packets before netfilter: no iptables/nftables/ipsets',
  process: 'ulvs is one process; set priorities and affinity with systemd, chrt or taskset',
  bfd: 'ulvs has no BFD; track a vrrp_script instead',
  fifo: 'ulvs has no notify FIFOs; use notify scripts',
  vmac: 'ulvs sends VRRP from the interface itself; no macvlan/ipvlan VMACs',
  routes: 'ulvs manages no routes or rules; add them with ip route/ip rule in notify scripts',
  trackProcess: 'ulvs does not watch processes; use a vrrp_script such as "pidof NAME"',
  none: 'no ulvs equivalent',
  dbus: 'ulvs has no D-Bus interface',
} as const;

/** global_defs keywords ulvs refuses, grouped by their reason. */
export const UNSUPPORTED_GLOBALS: ReadonlyArray<readonly [string, readonly string[]]> = [
  [WHY.snmp, ['enable_snmp_checker', 'enable_snmp_rfc', 'enable_snmp_rfcv2', 'enable_snmp_rfcv3', 'enable_snmp_vrrp', 'enable_snmp_keepalived', 'enable_traps', 'snmp_socket']],
  [WHY.netfilter, ['nftables', 'nftables_counters', 'nftables_ifindex', 'nftables_ipvs', 'nftables_ipvs_priority', 'nftables_ipvs_start_fwmark', 'nftables_priority', 'vrrp_iptables', 'vrrp_ipsets', 'namespace_with_ipsets']],
  [WHY.process, ['bfd_cpu_affinity', 'bfd_no_swap', 'bfd_priority', 'bfd_process_name', 'bfd_rlimit_rttime', 'bfd_rt_priority', 'checker_cpu_affinity', 'checker_no_swap', 'checker_priority', 'checker_process_name', 'checker_rlimit_rttime', 'checker_rt_priority', 'vrrp_cpu_affinity', 'vrrp_no_swap', 'vrrp_priority', 'vrrp_process_name', 'vrrp_rlimit_rttime', 'vrrp_rt_priority', 'process_names', 'process_name', 'child_wait_time', 'use_pid_dir', 'umask', 'fork_delay']],
  [WHY.fifo, ['notify_fifo', 'notify_fifo_script', 'vrrp_notify_fifo', 'vrrp_notify_fifo_script', 'lvs_notify_fifo', 'lvs_notify_fifo_script', 'fifo_write_vrrp_states_on_reload', 'vrrp_notify_priority_changes']],
  [WHY.dbus, ['enable_dbus', 'dbus_service_name']],
  [WHY.vmac, ['vmac_prefix', 'vmac_addr_prefix', 'vrrp_garp_extra_if']],
  ['ulvs owns its tables and clears them itself', ['lvs_flush', 'lvs_flush_on_stop']],
  ['ulvs reads no IPVS netlink: its tables are its own', ['lvs_netlink_cmd_rcv_bufs', 'lvs_netlink_cmd_rcv_bufs_force', 'lvs_netlink_monitor_rcv_bufs', 'lvs_netlink_monitor_rcv_bufs_force', 'vrrp_netlink_cmd_rcv_bufs', 'vrrp_netlink_cmd_rcv_bufs_force', 'vrrp_netlink_monitor_rcv_bufs', 'vrrp_netlink_monitor_rcv_bufs_force', 'process_monitor_rcv_bufs', 'process_monitor_rcv_bufs_force', 'vrrp_rx_bufs_policy', 'vrrp_rx_bufs_multiplier']],
  ['run ulvs inside the namespace (ip netns exec); dataplane.control_socket is per namespace', ['net_namespace', 'net_namespace_ipvs', 'instance']],
  ['`ulvs reload` validates first and keeps the running config on errors', ['reload_check_config', 'reload_file', 'reload_repeat', 'reload_time_file', 'config_save_dir', 'tmp_config_directory', 'data_use_instance']],
  ['run such scripts from the service manager (ExecStartPre/ExecStop)', ['startup_script', 'startup_script_timeout', 'shutdown_script', 'shutdown_script_timeout']],
  ['ulvs follows the VRRP RFCs here and has no switch for it', ['vrrp_check_unicast_src', 'vrrp_skip_check_adv_addr_strict', 'vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_down_timer_adverts', 'vrrp_garp_lower_prio_delay', 'vrrp_garp_lower_prio_repeat', 'vrrp_startup_delay', 'log_unknown_vrids', 'max_auto_priority', 'min_auto_priority_delay', 'vrrp_track_process', 'dynamic_interfaces', 'disable_local_igmp', 'vrrp_version_strict', 'no_checker_emails', 'rs_init_notifies', 'random_seed', 'script_security', 'include_check', 'terminate_delay', 'linkbeat_use_polling', 'smtp_alert_timeout']],
];

/** Top-level blocks ulvs refuses. */
export const TOP_UNSUPPORTED: Readonly<Record<string, string>> = {
  static_routes: WHY.routes,
  static_rules: WHY.routes,
  linkbeat_interfaces: 'ulvs watches links through netlink',
  track_group: 'ulvs has no track groups',
  vrrp_track_process: WHY.trackProcess,
  bfd_instance: WHY.bfd,
  garp_group: 'set vrrp_garp_interval in global_defs',
  SSL: 'ssl_get does not verify certificates, like keepalived without an SSL block',
  net_namespace: 'run ulvs inside the namespace (ip netns exec)',
  use_symlink: WHY.none,
};

/** Why a `fwmark N` service or group member has no translation (no MARK rule explains it). */
export function fwmarkWhy(mark: number): string {
  return `ulvs takes packets before netfilter, so there are no firewall marks: list the VIP and ports of your iptables "--set-mark ${Number.isFinite(mark) ? mark : 'N'}" rule in a virtual_server_groups entry, or rerun with --iptables FILE (iptables-save output)`;
}
