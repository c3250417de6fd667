/**
 * HTTP_GET / SSL_GET as keepalived runs them: a raw HTTP/1.0 (or 1.0C/1.1) GET with
 * keepalived's exact request text, read to EOF (or to Content-Length), then status_code,
 * digest (genhash's MD5) and regex are checked, in keepalived's order. SSL_GET does not verify
 * the certificate, like keepalived without an SSL block. ldirectord's `negotiate` check
 * (request + receive) is an http_get with one url and a regex: see negotiateAsHttpGet.
 *
 * Unlike keepalived, connect_timeout bounds the whole fetch (keepalived re-arms it per read),
 * so a server that trickles bytes is cut instead of holding the checker forever.
 */
import tls from 'node:tls';
import type net from 'node:net';
import type { CheckResult, CheckTarget, ConnectionParams, RunOptions } from './types.js';
import { probeEndpoint, timeoutMs, errorReason } from './types.js';
import { connectTcp, runProbe } from './probe.js';
import {
  HttpResponseReader, buildHttpRequest, parseStatusCodes, requestHost, statusMatches,
  type HttpProtocol, type HttpResponseSummary, type StatusCodeItem,
} from './http_response.js';

export interface HttpUrlParams {
  path: string;
  digest?: string;
  status_code?: StatusCodeItem | StatusCodeItem[];
  virtualhost?: string;
  regex?: string;
  regex_no_match?: boolean;
  /** keepalived's pcre2 option names; caseless, multiline, dotall are honoured. */
  regex_options?: string;
  /** keepalived: the match may start no earlier than this offset into the returned data. */
  regex_min_offset?: number;
  /** keepalived: the match must start at or before this offset. */
  regex_max_offset?: number;
}

/**
 * Does `re` match `subject` with its start inside [min, max] (keepalived's regex_min_offset /
 * regex_max_offset, pcre2 start_offset: text before min is still seen by lookbehinds)?
 */
export function regexMatchesWithin(re: RegExp, subject: string, min = 0, max = Infinity): boolean {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  g.lastIndex = Math.min(min, subject.length);
  const m = g.exec(subject);
  return m !== null && m.index <= max;
}

export interface HttpGetParams extends ConnectionParams {
  url: HttpUrlParams[];
  virtualhost?: string;
  http_protocol?: HttpProtocol;
  enable_sni?: boolean;
}

export interface HttpFetchRequest {
  path: string;
  virtualhost?: string;
  protocol?: HttpProtocol;
  tls: boolean;
  sni?: boolean;
}

export type HttpFetchOutcome =
  | { ok: true; summary: HttpResponseSummary; elapsedMs: number }
  | { ok: false; reason: string };

/** One GET with a hard deadline; shared by the checker and `ulvs genhash`. */
export async function fetchHttp(
  endpoint: CheckTarget,
  conn: ConnectionParams,
  req: HttpFetchRequest,
  opts: RunOptions = {},
): Promise<HttpFetchOutcome> {
  const started = performance.now();
  let summary: HttpResponseSummary | null = null;
  const host = requestHost(endpoint.ip, endpoint.port, req.virtualhost);
  const text = buildHttpRequest(req.path, host, req.protocol ?? '1.0');
  const result = await runProbe(timeoutMs(conn), opts.signal, `timeout fetching ${req.path}`, (ctx) => {
    const raw = connectTcp(ctx, endpoint, conn);
    let stream: net.Socket = raw;
    if (req.tls) {
      const sock = tls.connect({
        socket: raw,
        rejectUnauthorized: false,
        servername: req.sni && req.virtualhost ? req.virtualhost : undefined,
      });
      ctx.onSettle(() => sock.destroy());
      sock.on('error', (err) => ctx.finish({ ok: false, reason: `SSL error: ${errorReason(err)}` }));
      stream = sock;
    }
    const reader = new HttpResponseReader();
    const done = (): void => {
      if (!reader.headerComplete) { ctx.finish({ ok: false, reason: 'no HTTP response received' }); return; }
      summary = reader.summary();
      ctx.finish({ ok: true, reason: 'fetched' });
    };
    stream.once(req.tls ? 'secureConnect' : 'connect', () => stream.write(text));
    stream.on('data', (chunk: Buffer) => {
      reader.feed(chunk);
      if (reader.garbage) ctx.finish({ ok: false, reason: reader.garbage });
      else if (reader.bodyComplete) done();
    });
    stream.once('end', done);
  });
  if (!result.ok || !summary) return { ok: false, reason: result.reason };
  return { ok: true, summary, elapsedMs: performance.now() - started };
}

function regexFlags(options: string | undefined): string {
  let flags = '';
  for (const o of (options ?? '').split(/\s+/)) {
    if (o === 'caseless') flags += 'i';
    else if (o === 'multiline') flags += 'm';
    else if (o === 'dotall') flags += 's';
  }
  return flags;
}

/** Verdict on one fetched url, in keepalived's order: status, digest, regex. */
export function judgeHttpResponse(url: HttpUrlParams, s: HttpResponseSummary): CheckResult {
  const ranges = parseStatusCodes(url.status_code);
  if (!ranges) return { ok: false, reason: `bad status_code ${JSON.stringify(url.status_code)}` };
  if (!statusMatches(s.status, ranges)) {
    return { ok: false, reason: s.status === 0 ? `${url.path}: not an HTTP response` : `${url.path}: HTTP status code ${s.status}` };
  }
  if (url.digest !== undefined && url.digest.toLowerCase() !== s.digest) {
    return { ok: false, reason: `${url.path}: MD5 digest ${s.digest} != ${url.digest.toLowerCase()}` };
  }
  if (url.regex !== undefined) {
    let matched: boolean;
    // keepalived runs the regex over its first read buffer, header included, and ldirectord
    // users write `receive="Server"` (a header name); so the header is part of the subject.
    try {
      matched = regexMatchesWithin(new RegExp(url.regex, regexFlags(url.regex_options)), s.headerText + s.bodyText,
        url.regex_min_offset, url.regex_max_offset);
    }
    catch (err) { return { ok: false, reason: `bad regex: ${errorReason(err)}` }; }
    if (matched === (url.regex_no_match === true)) {
      return { ok: false, reason: `${url.path}: regex ${url.regex_no_match ? 'matched' : 'did not match'}` };
    }
  }
  return { ok: true, reason: `${url.path}: HTTP ${s.status}${url.digest ? ', digest ok' : ''}${url.regex ? ', regex ok' : ''}` };
}

function makeHttpChecker(useTls: boolean) {
  return async function run(target: CheckTarget, params: HttpGetParams, opts: RunOptions = {}): Promise<CheckResult> {
    try {
      const urls = params.url ?? [];
      // keepalived: "if there are no URLs in list, enable server w/o checking".
      if (urls.length === 0) return { ok: true, reason: 'no url to check' };
      const ep = probeEndpoint(target, params);
      let last: CheckResult = { ok: true, reason: '' };
      for (const url of urls) {
        const fetched = await fetchHttp(ep, params, {
          path: url.path,
          virtualhost: url.virtualhost ?? params.virtualhost,
          protocol: params.http_protocol,
          tls: useTls,
          sni: params.enable_sni,
        }, opts);
        if (!fetched.ok) return { ok: false, reason: `${url.path}: ${fetched.reason}` };
        last = judgeHttpResponse(url, fetched.summary);
        if (!last.ok) return last;
      }
      return last;
    } catch (err) {
      return { ok: false, reason: `internal: ${errorReason(err)}` };
    }
  };
}

export const runHttpGet = makeHttpChecker(false);
export const runSslGet = makeHttpChecker(true);

/** ldirectord's checktype=negotiate (service=http/https): GET request, search receive. */
export interface NegotiateParams extends ConnectionParams {
  request: string;
  receive: string;
  virtualhost?: string;
}

export function negotiateAsHttpGet(p: NegotiateParams): HttpGetParams {
  const { request, receive, virtualhost, ...conn } = p;
  // ldirectord requests "/$request" when the request has no leading slash, and needs a
  // successful (2xx) response whose content matches receive: keepalived's default range.
  const path = request.startsWith('/') ? request : `/${request}`;
  return { ...conn, virtualhost, url: [{ path, regex: receive }] };
}
