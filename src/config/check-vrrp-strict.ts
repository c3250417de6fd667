/**
 * global_defs.vrrp_strict: keepalived's strict RFC mode (vrrp.c vrrp_complete_instance), as
 * findings on the raw config. Where keepalived refuses the instance, an error; where it
 * reports and changes the setting, a warning saying what ulvs runs instead (normalize.ts
 * applies the same changes through strictInstance, so the check and the runtime agree).
 * Also keepalived's rules outside strict mode that the same code applies: a VRRPv3
 * instance needs a VIP, and an advert carries at most 255 addresses.
 */
import { list, num, obj, str, type Findings, type Obj, type Path } from './cross-check-kit.js';

const PRIORITY_OWNER = 255;
export const MAX_ADVERTISED_VIPS = 255;

/** The changes strict mode makes to an instance (keepalived resets these, with a report). */
export interface StrictChanges {
  /** keepalived: "Strict mode does not support authentication. Ignoring." */
  dropAuthentication: boolean;
  /** keepalived: "State MASTER must match being address owner": the state follows the priority. */
  state: 'MASTER' | 'BACKUP' | null;
  /** keepalived: "preempt_delay is incompatible with strict mode - resetting". */
  resetPreemptDelay: boolean;
}

export function strictChanges(vi: { state?: unknown; priority?: unknown; authentication?: unknown; preempt_delay?: unknown }): StrictChanges {
  const priority = num(vi.priority) ?? 100;
  const owner = priority === PRIORITY_OWNER;
  const wantsMaster = (str(vi.state) ?? 'BACKUP') === 'MASTER';
  return {
    dropAuthentication: obj(vi.authentication) !== undefined,
    state: wantsMaster !== owner ? (owner ? 'MASTER' : 'BACKUP') : null,
    resetPreemptDelay: (num(vi.preempt_delay) ?? 0) > 0,
  };
}

/** Instance rules keepalived applies with and without strict mode. */
export function checkStrictInstance(vi: Obj, base: Path, globals: Obj, r: Findings): void {
  const strict = globals.vrrp_strict === true;
  const version = num(vi.version) ?? num(globals.vrrp_version) ?? 2;
  const vips = list(vi.virtual_ipaddress);
  if (vips.length === 0 && (strict || version === 3)) {
    r.error([...base, 'name'], `vrrp instance has no virtual_ipaddress; ${strict ? 'vrrp_strict' : 'VRRP version 3'} requires at least one (keepalived refuses it)`, 'add the VIP, or turn vrrp_strict off', true);
  }
  if (vips.length > MAX_ADVERTISED_VIPS) {
    r.warn([...base, 'virtual_ipaddress'], `${vips.length} VIPs: an advert carries at most ${MAX_ADVERTISED_VIPS}, the others are held but not advertised (keepalived moves them to the excluded VIPs)`, 'list the extra ones under virtual_ipaddress_excluded', true);
  }
  if (!strict) return;
  if (list(vi.unicast_peer).length > 0) {
    r.error([...base, 'unicast_peer'], 'unicast_peer is not allowed with vrrp_strict (RFC VRRP is multicast; keepalived refuses the instance)', 'remove unicast_peer or turn vrrp_strict off', true);
  }
  const changes = strictChanges(vi);
  if (changes.dropAuthentication) {
    r.warn([...base, 'authentication'], 'vrrp_strict: authentication is ignored (RFC 3768 and 5798 have none), adverts go without it', 'remove the authentication block', true);
  }
  if (changes.state) {
    r.warn([...base, 'state'], `vrrp_strict: state must match being the address owner (priority 255); running as ${changes.state}`, changes.state === 'MASTER' ? 'write state: MASTER' : 'use priority 255 for state MASTER, or state: BACKUP', true);
  }
  if (changes.resetPreemptDelay) {
    r.warn([...base, 'preempt_delay'], 'vrrp_strict: preempt_delay is not allowed; running with 0', 'remove preempt_delay', true);
  }
}

/** The global part: what strict mode means that ulvs cannot do, said once. */
export function checkStrictGlobals(globals: Obj, r: Findings): void {
  if (globals.vrrp_strict !== true) return;
  r.warn(['global_defs', 'vrrp_strict'], 'vrrp_strict: traffic to a VIP that no virtual_server takes is still answered by the kernel (keepalived\'s no_accept firewall rules: ulvs has no firewall)', 'drop it with your own nftables rules if you need RFC 3768 "no accept"', true);
}
