// Which instance a received advert is for, and whether it is taken or dropped (and why).
// Pure: the speaker counts and logs the drops and feeds accepted adverts to the state machine.
import { numberToIp } from '../packet/addr.js';
import { addressKey, type AddressKey } from './address-key.js';
import { AUTH_NONE, VRRP_TTL, checkAdvert, decodePacket, type AdvertExpectation, type ReceivedAdvert } from './codec.js';
import { decodeAdvert6 } from './codec6.js';
import { AH_PROTOCOL, unwrapAh } from './ipsec-ah.js';
import type { ReceivedPacket } from '../os/raw-sockets.js';
import type { VrrpCounter } from './status.js';

/** The parts of an instance that decide whether it takes an advert. */
export interface AdvertReceiver {
  cfg: { virtual_router_id: number };
  expectation: AdvertExpectation;
  /** unicast_peer: when set, adverts from anyone else are dropped. */
  peers: readonly string[];
  /** auth_type AH: the HMAC key and the highest sequence number seen or sent (keepalived keeps one counter). */
  ah?: { key: Buffer; seq: number } | null;
}

export type AdvertVerdict<T> =
  /** `ahSeq`: the AH sequence number the advert carried (the caller moves the counter to it). */
  | { accepted: true; inst: T; advert: ReceivedAdvert; ahSeq: number | null }
  /** `inst`: the instance charged with the drop (null when the interface has none). */
  | { accepted: false; inst: T | null; reason: VrrpCounter; peer: string; detail: string };

/**
 * TTL (IPv6: hop limit) 255, as RFC 3768/5798 7.1 require of multicast adverts (a router on the
 * way would have lowered it). Unicast instances take any: their peers may sit behind routers,
 * and keepalived checks a unicast peer's TTL only when given min_ttl/max_ttl (keepalived 2.2.7
 * sends IPv6 unicast adverts with the default hop limit, 64). An advert for no instance is held
 * to 255, so what reaches no one is still charged as bad TTL first.
 */
function ttlTaken(inst: AdvertReceiver | null, ttl: number): boolean {
  return ttl === VRRP_TTL || (inst !== null && inst.peers.length > 0);
}

/** `instances`: those on the interface the packet came in on. */
export function classifyAdvert<T extends AdvertReceiver>(instances: readonly T[], packet: Uint8Array): AdvertVerdict<T> {
  const first = instances[0] ?? null;
  const ah = packet.length >= 20 && packet[9] === AH_PROTOCOL ? unwrapAh(packet) : null;
  if (ah && !ah.ok) return { accepted: false, inst: first, reason: ah.reason, peer: 'unknown', detail: '' };
  const decoded = decodePacket(ah ? ah.vrrpPacket : packet, true);
  // Not yet attributable to an instance: charge the first one on this interface.
  if (!decoded.ok) return { accepted: false, inst: first, reason: decoded.reason, peer: 'unknown', detail: '' };
  const advert = decoded.advert;
  const src = numberToIp(advert.srcIp);
  const inst = instances.find((i) => i.cfg.virtual_router_id === advert.vrid) ?? null;
  if (!ttlTaken(inst, advert.ttl)) return { accepted: false, inst: inst ?? first, reason: 'bad_ttl', peer: src, detail: `ttl ${advert.ttl}` };
  if (inst === null) return { accepted: false, inst: first, reason: 'unknown_vrid', peer: src, detail: `vrid ${advert.vrid}` };
  const reason = checkAdvert(advert, inst.expectation);
  if (reason !== null) return { accepted: false, inst, reason, peer: src, detail: '' };
  if (inst.peers.length > 0 && !inst.peers.includes(src)) return { accepted: false, inst, reason: 'unknown_peer', peer: src, detail: '' };
  // keepalived: an AH header exactly when auth_type is AH.
  const instAh = inst.ah ?? null;
  if ((ah !== null) !== (instAh !== null)) return { accepted: false, inst, reason: 'auth_type_mismatch', peer: src, detail: ah ? 'AH header, auth_type not AH' : 'no AH header' };
  if (ah?.ok && instAh) {
    // keepalived: the ICV (and SPI) first, then the replay check against its one counter.
    if (!ah.verify(instAh.key, inst.peers.length > 0)) return { accepted: false, inst, reason: 'auth_failure', peer: src, detail: 'AH ICV' };
    if (ah.seq <= instAh.seq) return { accepted: false, inst, reason: 'ah_replay', peer: src, detail: `sequence ${ah.seq} <= ${instAh.seq}` };
    return { accepted: true, inst, advert, ahSeq: ah.seq };
  }
  return { accepted: true, inst, advert, ahSeq: null };
}

/** What the state machine and the address check need of an accepted IPv6 advert. */
export interface TakenAdvert6 { priority: number; intervalCs: number; srcIp: AddressKey; source: string; addresses: string[] }

export type Advert6Verdict<T> =
  | { accepted: true; inst: T; advert: TakenAdvert6 }
  | { accepted: false; inst: T | null; reason: VrrpCounter; peer: string; detail: string };

/**
 * VRRPv3 over IPv6 (RFC 5798 7.1): the raw IPv6 socket gives the payload with the source,
 * destination and hop limit the kernel read from the header; codec6 checks hop limit 255
 * first, then version, type, length, checksum. No AH (the config refuses it); unicast_peer, when
 * set, is the only sources taken, as for IPv4.
 */
export function classifyAdvert6<T extends AdvertReceiver>(instances: readonly T[], packet: ReceivedPacket): Advert6Verdict<T> {
  const first = instances[0] ?? null;
  const peer = packet.source ?? 'unknown';
  const decoded = decodeAdvert6(packet.data, packet.source ?? '', packet.destination ?? '', packet.hopLimit ?? -1, true);
  if (!decoded.ok) return { accepted: false, inst: first, reason: decoded.reason, peer, detail: '' };
  const advert = decoded.advert;
  const inst = instances.find((i) => i.cfg.virtual_router_id === advert.vrid) ?? null;
  if (!ttlTaken(inst, advert.hopLimit)) return { accepted: false, inst: inst ?? first, reason: 'bad_ttl', peer, detail: `hop limit ${advert.hopLimit}` };
  if (inst === null) return { accepted: false, inst: first, reason: 'unknown_vrid', peer, detail: `vrid ${advert.vrid}` };
  const srcIp = addressKey(advert.source);
  const reason = checkAdvert({ version: 3, vrid: advert.vrid, authType: AUTH_NONE, authPass: '', intervalCs: advert.intervalCs, srcIp }, inst.expectation);
  if (reason !== null) return { accepted: false, inst, reason, peer, detail: '' };
  // unicast_peer (canonical text, settings.ts peersOf): adverts from anyone else are dropped.
  if (inst.peers.length > 0 && !inst.peers.includes(advert.source)) return { accepted: false, inst, reason: 'unknown_peer', peer, detail: '' };
  return { accepted: true, inst, advert: { priority: advert.priority, intervalCs: advert.intervalCs, srcIp, source: advert.source, addresses: [...advert.addresses] } };
}

/**
 * keepalived (unless vrrp_skip_check_adv_addr): an advert whose VIPs are not exactly ours is
 * still taken, but counted and logged. Same count, and every one of ours in it.
 */
export function addressListMatches<A extends number | string>(advertised: readonly A[], ours: readonly A[]): boolean {
  return advertised.length === ours.length && ours.every((a) => advertised.includes(a));
}

/**
 * A drop is logged once per key (instance, peer, reason) per interval, counted always. Keys are
 * bounded: a flood from spoofed sources (a new peer per packet) would otherwise log every packet
 * and grow the map without end. When `maxKeys` are within their interval, new keys share one
 * "others" line per interval.
 */
export class DropLogLimiter {
  private readonly loggedAt = new Map<string, number>();
  private overflowLoggedAt = -Infinity;
  constructor(private readonly intervalMs: number, private readonly maxKeys = 1024) {}

  /** True when a drop under `key` at `now` (ms) is to be logged. */
  shouldLog(key: string, now: number): boolean {
    const last = this.loggedAt.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (last === undefined && this.loggedAt.size >= this.maxKeys) {
      for (const [k, at] of this.loggedAt) if (now - at >= this.intervalMs) this.loggedAt.delete(k);
      if (this.loggedAt.size >= this.maxKeys) {
        if (now - this.overflowLoggedAt < this.intervalMs) return false;
        this.overflowLoggedAt = now;
        return true;
      }
    }
    this.loggedAt.set(key, now);
    return true;
  }

  /** Keys held (bounded by maxKeys). */
  get size(): number { return this.loggedAt.size; }
}
