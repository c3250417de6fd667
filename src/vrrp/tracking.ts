// Tracking as keepalived does it: each tracked object either forces FAULT (weight 0) or
// moves the priority by its weight. Pure: the shell feeds results, these compute.

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
