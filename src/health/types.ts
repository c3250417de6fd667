/**
 * Shapes shared by the checkers, the damping core and the manager.
 * Parameter names are keepalived's (snake_case, as CONFIG.md says); times are seconds
 * (keepalived <TIMER>, fractions allowed) and are converted to ms only at the timer edge.
 */

/** The real server a check is about (its configured ip:port). */
export interface CheckTarget {
  ip: string;
  port: number;
}

/** One probe's verdict. `reason` is always set so a failure never hides in a log line. */
export interface CheckResult {
  ok: boolean;
  /** Set by misc_dynamic: the weight the real server should get (exit status - 2). */
  weight?: number;
  /** Set by a dynamic file_check: added to the real server's weight (keepalived track_file). */
  weightDelta?: number;
  reason: string;
}

/** Options every run gets from its caller. */
export interface RunOptions {
  /** Aborting cuts the probe at once (manager shutdown). */
  signal?: AbortSignal;
}

/** keepalived's generic connection options, present on every checker except misc/file. */
export interface ConnectionParams {
  connect_ip?: string;
  connect_port?: number;
  bindto?: string;
  bind_port?: number;
  /** seconds; keepalived default 5. In ulvs it bounds the whole probe, not each I/O step. */
  connect_timeout?: number;
}

/** Timing and damping options every checker accepts (keepalived's plus ulvs rise/fall). */
export interface TimingParams {
  delay_loop?: number;
  retry?: number;
  /** keepalived's old name for retry. */
  nb_get_retry?: number;
  delay_before_retry?: number;
  warmup?: number;
  alpha?: boolean;
  /** ulvs: consecutive successful cycles needed to go up (default 1, as keepalived). */
  rise?: number;
  /** ulvs: consecutive failed cycles needed to go down (default 1, as keepalived). */
  fall?: number;
  /** keepalived log_all_failures (or global checker_log_all_failures): log every failed probe. */
  log_all_failures?: boolean;
  /** HTTP_GET/SSL_GET: come up once every url passed, without a delay_loop between urls. */
  fast_recovery?: boolean;
  /** HTTP_GET/SSL_GET: the urls (their count sets the recovery pace without fast_recovery). */
  url?: unknown[];
}

export type CheckerType =
  | 'tcp_check'
  | 'http_get'
  | 'ssl_get'
  | 'smtp_check'
  | 'dns_check'
  | 'udp_check'
  | 'ping_check'
  | 'misc_check'
  | 'file_check';

/** keepalived's connect_timeout default, seconds. */
export const DEFAULT_CONNECT_TIMEOUT_S = 5;

/** Seconds -> ms, with keepalived's default when unset or not a positive number. */
export function timeoutMs(params: ConnectionParams): number {
  const s = params.connect_timeout;
  return (typeof s === 'number' && s > 0 ? s : DEFAULT_CONNECT_TIMEOUT_S) * 1000;
}

/** The address/port a probe really goes to (connect_ip/connect_port override the target). */
export function probeEndpoint(target: CheckTarget, params: ConnectionParams): CheckTarget {
  return { ip: params.connect_ip ?? target.ip, port: params.connect_port ?? target.port };
}

/** Never lets an exception out of a checker: a bug in a probe is a failed probe. */
export function failure(reason: string): CheckResult {
  return { ok: false, reason };
}

export function errorReason(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}
