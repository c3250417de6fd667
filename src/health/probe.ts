/**
 * The one place that turns callback-style socket work into a probe that always settles:
 * exactly one result, at the latest at its deadline or when aborted, with every socket,
 * timer and child cleaned up. Checkers never throw; an exception inside a probe is a
 * failed probe.
 */
import net from 'node:net';
import type { CheckResult, CheckTarget, ConnectionParams } from './types.js';
import { errorReason } from './types.js';

export interface ProbeContext {
  /** Settle the probe (first call wins). */
  finish(result: CheckResult): void;
  /** Run on settle, in reverse order of registration. */
  onSettle(cleanup: () => void): void;
  readonly settled: boolean;
}

export function runProbe(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  /** A failure reason, or the whole result when silence until the deadline is success (udp_check). */
  onTimeout: string | CheckResult,
  body: (ctx: ProbeContext) => void | Promise<void>,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const cleanups: Array<() => void> = [];
    let settled = false;
    const ctx: ProbeContext = {
      finish(result) {
        if (settled) return;
        settled = true;
        for (let i = cleanups.length - 1; i >= 0; i--) {
          try { cleanups[i](); } catch { /* cleanup must not mask the result */ }
        }
        resolve(result);
      },
      onSettle(cleanup) {
        if (settled) { try { cleanup(); } catch { /* ignore */ } return; }
        cleanups.push(cleanup);
      },
      get settled() { return settled; },
    };
    if (signal?.aborted) { ctx.finish({ ok: false, reason: 'aborted' }); return; }
    const timeoutResult: CheckResult = typeof onTimeout === 'string' ? { ok: false, reason: onTimeout } : onTimeout;
    const timer = setTimeout(() => ctx.finish(timeoutResult), timeoutMs);
    ctx.onSettle(() => clearTimeout(timer));
    if (signal) {
      const onAbort = (): void => ctx.finish({ ok: false, reason: 'aborted' });
      signal.addEventListener('abort', onAbort, { once: true });
      ctx.onSettle(() => signal.removeEventListener('abort', onAbort));
    }
    try {
      const p = body(ctx);
      if (p && typeof (p as Promise<void>).catch === 'function') {
        (p as Promise<void>).catch((err) => ctx.finish({ ok: false, reason: `internal: ${errorReason(err)}` }));
      }
    } catch (err) {
      ctx.finish({ ok: false, reason: `internal: ${errorReason(err)}` });
    }
  });
}

/**
 * net.connect with keepalived's bindto/bind_port, owned by the probe: destroyed on settle,
 * and any socket error settles the probe as a failure (RST, refused, unreachable).
 */
export function connectTcp(ctx: ProbeContext, endpoint: CheckTarget, params: ConnectionParams): net.Socket {
  const opts: net.NetConnectOpts = { host: endpoint.ip, port: endpoint.port, noDelay: true };
  if (params.bindto) opts.localAddress = params.bindto;
  if (params.bind_port) opts.localPort = params.bind_port;
  const socket = net.connect(opts);
  ctx.onSettle(() => socket.destroy());
  socket.on('error', (err) => ctx.finish({ ok: false, reason: `connect/read error: ${errorReason(err)}` }));
  return socket;
}
