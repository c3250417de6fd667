// A running VRRP instance: what the speaker keeps per vrrp_instance, built from its config and
// rebuilt in place by a reload. The values come from the pure settings and tracking modules;
// this file only opens what they need (the interface socket, the multicast group).
import { ipToNumber } from '../packet/addr.js';
import { formatIpv6, parseIpv6 } from '../packet/addr6.js';
import { addressKey } from './address-key.js';
import { encodeAdvertPacket, type AdvertExpectation } from './codec.js';
import { encodeAdvert6 } from './codec6.js';
import { encodeAhAdvertPacket } from './ipsec-ah.js';
import type { VrrpInstanceConfig } from './config.js';
import { enableAh, joinGroupIfMulticast, primaryAddress, type InterfaceIo } from './interface-io.js';
import { heldNumbersOf, instanceFamily, instanceSettings, instanceVersion } from './settings.js';
import { initialRuntime, type InstanceParams, type InstanceRuntime } from './state.js';
import type { VrrpCounter } from './status.js';
import { buildTracking, type ScriptVerdict, type TrackedState } from './tracking.js';
import { InstanceVips, type GarpSender, type VipLogger } from './vips.js';

export interface Instance {
  cfg: VrrpInstanceConfig;
  params: InstanceParams;
  runtime: InstanceRuntime;
  io: InterfaceIo<Instance>;
  expectation: AdvertExpectation;
  mcastGroup: string;
  peers: string[];
  vipNumbers: number[];
  /** IPv6 instances: the advertised VIPs as text (vipNumbers is empty). */
  vips6: string[];
  /** 4 or 6: the family of its VIPs, its socket and its adverts. */
  family: 4 | 6;
  /** Our advert source as text (IPv6: the link-local address the pseudo-header checksum covers). */
  primaryText: string;
  timer: NodeJS.Timeout | null;
  vips: InstanceVips;
  tracked: TrackedState[];
  scriptNames: Map<string, number>;
  wallTransitionAt: number;
  drops: Partial<Record<VrrpCounter, number>>;
  advertsSent: number;
  advertsReceived: number;
  syncGroup: string | null;
  /** auth_type AH: key and the one sequence counter (sent and received, as keepalived). */
  ah: { key: Buffer; seq: number } | null;
  /** The IP id of our last AH advert (the ICV covers it, so we choose it). */
  ipId: number;
  /** Destinations whose adverts the stall cover holds (speaker.ts withdraws them). */
  coveredDsts: Set<string>;
}

/** What building an instance needs from the speaker. */
export interface InstanceContext {
  interfaceIo(name: string, family: 4 | 6): InterfaceIo<Instance>;
  scriptVerdict(name: string): ScriptVerdict | undefined;
  /** The running configuration's vrrp_mcast_group4, when set. */
  defaultMcastGroup(): string | undefined;
  /** The running configuration's vrrp_mcast_group6, when set. */
  defaultMcastGroup6?(): string | undefined;
  garp: GarpSender;
  log: VipLogger;
  /** The VIPs an instance holds changed. */
  /** Resolves once the dataplane forwards exactly the owned VIPs. */
  onVipsChanged(): Promise<void>;
}

/**
 * unicast_src_ip, else the interface's primary address of the instance's family (IPv6: its
 * link-local one). IPv6 text is canonical: the election compares it, the checksum covers it.
 */
function sourceOf(cfg: VrrpInstanceConfig): string | null {
  const family = instanceFamily(cfg);
  const source = cfg.unicast_src_ip ?? primaryAddress(cfg.interface, heldNumbersOf(cfg), family);
  return source !== null && family === 6 ? formatIpv6(parseIpv6(source)) : source;
}

/** Throws on an interface without an address of the family or a track_script that is not a vrrp_script. */
export function createInstance(cfg: VrrpInstanceConfig, ctx: InstanceContext): Instance {
  const family = instanceFamily(cfg);
  const primary = sourceOf(cfg);
  if (primary === null) throw new Error(`vrrp_instance ${cfg.name}: interface ${cfg.interface} has no ${family === 4 ? 'IPv4' : 'IPv6 link-local'} address`);
  const settings = instanceSettings(cfg, instanceVersion(cfg), addressKey(primary), ctx.defaultMcastGroup(), ctx.defaultMcastGroup6?.());
  const params: InstanceParams = { ...settings.params, priority: settings.params.basePriority };
  const io = ctx.interfaceIo(cfg.interface, family);
  if (settings.ahKey) enableAh(io);
  joinGroupIfMulticast(io, settings.mcastGroup, settings.peers);
  const { tracked, scriptNames } = buildTracking(cfg, (name) => ctx.scriptVerdict(name), []);
  const inst: Instance = {
    cfg, params, runtime: initialRuntime(params), io, expectation: settings.expectation,
    mcastGroup: settings.mcastGroup, peers: settings.peers, vipNumbers: settings.vipNumbers, vips6: settings.vips6,
    family, primaryText: primary, timer: null,
    vips: new InstanceVips(() => inst.cfg, () => inst.runtime.state === 'MASTER', ctx.garp, ctx.log, () => ctx.onVipsChanged()),
    tracked, scriptNames, wallTransitionAt: 0, drops: {}, advertsSent: 0, advertsReceived: 0, syncGroup: null,
    ah: settings.ahKey ? { key: settings.ahKey, seq: 0 } : null, ipId: 0, coveredDsts: new Set(),
  };
  io.instances.push(inst);
  return inst;
}

/**
 * Same virtual router (interface, VRID and version stay), new settings; state and master stay.
 * Throws before changing anything, so a failed update keeps the previous settings whole. The
 * effective priority is left as it was: the speaker's tracking pass sees (and advertises) a
 * change.
 */
export function reconfigureInstance(inst: Instance, cfg: VrrpInstanceConfig, ctx: InstanceContext): void {
  const version = inst.params.version;
  const primary = sourceOf(cfg);
  const primaryIp = primary === null ? inst.params.primaryIp : addressKey(primary);
  const { tracked, scriptNames } = buildTracking(cfg, (name) => ctx.scriptVerdict(name), inst.tracked);
  const settings = instanceSettings(cfg, version, primaryIp, ctx.defaultMcastGroup(), ctx.defaultMcastGroup6?.());
  if (settings.ahKey) enableAh(inst.io);
  joinGroupIfMulticast(inst.io, settings.mcastGroup, settings.peers);
  // From here nothing throws: the instance switches to the new settings as a whole.
  inst.cfg = cfg;
  inst.params = { ...settings.params, priority: inst.params.priority };
  const { advertIntervalCs } = settings.params;
  // v2 uses its own interval as Master_Adver_Interval; v3 keeps what it learnt from the master.
  if (version === 2 || inst.runtime.state === 'MASTER') inst.runtime = { ...inst.runtime, masterAdverIntervalCs: advertIntervalCs };
  if (inst.runtime.state === 'MASTER') inst.runtime = { ...inst.runtime, masterIp: primaryIp };
  inst.expectation = settings.expectation;
  inst.peers = settings.peers;
  inst.mcastGroup = settings.mcastGroup;
  inst.vipNumbers = settings.vipNumbers;
  inst.vips6 = settings.vips6;
  if (primary !== null) inst.primaryText = primary;
  inst.tracked = tracked;
  inst.scriptNames = scriptNames;
  inst.ah = settings.ahKey ? { key: settings.ahKey, seq: inst.ah?.seq ?? 0 } : null;
}

/**
 * Sends one advert to each unicast peer, or to the group; returns the sends that failed.
 * `sent` sees each packet sent without AH (the speaker hands them to the stall cover).
 */
export function sendAdvert(inst: Instance, priority: number, sent?: (dst: string, packet: Uint8Array) => void): { dst: string; err: string }[] {
  const advert = {
    version: inst.params.version, vrid: inst.cfg.virtual_router_id, priority,
    intervalCs: inst.params.advertIntervalCs, authType: inst.expectation.authType,
    authPass: inst.expectation.authPass, addresses: inst.vipNumbers,
  };
  const failures: { dst: string; err: string }[] = [];
  const ah = inst.ah;
  if (ah) {
    // One sequence number and IP id per advert, whatever the number of peers (keepalived).
    ah.seq = Math.min(ah.seq + 1, 0xffffffff);
    inst.ipId = (inst.ipId + 1) & 0xffff || 1;
  }
  if (inst.family === 6) {
    // No AH over IPv6 (the config refuses it); the kernel adds the header, from our source as
    // given (the pseudo-header checksum covers it and the destination: one packet per peer).
    const advert6 = { vrid: advert.vrid, priority, intervalCs: advert.intervalCs, addresses: inst.vips6 };
    for (const dst of inst.peers.length > 0 ? inst.peers : [inst.mcastGroup]) {
      try {
        inst.io.socket.send(dst, encodeAdvert6(advert6, inst.primaryText, dst), inst.primaryText);
        inst.advertsSent++;
      } catch (err) {
        failures.push({ dst, err: String(err) });
      }
    }
    return failures;
  }
  // IPv4 from here: primaryIp is a number.
  const unicast = inst.peers.length > 0;
  for (const dst of unicast ? inst.peers : [inst.mcastGroup]) {
    try {
      const dstIp = ipToNumber(dst);
      if (ah && inst.io.ahSocket) {
        inst.io.ahSocket.send(dst, encodeAhAdvertPacket(advert, inst.params.primaryIp as number, dstIp, { key: ah.key, seq: ah.seq, ipId: inst.ipId, unicast }));
      } else {
        const packet = encodeAdvertPacket(advert, inst.params.primaryIp as number, dstIp);
        inst.io.socket.send(dst, packet);
        sent?.(dst, packet);
      }
      inst.advertsSent++;
    } catch (err) {
      failures.push({ dst, err: String(err) });
    }
  }
  return failures;
}
