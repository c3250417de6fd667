// Upper/lower connection thresholds (ipvsadm -x/-y, keepalived uthreshold/lthreshold) with
// IPVS's exact hysteresis (ip_vs_conn.c ip_vs_bind_dest / ip_vs_unbind_dest, ip_vs_ctl.c
// __ip_vs_update_dest). Counted connections are active + inactive (ip_vs_dest_totalconns);
// persistence templates do not count. conntrack calls these right after changing the counters.

import type { RealServerSet } from './types.js';

function totalConns(set: RealServerSet, i: number): number {
  return set.activeConns[i] + set.inactiveConns[i];
}

/** After a new connection was counted on server i: overloaded once total >= uthreshold. */
export function markOverloadOnBind(set: RealServerSet, i: number): void {
  const upper = set.uthreshold[i];
  if (upper !== 0 && totalConns(set, i) >= upper) set.overloaded[i] = 1;
}

/**
 * After a connection left server i: the flag clears below lthreshold, or, when lthreshold is 0,
 * below 3/4 of uthreshold (total * 4 < u * 3); with no thresholds at all it always clears.
 */
export function clearOverloadOnUnbind(set: RealServerSet, i: number): void {
  const lower = set.lthreshold[i];
  const upper = set.uthreshold[i];
  const total = totalConns(set, i);
  if (lower !== 0) {
    if (total < lower) set.overloaded[i] = 0;
  } else if (upper !== 0) {
    if (total * 4 < upper * 3) set.overloaded[i] = 0;
  } else {
    set.overloaded[i] = 0;
  }
}

/** Control plane: new thresholds for server i. Raising or removing the upper one clears the flag. */
export function applyThresholds(set: RealServerSet, i: number, upper: number, lower: number): void {
  if (upper === 0 || upper > set.uthreshold[i]) set.overloaded[i] = 0;
  set.uthreshold[i] = upper;
  set.lthreshold[i] = lower;
}

/** Config check: the message for thresholds that contradict each other, or null. */
export function checkThresholds(upper: number, lower: number): string | null {
  if (!Number.isInteger(upper) || upper < 0 || upper > 0xffffffff) return 'uthreshold must be an integer 0..4294967295';
  if (!Number.isInteger(lower) || lower < 0 || lower > 0xffffffff) return 'lthreshold must be an integer 0..4294967295';
  if (upper !== 0 && lower > upper) return `lthreshold ${lower} is above uthreshold ${upper} (lthreshold must be <= uthreshold)`;
  return null;
}
