// What an instance's configuration means for the state machine and the wire: worked out once,
// for a new instance and for one a reload updates in place. Pure: the shell finds the primary
// address (it reads the interfaces) and passes it in.
import { ipToNumber } from '../packet/addr.js';
import { formatIpv6, parseIpv6 } from '../packet/addr6.js';
import { addressKey, type AddressKey } from './address-key.js';
import { AUTH_NONE, AUTH_PASS, VRRP_MCAST_GROUP, type AdvertExpectation } from './codec.js';
import { VRRP_MCAST_GROUP6 } from './codec6.js';
import type { VirtualIpaddressConfig, VrrpInstanceConfig } from './config.js';
import { ahKey, AUTH_AH } from './ipsec-ah.js';
import type { InstanceParams } from './state.js';

/** Everything a configuration decides, apart from the current priority (tracking moves it). */
export interface InstanceSettings {
  params: Omit<InstanceParams, 'priority'>;
  expectation: AdvertExpectation;
  /** unicast_peer; empty: multicast to mcastGroup. */
  peers: string[];
  mcastGroup: string;
  /** The VIPs as numbers, as IPv4 adverts carry them (empty for IPv6). */
  vipNumbers: number[];
  /** IPv6: the VIPs as text, as codec6 encodes them (empty for IPv4). */
  vips6: string[];
  /** auth_type AH (VRRPv2 only, as keepalived): the HMAC key. */
  ahKey: Buffer | null;
}

/** v2 counts advert_int in whole seconds (at least 1); v3 in centiseconds (at least 1). */
export function advertIntervalCsOf(cfg: VrrpInstanceConfig, version: 2 | 3): number {
  return version === 2
    ? Math.max(1, Math.round(cfg.advert_int ?? 1)) * 100
    : Math.max(1, Math.round((cfg.advert_int ?? 1) * 100));
}

export function stripPrefix(address: string): string {
  const slash = address.indexOf('/');
  return slash < 0 ? address : address.slice(0, slash);
}

/** An advert's address count is 8 bits (keepalived VRRP_MAX_ADDR): more VIPs are held, not advertised. */
export const MAX_ADVERTISED_VIPS = 255;

/**
 * An instance is one family (the config checks it): its first VIP's, else its first unicast
 * peer's (as the config's family check decides); IPv4 when it has neither.
 */
export function instanceFamily(cfg: VrrpInstanceConfig): 4 | 6 {
  const decider = cfg.virtual_ipaddress[0]?.address ?? cfg.unicast_peer?.[0];
  return decider?.includes(':') ? 6 : 4;
}

/** unicast_peer as the receive check compares them: IPv6 in canonical text, as codec6 decodes sources. */
export function peersOf(cfg: VrrpInstanceConfig): string[] {
  const peers = cfg.unicast_peer ?? [];
  return instanceFamily(cfg) === 6 ? peers.map((p) => formatIpv6(parseIpv6(p))) : peers;
}

/** VRRP over IPv6 is version 3 only (RFC 5798); IPv4 takes the configured one. */
export function instanceVersion(cfg: VrrpInstanceConfig): 2 | 3 {
  return instanceFamily(cfg) === 6 ? 3 : cfg.version ?? 2;
}

/** The addresses the adverts carry (IPv4 ones): the VIPs (never the excluded ones), at most 255. */
export function vipNumbersOf(cfg: VrrpInstanceConfig): number[] {
  if (instanceFamily(cfg) === 6) return [];
  return cfg.virtual_ipaddress.slice(0, MAX_ADVERTISED_VIPS).map((v) => ipToNumber(stripPrefix(v.address)));
}

/** The IPv6 addresses the adverts carry, as text, at most 255. */
export function vips6Of(cfg: VrrpInstanceConfig): string[] {
  if (instanceFamily(cfg) === 4) return [];
  // Canonical text, as codec6 decodes what peers send.
  return cfg.virtual_ipaddress.slice(0, MAX_ADVERTISED_VIPS).map((v) => formatIpv6(parseIpv6(stripPrefix(v.address))));
}

/** The addresses an instance holds as MASTER: its VIPs, then its excluded VIPs (keepalived's eVIPs). */
export function heldAddressesOf(cfg: VrrpInstanceConfig): VirtualIpaddressConfig[] {
  return [...cfg.virtual_ipaddress, ...(cfg.virtual_ipaddress_excluded ?? [])];
}

/** Every address the instance holds as MASTER (none of them can be the primary address); either family. */
export function heldNumbersOf(cfg: VrrpInstanceConfig): AddressKey[] {
  return heldAddressesOf(cfg).map((v) => addressKey(stripPrefix(v.address)));
}

/**
 * `version`: a new instance takes the configured one; an update keeps the running one (a
 * change of version is a different virtual router, which a reload stops and starts).
 * `defaultMcastGroup`/`defaultMcastGroup6`: the global vrrp_mcast_group4/6, when set.
 */
export function instanceSettings(
  cfg: VrrpInstanceConfig, version: 2 | 3, primaryIp: AddressKey, defaultMcastGroup: string | undefined,
  defaultMcastGroup6?: string,
): InstanceSettings {
  const advertIntervalCs = advertIntervalCsOf(cfg, version);
  // VRRPv3 has no authentication (RFC 5798); keepalived ignores the block there.
  const auth = version === 2 ? cfg.authentication ?? null : null;
  const pass = auth?.auth_type === 'PASS' ? auth.auth_pass : '';
  const ah = auth?.auth_type === 'AH' ? ahKey(auth.auth_pass) : null;
  return {
    params: {
      version, advertIntervalCs, basePriority: cfg.priority ?? 100,
      preempt: !(cfg.nopreempt ?? false), preemptDelayMs: (cfg.preempt_delay ?? 0) * 1000,
      initialState: cfg.state ?? 'BACKUP', primaryIp, strict: cfg.vrrp_strict ?? false,
    },
    expectation: {
      version, vrid: cfg.virtual_router_id, intervalCs: advertIntervalCs,
      authType: ah ? AUTH_AH : pass ? AUTH_PASS : AUTH_NONE, authPass: pass, ownIps: [primaryIp],
    },
    peers: peersOf(cfg),
    // IPv6: the global vrrp_mcast_group6 (default ff02::12); an instance's own mcast_dst_ip is IPv4 only.
    mcastGroup: instanceFamily(cfg) === 6 ? defaultMcastGroup6 ?? VRRP_MCAST_GROUP6 : cfg.mcast_dst_ip ?? defaultMcastGroup ?? VRRP_MCAST_GROUP,
    vipNumbers: vipNumbersOf(cfg),
    vips6: vips6Of(cfg),
    ahKey: ah,
  };
}
