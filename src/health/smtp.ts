/**
 * SMTP_CHECK as keepalived's check_smtp.c: connect, expect a 220 greeting, send
 * `HELO helo_name`, expect 250, send QUIT. Multi-line replies ("250-...") are read to their
 * last line. Anything else, a reply too long, or a reset is a failure.
 */
import type { CheckResult, CheckTarget, ConnectionParams, RunOptions } from './types.js';
import { probeEndpoint, timeoutMs } from './types.js';
import { connectTcp, runProbe } from './probe.js';

export interface SmtpCheckParams extends ConnectionParams {
  helo_name?: string;
}

/** keepalived's SMTP_DEFAULT_HELO. */
export const DEFAULT_HELO_NAME = 'smtpchecker.keepalived.org';
const MAX_REPLY_BYTES = 8192;

/** Pure: the code of a complete SMTP reply in `buf`, null if incomplete, NaN if garbage. */
export function smtpReplyCode(buf: string): number | null {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf('\n', start);
    if (nl < 0) return null;
    const line = buf.slice(start, nl).replace(/\r$/, '');
    const m = /^(\d{3})([ -]|$)/.exec(line);
    if (!m) return NaN;
    if (m[2] !== '-') return Number(m[1]);
    start = nl + 1;
  }
}

export function runSmtpCheck(target: CheckTarget, params: SmtpCheckParams, opts: RunOptions = {}): Promise<CheckResult> {
  const ep = probeEndpoint(target, params);
  const helo = params.helo_name ?? DEFAULT_HELO_NAME;
  return runProbe(timeoutMs(params), opts.signal, `SMTP timeout with ${ep.ip}:${ep.port}`, (ctx) => {
    const socket = connectTcp(ctx, ep, params);
    let stage: 'greeting' | 'helo' = 'greeting';
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REPLY_BYTES) { ctx.finish({ ok: false, reason: 'SMTP reply too long' }); return; }
      const code = smtpReplyCode(buf);
      if (code === null) return;
      buf = '';
      if (Number.isNaN(code)) { ctx.finish({ ok: false, reason: `SMTP garbage in ${stage}` }); return; }
      if (stage === 'greeting') {
        if (code !== 220) { ctx.finish({ ok: false, reason: `SMTP greeting ${code}` }); return; }
        stage = 'helo';
        socket.write(`HELO ${helo}\r\n`);
        return;
      }
      if (code !== 250) { ctx.finish({ ok: false, reason: `SMTP HELO answered ${code}` }); return; }
      socket.end('QUIT\r\n');
      ctx.finish({ ok: true, reason: 'SMTP 220/250' });
    });
    socket.once('end', () => ctx.finish({ ok: false, reason: `SMTP connection closed in ${stage}` }));
  });
}
