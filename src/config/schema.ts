/**
 * ulvs.yaml's one source of truth: validation (raw-schema.ts), the inherited defaults
 * (normalize.ts), the TypeScript types below, and configs/schema.json (write-schema.ts).
 */
import { z } from 'zod';
import { rawConfigSchema } from './raw-schema.js';
import { normalizeConfig } from './normalize.js';

export const ulvsConfigSchema = rawConfigSchema.transform(normalizeConfig);

/** A loaded, validated config with every default filled in. */
export type UlvsConfig = z.output<typeof ulvsConfigSchema>;
/** The file as a user may write it (what editors complete). */
export type UlvsConfigInput = z.input<typeof ulvsConfigSchema>;
export type GlobalDefsConfig = UlvsConfig['global_defs'];
export type DataplaneConfig = UlvsConfig['dataplane'];
export type LvsTimeouts = DataplaneConfig['lvs_timeouts'];
export type StaticIpAddressConfig = UlvsConfig['static_ipaddress'][number];
export type VrrpScriptConfig = UlvsConfig['vrrp_scripts'][string];
export type TrackFileConfig = UlvsConfig['track_files'][string];
export type VrrpInstanceConfig = UlvsConfig['vrrp_instances'][number];
export type VrrpSyncGroupConfig = UlvsConfig['vrrp_sync_groups'][number];
export type VirtualServerGroupConfig = UlvsConfig['virtual_server_groups'][number];
export type VirtualServerConfig = UlvsConfig['virtual_servers'][number];
export type RealServerConfig = VirtualServerConfig['real_servers'][number];
export type SorryServerConfig = NonNullable<VirtualServerConfig['sorry_server']>;
export type LbAlgo = VirtualServerConfig['lb_algo'];
export type LbKind = VirtualServerConfig['lb_kind'];
export type { CheckerConfig, CheckerTiming, IpAddress, Tracked } from './normalize.js';
export type { GroupMember, StatusRange, CheckerKind } from './raw-schema.js';

/** The JSON Schema editors use (configs/schema.json): the input side, defaults shown. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(rawConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://ulvs.invalid/schema.json',
    title: 'ulvs configuration (keepalived.conf keywords in YAML)',
  };
}
