/**
 * Pure pieces of HTTP_GET/SSL_GET, byte-compatible with keepalived's check_http.c and genhash:
 * the request text, status_code lists, and a streaming response reader that hashes the body
 * the way keepalived does (MD5 of the bytes after the header's blank line, capped at
 * Content-Length when present; chunked framing is NOT decoded, exactly as genhash).
 */
import { createHash, type Hash } from 'node:crypto';

export type HttpProtocol = '1.0' | '1.0C' | '1.1';

/** keepalived REQUEST_TEMPLATE: Host is the vhost, else "ip:port" (always with the port). */
export function buildHttpRequest(path: string, host: string, protocol: HttpProtocol = '1.0'): string {
  const version = protocol === '1.1' ? '1.1' : '1.0';
  const close = protocol === '1.0' ? '' : 'Connection: close\r\n';
  return `GET ${path} HTTP/${version}\r\nUser-Agent: KeepAliveClient\r\n${close}Host: ${host}\r\n\r\n`;
}

export function requestHost(ip: string, port: number, virtualhost?: string): string {
  if (virtualhost) return virtualhost;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** [lo, hi] inclusive ranges. */
export type StatusRanges = ReadonlyArray<readonly [number, number]>;

/** keepalived: "Default is 200-299". */
export const DEFAULT_STATUS_RANGES: StatusRanges = [[200, 299]];

/** One status_code item: 200, "200-299 400-499", or the config room's normalized {from, to}. */
export type StatusCodeItem = number | string | { from: number; to: number };

/**
 * Parse keepalived's status_code: `200`, `"200-299 400-499 503"`, a list of those, or
 * src/config's normalized `[{ from, to }]`. Returns null on anything malformed (the config
 * room reports it with FILE:LINE:COL).
 */
export function parseStatusCodes(spec: StatusCodeItem | ReadonlyArray<StatusCodeItem> | undefined): StatusRanges | null {
  if (spec === undefined) return DEFAULT_STATUS_RANGES;
  const items: ReadonlyArray<StatusCodeItem> = Array.isArray(spec) ? spec : [spec as StatusCodeItem];
  const out: Array<[number, number]> = [];
  const push = (lo: number, hi: number): boolean => {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 100 || hi > 599 || hi < lo) return false;
    out.push([lo, hi]);
    return true;
  };
  for (const item of items) {
    if (item !== null && typeof item === 'object') {
      if (!push(item.from, item.to)) return null;
      continue;
    }
    const words = typeof item === 'number' ? [String(item)] : String(item).trim().split(/[\s,]+/);
    for (const w of words) {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(w);
      if (!m) return null;
      if (!push(Number(m[1]), m[2] === undefined ? Number(m[1]) : Number(m[2]))) return null;
    }
  }
  return out.length > 0 ? out : null;
}

export function statusMatches(code: number, ranges: StatusRanges): boolean {
  for (const [lo, hi] of ranges) if (code >= lo && code <= hi) return true;
  return false;
}

/** A digest param must be 32 hex characters (case-insensitive, as keepalived). */
export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-fA-F]{32}$/.test(s);
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
/** A header larger than this is garbage, not a web server. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Body bytes kept for the regex (keepalived streams with partial matching; we cap instead). */
export const MAX_REGEX_BYTES = 1024 * 1024;

export interface HttpResponseSummary {
  /** 0 when the status line is not `HTTP/x.y NNN` (keepalived's extract_status_code). */
  status: number;
  contentLength: number | null;
  headerText: string;
  bodyBytes: number;
  digest: string;
  /** Up to MAX_REGEX_BYTES of the body, latin1, for regex matching. */
  bodyText: string;
}

export function extractStatusCode(headerText: string): number {
  const m = /^HTTP\/\d+\.\d+\s+(\d{3})(?:\s|$)/.exec(headerText);
  return m ? Number(m[1]) : 0;
}

export function extractContentLength(headerText: string): number | null {
  const m = /\r\nContent-Length:[ \t]*(\d+)/i.exec(headerText);
  return m ? Number(m[1]) : null;
}

/** Streaming reader: feed chunks as they arrive, then `summary()` at EOF. */
export class HttpResponseReader {
  private head: Buffer[] = [];
  private headLen = 0;
  private headerDone = false;
  private md5: Hash = createHash('md5');
  private regexChunks: Buffer[] = [];
  private regexLen = 0;
  status = 0;
  contentLength: number | null = null;
  headerText = '';
  bodyBytes = 0;
  /** Set when the reply cannot be HTTP (header too long). */
  garbage: string | null = null;

  get headerComplete(): boolean { return this.headerDone; }

  /** True once a Content-Length body has fully arrived (lets us finish without waiting for EOF). */
  get bodyComplete(): boolean {
    return this.headerDone && this.contentLength !== null && this.bodyBytes >= this.contentLength;
  }

  feed(chunk: Buffer): void {
    if (this.garbage) return;
    if (!this.headerDone) {
      this.head.push(chunk);
      this.headLen += chunk.length;
      const all = Buffer.concat(this.head, this.headLen);
      const end = all.indexOf(HEADER_END);
      if (end < 0) {
        if (this.headLen > MAX_HEADER_BYTES) this.garbage = 'HTTP header too long';
        else { this.head = [all]; }
        return;
      }
      this.headerDone = true;
      this.headerText = all.subarray(0, end + 4).toString('latin1');
      this.status = extractStatusCode(this.headerText);
      this.contentLength = extractContentLength(this.headerText);
      this.head = [];
      this.body(all.subarray(end + 4));
      return;
    }
    this.body(chunk);
  }

  private body(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let part = chunk;
    if (this.contentLength !== null) {
      const room = this.contentLength - this.bodyBytes;
      if (room <= 0) return;
      if (part.length > room) part = part.subarray(0, room);
    }
    this.md5.update(part);
    this.bodyBytes += part.length;
    if (this.regexLen < MAX_REGEX_BYTES) {
      const keep = part.subarray(0, MAX_REGEX_BYTES - this.regexLen);
      this.regexChunks.push(keep);
      this.regexLen += keep.length;
    }
  }

  summary(): HttpResponseSummary {
    return {
      status: this.status,
      contentLength: this.contentLength,
      headerText: this.headerText,
      bodyBytes: this.bodyBytes,
      digest: this.md5.copy().digest('hex'),
      bodyText: Buffer.concat(this.regexChunks, this.regexLen).toString('latin1'),
    };
  }
}
