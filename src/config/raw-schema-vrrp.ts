// The raw (as written) VRRP blocks: vrrp_scripts, track_files, vrrp_instances, vrrp_sync_groups.
import { z } from 'zod';
import { command, notifyScript, ipv4Only, ipAddress, vipAddressSchema, count, name, seconds, text, trackWeight } from './raw-schema-scalars.js';
import { IPV6_MCAST_REFUSED } from './ipv6.js';

export const vrrpScriptSchema = z.strictObject({
  script: command,
  interval: seconds.default(1),
  timeout: seconds.optional().describe('default: interval'),
  weight: trackWeight.default(0),
  reverse: z.boolean().default(false),
  rise: z.number().int().min(1).default(1),
  fall: z.number().int().min(1).default(1),
  user: name.optional(),
  init_fail: z.boolean().default(false),
});

export const trackFileSchema = z.strictObject({
  file: z.string().min(1),
  weight: z.number().int().default(1),
  reverse: z.boolean().default(false),
  init_file: z.number().int().optional(),
});

const trackedByName = (weight: z.ZodNumber) =>
  z.union([
    name,
    z.strictObject({ name, weight: weight.optional(), reverse: z.boolean().default(false) }),
  ]);
const trackInterface = trackedByName(trackWeight);
const trackScript = trackedByName(trackWeight);
const trackFileRef = trackedByName(z.number().int().min(-254).max(254));

export const authenticationSchema = z.strictObject({
  auth_type: z.enum(['PASS', 'AH']),
  auth_pass: text,
});

export const vrrpInstanceSchema = z.strictObject({
  name,
  state: z.enum(['MASTER', 'BACKUP']).default('BACKUP'),
  interface: name,
  virtual_router_id: z.number().int().min(1).max(255),
  priority: z.number().int().min(1).max(255).default(100),
  advert_int: z.number().min(0.01).max(255).default(1),
  version: z.literal([2, 3]).optional().describe('default: global_defs.vrrp_version'),
  nopreempt: z.boolean().default(false),
  preempt_delay: z.number().min(0).max(1000).default(0),
  authentication: authenticationSchema.optional(),
  mcast_src_ip: ipv4Only(IPV6_MCAST_REFUSED).optional(),
  mcast_dst_ip: ipv4Only(IPV6_MCAST_REFUSED).optional(),
  // Either family, the instance's (check-families.ts): IPv6 adverts go to each peer from it.
  unicast_src_ip: ipAddress.nullable().optional(),
  unicast_peer: z.array(ipAddress).default([]),
  // Either family (an instance is one family: check-families.ts); IPv6 ones are added nodad.
  virtual_ipaddress: z.array(vipAddressSchema).default([]),
  virtual_ipaddress_excluded: z.array(vipAddressSchema).default([]),
  track_interface: z.array(trackInterface).default([]),
  track_script: z.array(trackScript).default([]),
  track_file: z.array(trackFileRef).default([]),
  dont_track_primary: z.boolean().default(false),
  garp_master_delay: count.optional(),
  garp_master_repeat: count.optional(),
  garp_master_refresh: count.optional(),
  garp_master_refresh_repeat: count.optional(),
  notify_master: notifyScript.optional(),
  notify_backup: notifyScript.optional(),
  notify_fault: notifyScript.optional(),
  notify_stop: notifyScript.optional(),
  notify: notifyScript.optional(),
  smtp_alert: z.boolean().optional(),
});

export const vrrpSyncGroupSchema = z.strictObject({
  name,
  group: z.array(name).min(1),
  track_interface: z.array(trackInterface).default([]),
  track_script: z.array(trackScript).default([]),
  track_file: z.array(trackFileRef).default([]),
  notify_master: notifyScript.optional(),
  notify_backup: notifyScript.optional(),
  notify_fault: notifyScript.optional(),
  notify_stop: notifyScript.optional(),
  notify: notifyScript.optional(),
  smtp_alert: z.boolean().optional(),
});
