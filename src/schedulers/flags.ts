// keepalived's scheduler flag names (lvs_flags / lb_algo options) -> SchedulerFlags.
// IPVS has three generic bits; keepalived names SCHED1 sh-fallback / mh-fallback and SCHED2
// sh-port / mh-port, and also accepts them as flag-1 / flag-2. `ops` (one-packet scheduling)
// is a property of the service, not of the scheduler, so it is returned apart.

import type { SchedulerFlags, SchedulerName } from './types.js';

export const SCHEDULER_FLAG_NAMES = ['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback', 'flag-1', 'flag-2', 'flag-3', 'hashed', 'ops'] as const;

export interface ParsedSchedulerFlags {
  flags: SchedulerFlags;
  ops: boolean;
  /** One message per bad flag, each naming the flag; empty when all are fine. */
  errors: string[];
}

export function parseSchedulerFlags(scheduler: SchedulerName, names: readonly string[]): ParsedSchedulerFlags {
  const flags: SchedulerFlags = {};
  const errors: string[] = [];
  let ops = false;
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    switch (name) {
      case 'ops':
        ops = true;
        break;
      case 'hashed':
        break; // IPVS sets IP_VS_SVC_F_HASHED itself; accepted for old configs, no effect
      case 'sh-port':
      case 'sh-fallback':
        if (scheduler !== 'sh') errors.push(`${name} applies only to lb_algo sh, this service uses ${scheduler}${scheduler === 'mh' ? ` (use ${name.replace('sh-', 'mh-')})` : ''}`);
        else if (name === 'sh-port') flags.shPort = true;
        else flags.shFallback = true;
        break;
      case 'mh-port':
      case 'mh-fallback':
        if (scheduler !== 'mh') errors.push(`${name} applies only to lb_algo mh, this service uses ${scheduler}${scheduler === 'sh' ? ` (use ${name.replace('mh-', 'sh-')})` : ''}`);
        else if (name === 'mh-port') flags.mhPort = true;
        else flags.mhFallback = true;
        break;
      case 'flag-1':
      case 'flag-2': {
        const fallback = name === 'flag-1';
        if (scheduler === 'sh') fallback ? (flags.shFallback = true) : (flags.shPort = true);
        else if (scheduler === 'mh') fallback ? (flags.mhFallback = true) : (flags.mhPort = true);
        else errors.push(`${name} has no meaning for lb_algo ${scheduler} (it is ${fallback ? 'sh-fallback / mh-fallback' : 'sh-port / mh-port'})`);
        break;
      }
      case 'flag-3':
        errors.push('flag-3 has no meaning for any scheduler');
        break;
      default:
        errors.push(`unknown scheduler flag "${raw}" (known: ${SCHEDULER_FLAG_NAMES.join(', ')})`);
    }
  }
  return { flags, ops, errors };
}

/** Flags as ipvsadm -L prints them after the scheduler name. */
export function formatSchedulerFlags(flags: SchedulerFlags): string[] {
  const out: string[] = [];
  if (flags.shFallback) out.push('sh-fallback');
  if (flags.shPort) out.push('sh-port');
  if (flags.mhFallback) out.push('mh-fallback');
  if (flags.mhPort) out.push('mh-port');
  return out;
}
