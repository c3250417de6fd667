/**
 * `ulvs genhash`: keepalived's genhash. Fetches a page the way HTTP_GET does and prints the
 * MD5 digest a `digest` line needs, in keepalived 2.x's format (just the hex; -v adds the
 * same header/body/hash dumps). Unlike keepalived's genhash, which prints "Connection failed"
 * and exits 0, a failure here exits 1 with the reason, so scripts can tell.
 */
import { Command, InvalidArgumentError } from 'commander';
import net from 'node:net';
import { fetchHttp } from '../health/http.js';
import type { HttpProtocol } from '../health/http_response.js';

export interface GenhashOptions {
  server: string;
  port: number;
  url: string;
  ssl?: boolean;
  sni?: boolean;
  virtualhost?: string;
  verbose?: boolean;
  protocol?: HttpProtocol;
  timeout?: number;
}

export interface TextSink { write(s: string): unknown }

const BAR = '-----------------------';
const banner = (title: string): string => `${BAR}[${title}]${BAR}\n`;

/** keepalived's dump_buffer: decimal offsets, 16 bytes a line, "-" after 8, ASCII column. */
export function dumpBuffer(buf: Uint8Array): string {
  let out = '';
  for (let off = 0; off < buf.length; off += 16) {
    let hex = '';
    let ascii = '';
    for (let j = 0; j < 16; j++) {
      const i = off + j;
      if (i < buf.length) {
        hex += `${buf[i].toString(16).padStart(2, '0')} `;
        ascii += buf[i] >= 0x20 && buf[i] < 0x7f ? String.fromCharCode(buf[i]) : '.';
      } else {
        hex += '   ';
        ascii += ' ';
      }
      if (j === 7) hex += '- ';
    }
    out += `${String(off).padStart(4, '0')}  ${hex}  ${ascii}\n`;
  }
  return out;
}

/** Run genhash; returns the exit code. */
export async function runGenhash(o: GenhashOptions, out: TextSink, err: TextSink): Promise<number> {
  const fetched = await fetchHttp(
    { ip: o.server, port: o.port },
    { connect_timeout: o.timeout ?? 5 },
    { path: o.url, virtualhost: o.virtualhost, protocol: o.protocol ?? '1.0', tls: o.ssl === true, sni: o.sni },
  );
  if (!fetched.ok) {
    const what = /no HTTP response/.test(fetched.reason) ? 'no data received from remote webserver'
      : `Connection failed to ${o.server}:${o.port}: ${fetched.reason}`;
    err.write(`${what}\n`);
    return 1;
  }
  const s = fetched.summary;
  if (o.verbose) {
    const header = Buffer.from(s.headerText, 'latin1');
    out.write(banner('    HTTP Header Buffer    '));
    out.write(dumpBuffer(header));
    out.write(banner(' HTTP Header Ascii Buffer '));
    out.write(`${s.headerText}\n`);
    if (s.bodyBytes > 0) {
      out.write(banner('        HTML Buffer        '));
      out.write(dumpBuffer(Buffer.from(s.bodyText, 'latin1')));
    }
    out.write('\n');
    out.write(banner('    HTML hash resulting    '));
    out.write(dumpBuffer(Buffer.from(s.digest, 'hex')));
    out.write(banner(' HTML hash final resulting '));
  }
  out.write(`${s.digest}\n`);
  if (o.verbose) out.write(`\nGlobal response time for [${o.url}] = ${Math.round(fetched.elapsedMs * 1000)} usecs\n`);
  return 0;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port 1-65535');
  return n;
}

function parseIp(v: string): string {
  if (!net.isIP(v)) throw new InvalidArgumentError('expected an IPv4 or IPv6 address');
  return v;
}

function parseProtocol(v: string): HttpProtocol {
  const p = v.toLowerCase();
  if (p === '1.0') return '1.0';
  if (p === '1.0c') return '1.0C';
  if (p === '1.1') return '1.1';
  throw new InvalidArgumentError("expected '1.0', '1.0c' or '1.1'");
}

function parseTimeout(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected seconds > 0');
  return n;
}

export function genhashCommand(): Command {
  return new Command('genhash')
    .description("print the MD5 digest of a page for an http_get/ssl_get url (keepalived's genhash)")
    .requiredOption('-s, --server <ip>', 'real server address', parseIp)
    .requiredOption('-p, --port <port>', 'real server port', parsePort)
    .requiredOption('-u, --url <path>', 'url path, e.g. /test.html')
    .option('-S, --use-ssl', 'use TLS (no certificate verification, as SSL_GET)')
    .option('-I, --use-sni', 'send SNI (the -V virtualhost) in the TLS handshake')
    .option('-V, --use-virtualhost <host>', 'Host header to send')
    .option('-P, --protocol <version>', "HTTP protocol: '1.0', '1.0c' or '1.1'", parseProtocol)
    .option('-t, --timeout <seconds>', 'timeout for the whole fetch', parseTimeout, 5)
    .option('-v, --verbose', 'dump header, body and hash as keepalived genhash -v')
    .action(async (opts: {
      server: string; port: number; url: string; useSsl?: boolean; useSni?: boolean;
      useVirtualhost?: string; protocol?: HttpProtocol; timeout: number; verbose?: boolean;
    }) => {
      process.exitCode = await runGenhash({
        server: opts.server, port: opts.port, url: opts.url, ssl: opts.useSsl, sni: opts.useSni,
        virtualhost: opts.useVirtualhost, protocol: opts.protocol, timeout: opts.timeout, verbose: opts.verbose,
      }, process.stdout, process.stderr);
    });
}
