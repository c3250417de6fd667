/** TCP_CHECK: up iff a TCP connection to connect_ip:connect_port completes in connect_timeout. */
import type { CheckResult, CheckTarget, ConnectionParams, RunOptions } from './types.js';
import { probeEndpoint, timeoutMs } from './types.js';
import { connectTcp, runProbe } from './probe.js';

export type TcpCheckParams = ConnectionParams;

export function runTcpCheck(target: CheckTarget, params: TcpCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  const ep = probeEndpoint(target, params);
  return runProbe(timeoutMs(params), opts.signal, `connect timeout to ${ep.ip}:${ep.port}`, (ctx) => {
    const socket = connectTcp(ctx, ep, params);
    socket.once('connect', () => ctx.finish({ ok: true, reason: `connected to ${ep.ip}:${ep.port}` }));
  });
}
