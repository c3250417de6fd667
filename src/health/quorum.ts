/**
 * Virtual-server quorum and sorry server, pure, as keepalived's ipwrapper.c
 * (update_quorum_state): the live weight is the sum of the weights of live real servers;
 * quorum is gained when it reaches quorum + hysteresis and lost when it falls below
 * quorum - hysteresis (or to 0). The sorry server serves iff quorum is down, which with
 * keepalived's default quorum of 1 means: no real server with weight is up.
 */
export interface QuorumConfig {
  quorum?: number;
  hysteresis?: number;
}

export interface LiveServer {
  up: boolean;
  weight: number;
}

export function liveWeight(servers: Iterable<LiveServer>): number {
  let sum = 0;
  for (const s of servers) if (s.up) sum += Math.max(0, s.weight);
  return sum;
}

function q(cfg: QuorumConfig): { quorum: number; hysteresis: number } {
  return { quorum: cfg.quorum ?? 1, hysteresis: cfg.hysteresis ?? 0 };
}

/** keepalived set_quorum_states: at start quorum is up iff live >= quorum + hysteresis. */
export function initialQuorumUp(live: number, cfg: QuorumConfig): boolean {
  const { quorum, hysteresis } = q(cfg);
  return live >= quorum + hysteresis;
}

export interface QuorumStep {
  up: boolean;
  changed: boolean;
  /** The threshold that was compared against (for logs: "quorum+hysteresis=threshold <= live"). */
  threshold: number;
}

export function nextQuorumState(wasUp: boolean, live: number, cfg: QuorumConfig): QuorumStep {
  const { quorum, hysteresis } = q(cfg);
  const threshold = quorum + (wasUp ? -1 : 1) * hysteresis;
  if (!wasUp && live >= threshold) return { up: true, changed: true, threshold };
  if (wasUp && (live === 0 || live < threshold)) return { up: false, changed: true, threshold };
  return { up: wasUp, changed: false, threshold };
}

/** keepalived: "If a sorry server is configured, all real servers will be brought down when
 * the quorum is not achieved and be replaced with the sorry server." */
export function sorryServerActive(quorumUp: boolean, hasSorryServer: boolean): boolean {
  return hasSorryServer && !quorumUp;
}
