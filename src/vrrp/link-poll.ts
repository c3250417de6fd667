// Link state and track_file values, read by polling (keepalived listens to netlink; a 200 ms
// poll is close enough). The reads are the I/O; what they change in an instance's tracking
// is worked out here too, so the speaker only asks "did anything change?".
import { readFile } from 'node:fs/promises';

import type { VrrpInstanceConfig } from './config.js';
import { OWN_INTERFACE_PREFIX, type TrackedState } from './tracking.js';

export interface PolledInstance {
  cfg: VrrpInstanceConfig;
  tracked: TrackedState[];
}

/** A link reader for one poll: each interface is read once however many instances track it. */
export function linkReaderForOnePoll(): (ifname: string) => Promise<boolean> {
  const cache = new Map<string, boolean>();
  return async (name) => {
    let up = cache.get(name);
    if (up === undefined) { up = await readLinkUp(name); cache.set(name, up); }
    return up;
  };
}

/**
 * Updates the instance's track_interface, track_file and own-interface entries from fresh
 * reads. Returns true when one of them changed.
 */
export async function refreshPolledTracking(inst: PolledInstance, linkUp: (ifname: string) => Promise<boolean>): Promise<boolean> {
  let changed = false;
  for (const t of inst.tracked) {
    if (t.name.startsWith('interface:')) {
      const up = await linkUp(t.name.slice('interface:'.length));
      if (up !== t.up) { t.up = up; changed = true; }
    }
  }
  for (const f of inst.cfg.track_file ?? []) {
    const t = inst.tracked.find((x) => x.name === `file:${f.name}`);
    if (!t) continue;
    const value = await readTrackFile(f.file);
    if (value !== t.fileValue) { t.fileValue = value; changed = true; }
  }
  // keepalived always tracks the instance's own interface (down means FAULT), unless dont_track_primary.
  if (inst.cfg.dont_track_primary) return changed;
  const ownUp = await linkUp(inst.cfg.interface);
  const ownKey = `${OWN_INTERFACE_PREFIX}${inst.cfg.interface}`;
  let own = inst.tracked.find((x) => x.name === ownKey);
  if (!own) { own = { name: ownKey, weight: 0, up: true }; inst.tracked.push(own); }
  if (own.up !== ownUp) { own.up = ownUp; changed = true; }
  return changed;
}

/**
 * Polls every instance's link and file tracking, on a timer and on demand; one poll at a time.
 * `onChanged`: an instance whose tracking moved (the speaker applies it).
 */
export class TrackingPoller<T extends PolledInstance> {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly instances: () => readonly T[], private readonly onChanged: (inst: T) => void) {}

  /** Polls now and resolves when done; a poll already running makes this one a no-op. */
  async pollNow(): Promise<void> {
    if (this.stopped || this.inFlight) return;
    this.inFlight = this.pollOnce();
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
  }

  /** Resolves once the poll in progress, if any, is done. */
  async settled(): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  startEvery(intervalMs: number): void {
    this.timer = setInterval(() => { void this.pollNow(); }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async pollOnce(): Promise<void> {
    const linkUp = linkReaderForOnePoll();
    for (const inst of this.instances()) {
      if (await refreshPolledTracking(inst, linkUp)) this.onChanged(inst);
    }
  }
}

export async function readLinkUp(ifname: string): Promise<boolean> {
  try {
    const state = (await readFile(`/sys/class/net/${ifname}/operstate`, 'utf8')).trim();
    if (state === 'down' || state === 'lowerlayerdown' || state === 'notpresent') return false;
    // 'unknown' (lo, some tun devices) counts as up when the carrier is present.
    const carrier = (await readFile(`/sys/class/net/${ifname}/carrier`, 'utf8')).trim();
    return carrier === '1';
  } catch {
    return false;
  }
}

/** keepalived's track_file: the file holds an integer; a missing or unreadable file reads as 0. */
export async function readTrackFile(path: string): Promise<number> {
  try {
    const n = parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}
