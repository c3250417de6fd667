import pino from 'pino';

/** The process-wide logger: JSON lines on stderr (stdout stays for command output). */
export function createLogger(level: string = process.env.ULVS_LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}
