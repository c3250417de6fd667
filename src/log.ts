import pino from 'pino';

/** The process-wide logger: JSON lines on stderr (stdout stays for command output). */
export function createLogger(level: string = process.env.ULVS_LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}

/** The level a director logs at: ULVS_LOG_LEVEL when set (one run's override), else the config's. */
export function effectiveLogLevel(configured: string, fromEnv: string | undefined): string {
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : configured;
}
