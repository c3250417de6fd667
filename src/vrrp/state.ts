// The VRRP state machine of RFC 3768 6.4 / RFC 5798 6.4 as a pure function: no timers, no
// sockets, no clock. The shell (speaker.ts) feeds it events with the current time and
// carries out the actions it returns. One timer per instance: Adver_Timer while MASTER,
// Master_Down_Timer while BACKUP; `setTimer` replaces whichever is armed.

import { addressKeyText, type AddressKey } from './address-key.js';
import type { VrrpVersion } from './codec.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

export const PRIORITY_OWNER = 255;
export const PRIORITY_STOP = 0;

/** What the state machine needs from configuration and tracking; priority is the effective one. */
export interface InstanceParams {
  version: VrrpVersion;
  /** Own Advertisement_Interval in centiseconds (v2: multiple of 100). */
  advertIntervalCs: number;
  priority: number;
  /** The configured (base) priority: 255 makes us the address owner. */
  basePriority: number;
  preempt: boolean;
  preemptDelayMs: number;
  /** keepalived's `state`: MASTER means "take over at once unless a better master speaks". */
  initialState: 'MASTER' | 'BACKUP';
  /** Our primary address (or unicast_src_ip; IPv6: our link-local), the tie-breaker of RFC 3768 6.4.3. */
  primaryIp: AddressKey;
  /**
   * vrrp_strict (keepalived's strict mode): a MASTER does not answer a lower-priority advert
   * with one of its own (lower_prio_no_advert), and the address owner (priority 255) ignores
   * adverts (owner_ignore_adverts). Unset: keepalived's default behaviour.
   */
  strict?: boolean;
}

export interface InstanceRuntime {
  state: VrrpState;
  /** Master_Adver_Interval: v3 learns it from the Master's adverts; v2 it is ours. */
  masterAdverIntervalCs: number;
  /** Address of the router we believe is Master (ourselves when MASTER), or null. */
  masterIp: AddressKey | null;
  /** Lower-priority masters are tolerated until this time (preempt_delay). */
  preemptAfter: number;
  lastTransition: { at: number; from: VrrpState; to: VrrpState; reason: string } | null;
}

export type VrrpEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  | { type: 'timer' }
  | { type: 'advert'; priority: number; srcIp: AddressKey; intervalCs: number }
  /** Tracking says the instance cannot work (link down, weight-0 script failed). */
  | { type: 'fault'; why: string }
  | { type: 'faultCleared' }
  /** A member of our sync group moved; follow it (keepalived vrrp_sync_groups). */
  | { type: 'sync'; to: 'MASTER' | 'BACKUP' | 'FAULT'; why: string };

export type VrrpAction =
  | { type: 'sendAdvert'; priority: number }
  | { type: 'addVips' }
  | { type: 'removeVips' }
  | { type: 'sendGarp' }
  | { type: 'setTimer'; at: number }
  | { type: 'cancelTimer' }
  | { type: 'notify'; state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' };

export interface StepResult { runtime: InstanceRuntime; actions: VrrpAction[] }

export function initialRuntime(params: InstanceParams): InstanceRuntime {
  return {
    state: 'INIT', masterAdverIntervalCs: params.advertIntervalCs, masterIp: null,
    preemptAfter: 0, lastTransition: null,
  };
}

/** Skew_Time in ms: v2 (256-Priority)/256 s; v3 ((256-Priority)*Master_Adver_Interval)/256 cs. */
export function skewTimeMs(params: InstanceParams, masterAdverIntervalCs: number): number {
  if (params.version === 2) return ((256 - params.priority) * 1000) / 256;
  return ((256 - params.priority) * masterAdverIntervalCs * 10) / 256;
}

/** Master_Down_Interval in ms: 3 * Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(params: InstanceParams, masterAdverIntervalCs: number): number {
  const interval = params.version === 2 ? params.advertIntervalCs : masterAdverIntervalCs;
  return 3 * interval * 10 + skewTimeMs(params, interval);
}

function advertIntervalMs(params: InstanceParams): number {
  return params.advertIntervalCs * 10;
}

export function step(params: InstanceParams, rt: InstanceRuntime, ev: VrrpEvent, now: number): StepResult {
  const actions: VrrpAction[] = [];
  const next: InstanceRuntime = { ...rt };

  const transition = (to: VrrpState, reason: string): void => {
    next.lastTransition = { at: now, from: next.state, to, reason };
    next.state = to;
  };
  const becomeMaster = (reason: string): void => {
    actions.push({ type: 'sendAdvert', priority: params.priority }, { type: 'addVips' }, { type: 'sendGarp' });
    actions.push({ type: 'setTimer', at: now + advertIntervalMs(params) });
    next.masterIp = params.primaryIp;
    next.masterAdverIntervalCs = params.advertIntervalCs;
    transition('MASTER', reason);
    actions.push({ type: 'notify', state: 'MASTER' });
  };
  const becomeBackup = (reason: string, masterIp: AddressKey | null, timerAt: number): void => {
    const wasMaster = next.state === 'MASTER';
    if (wasMaster) actions.push({ type: 'removeVips' });
    next.masterIp = masterIp;
    actions.push({ type: 'setTimer', at: timerAt });
    // preempt_delay counts from startup and from every entry to BACKUP (keepalived).
    next.preemptAfter = now + params.preemptDelayMs;
    transition('BACKUP', reason);
    actions.push({ type: 'notify', state: 'BACKUP' });
  };
  const becomeFault = (reason: string): void => {
    // Leaving MASTER for FAULT: hand over at once with a priority-0 advert (as keepalived).
    if (next.state === 'MASTER') actions.push({ type: 'sendAdvert', priority: PRIORITY_STOP }, { type: 'removeVips' });
    actions.push({ type: 'cancelTimer' });
    next.masterIp = null;
    transition('FAULT', reason);
    actions.push({ type: 'notify', state: 'FAULT' });
  };
  const downInterval = (): number => masterDownIntervalMs(params, next.masterAdverIntervalCs);
  // Startup and leaving FAULT share this (RFC 6.4.1, keepalived's init).
  const start = (reason: string): void => {
    next.masterAdverIntervalCs = params.advertIntervalCs;
    if (params.basePriority === PRIORITY_OWNER) becomeMaster(`${reason}: address owner (priority 255)`);
    // keepalived: `state MASTER` is a Backup whose Master_Down_Timer expires at once.
    else if (params.initialState === 'MASTER') becomeBackup(`${reason}: state MASTER, claiming`, null, now);
    else becomeBackup(reason, null, now + downInterval());
  };

  switch (ev.type) {
    case 'startup':
      if (rt.state === 'INIT') start('startup');
      break;

    case 'shutdown':
      if (rt.state === 'MASTER') {
        // RFC 6.4.3: send an advert with priority 0 so a Backup takes over after Skew_Time.
        actions.push({ type: 'sendAdvert', priority: PRIORITY_STOP }, { type: 'removeVips' });
      }
      if (rt.state !== 'INIT') {
        actions.push({ type: 'cancelTimer' });
        next.masterIp = null;
        transition('INIT', 'shutdown');
        actions.push({ type: 'notify', state: 'STOP' });
      }
      break;

    case 'timer':
      if (rt.state === 'MASTER') {
        actions.push({ type: 'sendAdvert', priority: params.priority });
        actions.push({ type: 'setTimer', at: now + advertIntervalMs(params) });
      } else if (rt.state === 'BACKUP') {
        becomeMaster(rt.masterIp === null && params.initialState === 'MASTER' && rt.lastTransition?.from === 'INIT'
          ? 'no master heard after startup' : 'master down timer expired');
      }
      break;

    case 'advert':
      if (rt.state === 'BACKUP') {
        if (ev.priority === PRIORITY_STOP) {
          // RFC 6.4.2: the Master is leaving; take over after Skew_Time.
          actions.push({ type: 'setTimer', at: now + skewTimeMs(params, next.masterAdverIntervalCs) });
          next.masterIp = null;
        } else if (!params.preempt || ev.priority >= params.priority || now < rt.preemptAfter) {
          if (params.version === 3) next.masterAdverIntervalCs = ev.intervalCs;
          next.masterIp = ev.srcIp;
          actions.push({ type: 'setTimer', at: now + downInterval() });
        }
        // else: a lower-priority Master and we preempt: ignore it, our timer will fire.
      } else if (rt.state === 'MASTER') {
        if (params.strict && params.basePriority === PRIORITY_OWNER) break;
        if (ev.priority === PRIORITY_STOP) {
          // RFC 6.4.3: another router left; assert ourselves at once.
          actions.push({ type: 'sendAdvert', priority: params.priority });
          actions.push({ type: 'setTimer', at: now + advertIntervalMs(params) });
        } else if (ev.priority > params.priority || (ev.priority === params.priority && ev.srcIp > params.primaryIp)) {
          if (params.version === 3) next.masterAdverIntervalCs = ev.intervalCs;
          becomeBackup(`higher priority advert from ${ipText(ev.srcIp)} (priority ${ev.priority})`, ev.srcIp,
            now + masterDownIntervalMs(params, next.masterAdverIntervalCs));
        } else if (!params.strict) {
          // A lower-priority Master: keepalived answers with an advert at once so it steps down.
          actions.push({ type: 'sendAdvert', priority: params.priority });
          actions.push({ type: 'setTimer', at: now + advertIntervalMs(params) });
        }
      }
      break;

    case 'fault':
      // From INIT too: an instance whose tracking fails at startup enters FAULT directly,
      // never holding its VIPs for a moment (keepalived: "Entering FAULT STATE (init)").
      if (rt.state !== 'FAULT') becomeFault(ev.why);
      break;

    case 'faultCleared':
      if (rt.state === 'FAULT') start('fault cleared');
      break;

    case 'sync':
      if (rt.state === 'INIT' || rt.state === ev.to) break;
      if (ev.to === 'FAULT') becomeFault(ev.why);
      else if (rt.state === 'FAULT') break; // a faulty member stays faulty; its own recovery restarts it
      else if (ev.to === 'MASTER') becomeMaster(ev.why);
      else becomeBackup(ev.why, null, now + downInterval());
      break;
  }
  return { runtime: next, actions };
}

function ipText(ip: AddressKey): string {
  return addressKeyText(ip);
}
