// Adapts the loaded ulvs.yaml (src/config, every default filled in) to the speaker's input.
// Sync groups' track_* apply to every member, as in keepalived.

import type { UlvsConfig } from '../config/schema.js';
import type { TrackFileConfig, VirtualIpaddressConfig, VrrpConfig, VrrpInstanceConfig } from './config.js';

type ConfigAddress = UlvsConfig['vrrp_instances'][number]['virtual_ipaddress'][number];

const addressOf = (a: ConfigAddress): VirtualIpaddressConfig => ({
  address: a.address, dev: a.dev, label: a.label, brd: a.brd, scope: a.scope, peer: a.peer,
});

export function vrrpConfigFrom(config: UlvsConfig): VrrpConfig {
  const groupOf = new Map<string, UlvsConfig['vrrp_sync_groups'][number]>();
  for (const g of config.vrrp_sync_groups) for (const member of g.group) groupOf.set(member, g);

  const trackFile = (t: { name: string; weight?: number; reverse: boolean }): TrackFileConfig => {
    const entry = config.track_files[t.name];
    return { name: t.name, file: entry.file, weight: t.weight ?? entry.weight, reverse: t.reverse !== entry.reverse };
  };

  const instances: VrrpInstanceConfig[] = config.vrrp_instances.map((vi) => {
    const group = groupOf.get(vi.name);
    return {
      name: vi.name,
      state: vi.state,
      interface: vi.interface,
      virtual_router_id: vi.virtual_router_id,
      priority: vi.priority,
      advert_int: vi.advert_int,
      version: vi.version,
      nopreempt: vi.nopreempt,
      preempt_delay: vi.preempt_delay,
      authentication: vi.authentication ?? null,
      unicast_src_ip: vi.unicast_src_ip ?? vi.mcast_src_ip ?? null,
      unicast_peer: vi.unicast_peer,
      mcast_dst_ip: vi.mcast_dst_ip,
      virtual_ipaddress: vi.virtual_ipaddress.map(addressOf),
      virtual_ipaddress_excluded: vi.virtual_ipaddress_excluded.map(addressOf),
      dont_track_primary: vi.dont_track_primary,
      vrrp_strict: vi.vrrp_strict,
      track_interface: [...vi.track_interface, ...(group?.track_interface ?? [])],
      track_script: [...vi.track_script, ...(group?.track_script ?? [])],
      track_file: [...vi.track_file, ...(group?.track_file ?? [])].map(trackFile),
      notify_master: vi.notify_master,
      notify_backup: vi.notify_backup,
      notify_fault: vi.notify_fault,
      notify_stop: vi.notify_stop,
      notify: vi.notify,
      garp_master_delay: vi.garp_master_delay,
      garp_master_repeat: vi.garp_master_repeat,
      garp_master_refresh: vi.garp_master_refresh,
      garp_master_refresh_repeat: vi.garp_master_refresh_repeat,
    };
  });
  const runAs = { scriptUser: config.global_defs.script_user, security: config.global_defs.enable_script_security };
  return {
    vrrp_instances: instances,
    vrrp_scripts: Object.fromEntries(Object.entries(config.vrrp_scripts).map(([name, s]) => [name, { ...s, run_as: { ...runAs, user: s.user } }])),
    run_as: runAs,
    vrrp_sync_groups: config.vrrp_sync_groups.map((g) => ({
      name: g.name, group: g.group, notify_master: g.notify_master, notify_backup: g.notify_backup,
      notify_fault: g.notify_fault, notify_stop: g.notify_stop, notify: g.notify,
    })),
    vrrp_mcast_group4: config.global_defs.vrrp_mcast_group4,
    vrrp_mcast_group6: config.global_defs.vrrp_mcast_group6,
    vrrp_garp_interval: config.global_defs.vrrp_garp_interval,
    vrrp_gna_interval: config.global_defs.vrrp_gna_interval,
    vrrp_skip_check_adv_addr: config.global_defs.vrrp_skip_check_adv_addr,
  };
}
