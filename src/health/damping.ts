/**
 * Health-state damping: keepalived's retry/alpha/warmup semantics plus ulvs's rise/fall.
 * Pure: no timers, no sockets. The shell (manager.ts) feeds probe results and clock values
 * and arms its timer for the returned `nextAt`.
 *
 * keepalived (check_http.c epilog/timeout_epilog, check_tcp.c): when a probe of a server
 * believed up (or never yet checked) fails, it is retried `retry` more times,
 * `delay_before_retry` apart; only when all of them fail is the server marked down. A server
 * already known down is not retried: its next probe is a delay_loop later. A success resets
 * the retry counter. We call one probe plus its retries a *cycle*.
 * ulvs adds rise/fall on top: the state changes after `rise` consecutive successful cycles
 * (going up) or `fall` consecutive failed cycles (going down). rise = fall = 1 is keepalived.
 */
import type { CheckResult, CheckerType, TimingParams } from './types.js';

export interface DampingConfig {
  delayLoopMs: number;
  retry: number;
  delayBeforeRetryMs: number;
  warmupMs: number;
  alpha: boolean;
  rise: number;
  fall: number;
  /** log_all_failures: every failed probe is logged, not only the change to down. */
  logAllFailures: boolean;
}

export interface DampingState {
  /** The state the rest of ulvs sees. */
  up: boolean;
  /** At least one cycle has finished. keepalived retries a never-checked server as if up. */
  hasRun: boolean;
  /** Failed probes so far in the current cycle. */
  retryIt: number;
  /** Consecutive successful cycles while down (toward rise). */
  okStreak: number;
  /** Consecutive failed cycles while up (toward fall). */
  failStreak: number;
  /** Weight from a dynamic checker's last success (misc_dynamic, dynamic file_check). */
  weight?: number;
  /** Weight adjustment from a dynamic file_check's last success. */
  weightDelta?: number;
  reason: string;
}

export interface DampingStep {
  state: DampingState;
  /** `up` changed, or the weight of an up server changed. */
  changed: boolean;
  /** A cycle ended with this result (false while retrying). */
  cycleDone: boolean;
  /** When to probe next (same clock as the `now` passed in). */
  nextAt: number;
}

/** keepalived's delay_loop default, seconds. */
export const DEFAULT_DELAY_LOOP_S = 60;

/** keepalived.conf(5): retry defaults to 1, except DNS_CHECK 3 and MISC_CHECK 0. */
export function defaultRetry(type: CheckerType): number {
  if (type === 'dns_check') return 3;
  if (type === 'misc_check') return 0;
  return 1;
}

/** keepalived.conf(5): delay_before_retry is delay_loop for DNS_CHECK, 3 s for HTTP/SSL, else 1 s. */
export function defaultDelayBeforeRetryS(type: CheckerType, delayLoopS: number): number {
  if (type === 'dns_check') return delayLoopS;
  if (type === 'http_get' || type === 'ssl_get') return 3;
  return 1;
}

function nonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function atLeastOne(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

/** Resolve keepalived defaults once, at configuration time. */
export function dampingConfig(type: CheckerType, p: TimingParams): DampingConfig {
  const delayLoopS = nonNegative(p.delay_loop) && p.delay_loop > 0 ? p.delay_loop : DEFAULT_DELAY_LOOP_S;
  const retry = nonNegative(p.retry) ? Math.floor(p.retry)
    : nonNegative(p.nb_get_retry) ? Math.floor(p.nb_get_retry) : defaultRetry(type);
  const dbrS = nonNegative(p.delay_before_retry) ? p.delay_before_retry
    : defaultDelayBeforeRetryS(type, delayLoopS);
  // keepalived: warmup "enabled by default, with the maximum at delay_loop".
  const warmupS = nonNegative(p.warmup) ? p.warmup : delayLoopS;
  return {
    logAllFailures: p.log_all_failures === true,
    delayLoopMs: delayLoopS * 1000,
    retry,
    delayBeforeRetryMs: dbrS * 1000,
    warmupMs: warmupS * 1000,
    alpha: p.alpha === true,
    rise: Math.max(atLeastOne(p.rise), recoveryProbes(type, p)),
    fall: atLeastOne(p.fall),
  };
}

/**
 * keepalived's HTTP_GET/SSL_GET check one url per run and, while a server is down (alpha at
 * start, or after a failure), wait delay_loop between urls: with N urls it comes up N
 * delay_loops after it recovered, or at once with fast_recovery (check_http.c epilog).
 * ulvs fetches every url in each probe, so the same pace is N consecutive good probes,
 * a delay_loop apart, before a down server is up again; fast_recovery makes it one.
 */
export function recoveryProbes(type: CheckerType, p: TimingParams): number {
  if (type !== 'http_get' && type !== 'ssl_get') return 1;
  if (p.fast_recovery === true) return 1;
  return Math.max(1, Array.isArray(p.url) ? p.url.length : 1);
}

/**
 * keepalived logs a failed probe of a server that is up (the ones it retries) only with
 * log_all_failures / checker_log_all_failures; the change to down is always logged.
 */
export function logsFailure(cfg: DampingConfig, before: DampingState, result: CheckResult): boolean {
  return cfg.logAllFailures && !result.ok && (before.up || !before.hasRun);
}

/** keepalived starts a server up unless alpha is set. */
export function initialDampingState(cfg: DampingConfig): DampingState {
  return {
    up: !cfg.alpha,
    hasRun: false,
    retryIt: 0,
    okStreak: 0,
    failStreak: 0,
    reason: cfg.alpha ? 'alpha: down until checked' : 'not yet checked',
  };
}

/** The random warmup delay before the first probe; `random01` in [0, 1) comes from the shell. */
export function firstProbeAt(cfg: DampingConfig, now: number, random01: number): number {
  const r = random01 >= 0 && random01 < 1 ? random01 : 0;
  return now + Math.floor(cfg.warmupMs * r);
}

/** Feed one probe result; returns the new state and when to probe next. */
export function applyProbeResult(
  cfg: DampingConfig,
  s: DampingState,
  result: CheckResult,
  now: number,
): DampingStep {
  if (result.ok) {
    const okStreak = s.up ? 0 : s.okStreak + 1;
    const up = s.up || okStreak >= cfg.rise;
    const state: DampingState = {
      up,
      hasRun: true,
      retryIt: 0,
      okStreak: up ? 0 : okStreak,
      failStreak: 0,
      weight: result.weight,
      weightDelta: result.weightDelta,
      reason: result.reason,
    };
    const changed = up !== s.up || (up && (result.weight !== s.weight || result.weightDelta !== s.weightDelta));
    return { state, changed, cycleDone: true, nextAt: now + cfg.delayLoopMs };
  }
  if ((s.up || !s.hasRun) && s.retryIt < cfg.retry) {
    return {
      state: { ...s, retryIt: s.retryIt + 1, reason: result.reason },
      changed: false,
      cycleDone: false,
      nextAt: now + cfg.delayBeforeRetryMs,
    };
  }
  const failStreak = s.up ? s.failStreak + 1 : 0;
  const up = s.up && failStreak < cfg.fall;
  const state: DampingState = {
    up,
    hasRun: true,
    retryIt: 0,
    okStreak: 0,
    failStreak: up ? failStreak : 0,
    weight: up ? s.weight : undefined,
    weightDelta: up ? s.weightDelta : undefined,
    reason: result.reason,
  };
  return { state, changed: up !== s.up, cycleDone: true, nextAt: now + cfg.delayLoopMs };
}

/**
 * Worst-case detection time of a failure (ms) for a server that is up: the formula the
 * issue measures against. A failure right after a successful probe is seen by the next
 * probe a delay_loop later; each probe may take connect_timeout; retries add delay_before_retry.
 */
export function detectionBoundMs(cfg: DampingConfig, connectTimeoutMs: number): number {
  const cycle = connectTimeoutMs * (cfg.retry + 1) + cfg.retry * cfg.delayBeforeRetryMs;
  return cfg.delayLoopMs + cycle + (cfg.fall - 1) * (cfg.delayLoopMs + cycle);
}
