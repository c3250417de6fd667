// Tracking as keepalived does it: each tracked object either forces FAULT (weight 0) or
// moves the priority by its weight. Pure: the shell feeds results, these compute.
import type { VrrpInstanceConfig } from './config.js';

/** A tracked object's current contribution. */
export interface TrackedState {
  name: string;
  /** keepalived's weight. 0: failure means FAULT. >0: added while up. <0: added while down. */
  weight: number;
  up: boolean;
  /** track_file only: the file's number (weight multiplies it; 0 weight: non-zero = FAULT). */
  fileValue?: number;
}

export interface PriorityResult {
  effective: number;
  /** Names of the tracked objects that put the instance in FAULT; empty when none. */
  faultBy: string[];
}

/**
 * Effective priority: base plus the weights that apply, clamped to 1..254 (keepalived).
 * An address owner (255) never moves: keepalived refuses weights on it.
 */
export function effectivePriority(basePriority: number, tracked: readonly TrackedState[]): PriorityResult {
  const faultBy: string[] = [];
  let delta = 0;
  for (const t of tracked) {
    if (t.fileValue !== undefined) {
      if (t.weight === 0) { if (t.fileValue !== 0) faultBy.push(t.name); }
      else delta += t.weight * t.fileValue;
      continue;
    }
    if (t.weight === 0) { if (!t.up) faultBy.push(t.name); }
    else if (t.weight > 0 && t.up) delta += t.weight;
    else if (t.weight < 0 && !t.up) delta += t.weight;
  }
  if (basePriority === 255) return { effective: 255, faultBy };
  return { effective: Math.min(254, Math.max(1, basePriority + delta)), faultBy };
}

/**
 * rise/fall damping for vrrp_scripts: the result flips only after `rise` consecutive
 * successes or `fall` consecutive failures. A script starts up, as keepalived's do unless
 * `init_fail` is set.
 */
export class RiseFall {
  private streak = 0;
  up: boolean;
  constructor(private readonly rise: number, private readonly fall: number, initiallyUp = true) {
    this.up = initiallyUp;
  }

  /** Records one result; returns true when `up` changed. */
  record(ok: boolean): boolean {
    if (ok === this.up) { this.streak = 0; return false; }
    this.streak++;
    if (this.streak >= (ok ? this.rise : this.fall)) {
      this.up = ok;
      this.streak = 0;
      return true;
    }
    return false;
  }
}

/** What tracking needs to know of a vrrp_script: its configured weight and current verdict. */
export interface ScriptVerdict { weight?: number; up: boolean }

export interface InstanceTracking {
  tracked: TrackedState[];
  /** track_script name -> index in `tracked`, so a script's verdict lands on its entry. */
  scriptNames: Map<string, number>;
}

/** The prefix of the entry for the instance's own interface (kept across reloads). */
export const OWN_INTERFACE_PREFIX = 'own:';

/**
 * The tracked objects of an instance, from its track_interface, track_script and track_file.
 * `previous` (a reload): objects that stay keep what was last read (link state, file value),
 * so a reload does not move the priority by itself. Throws on a track_script that is not a
 * vrrp_script.
 */
export function buildTracking(
  cfg: VrrpInstanceConfig, scripts: (name: string) => ScriptVerdict | undefined, previous: readonly TrackedState[],
): InstanceTracking {
  const tracked: TrackedState[] = [];
  const scriptNames = new Map<string, number>();
  const was = (name: string): TrackedState | undefined => previous.find((p) => p.name === name);
  // keepalived's `reverse`: the weight moves the priority the other way.
  const signed = (weight: number, reverse: boolean | undefined): number => (reverse ? -weight : weight);
  for (const t of cfg.track_interface ?? []) {
    const name = typeof t === 'string' ? t : t.name;
    const weight = typeof t === 'string' ? 0 : signed(t.weight ?? 0, t.reverse);
    tracked.push({ name: `interface:${name}`, weight, up: was(`interface:${name}`)?.up ?? true });
  }
  for (const t of cfg.track_script ?? []) {
    const name = typeof t === 'string' ? t : t.name;
    const script = scripts(name);
    if (!script) throw new Error(`vrrp_instance ${cfg.name}: track_script ${name} is not a vrrp_script`);
    const weight = typeof t === 'string' ? script.weight ?? 0 : signed(t.weight ?? script.weight ?? 0, t.reverse);
    scriptNames.set(name, tracked.length);
    tracked.push({ name: `script:${name}`, weight, up: script.up });
  }
  for (const t of cfg.track_file ?? []) {
    const before = was(`file:${t.name}`);
    tracked.push({ name: `file:${t.name}`, weight: signed(t.weight ?? 1, t.reverse), up: true, fileValue: before?.fileValue ?? 0 });
  }
  const own = previous.find((p) => p.name.startsWith(OWN_INTERFACE_PREFIX));
  if (own && !cfg.dont_track_primary) tracked.push(own);
  return { tracked, scriptNames };
}

/** Why the instance's own tracking puts it in FAULT, or null. */
export function trackingFaultReason(basePriority: number, tracked: readonly TrackedState[]): string | null {
  const { faultBy } = effectivePriority(basePriority, tracked);
  return faultBy.length > 0 ? `tracking: ${faultBy.join(', ')} failed` : null;
}
