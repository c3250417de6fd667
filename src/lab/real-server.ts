/**
 * The lab's real-server service, run inside a real server's namespace as `ulvs lab serve`
 * (the lab starts it with the same executable or checkout that runs the lab):
 *   GET /            -> "rs1\n"                       (who answered)
 *   GET /test.html   -> fixed small page naming rs1   (health checks, genhash digests)
 *   GET /slow?ms=N   -> waits N ms (max 10 min), then "rs1\n"   (long connections)
 *   GET /client      -> "<client ip>:<client port>\n" (what source address the server saw;
 *                       IPv6 as "[2001:2::1]:port")
 *   UDP on the same port: any datagram is answered with "rs1\n".
 * Dual-stack: TCP and UDP listen on `host` (IPv4) and on `host6` (IPv6 only, default `::`;
 * `none` for IPv4 only), so IPv4 clients still appear as IPv4 addresses.
 * HTTP keep-alive stays on. The pidfile is written only once all sockets listen, so its
 * existence means "ready"; it is removed on SIGTERM/SIGINT.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';

const MAX_SLOW_MS = 600_000;
const KEEP_ALIVE_MS = 65_000;

export interface LabRealServerOptions {
  name: string;
  port: number;
  host: string;
  /** IPv6 address to listen on as well, or undefined for IPv4 only. */
  host6?: string;
  pidfile?: string;
}

/** Checks the options as the command line gave them; a message for the user, or the options. */
export function parseLabRealServerOptions(raw: { name?: string; port?: string; host?: string; host6?: string; pidfile?: string }): LabRealServerOptions | string {
  if (!raw.name) return '--name is required (e.g. --name rs1)';
  const port = Number(raw.port ?? '80');
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `bad --port ${raw.port}`;
  const host6 = raw.host6 ?? '::';
  if (host6 !== 'none' && !isIPv6(host6)) return `bad --host6 ${host6}: an IPv6 address (e.g. ::) or none`;
  const options = { name: raw.name, port, host: raw.host ?? '0.0.0.0', pidfile: raw.pidfile };
  return host6 === 'none' ? options : { ...options, host6 };
}

/** Serves until SIGTERM/SIGINT, then exits 0; a socket error exits 1. */
export function serveLabRealServer(options: LabRealServerOptions): void {
  const { name, port, host, host6, pidfile } = options;
  const nameLine = `${name}\n`;
  const testPage = `<!DOCTYPE html>\n<html><head><title>${name}</title></head><body><h1>${name}</h1><p>ulvs lab real server</p></body></html>\n`;
  const reply = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Served-By': name });
    res.end(body);
  };
  const pendingTimers = new Set<NodeJS.Timeout>();

  const handle: RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n');
    switch (url.pathname) {
      case '/': return reply(res, 200, 'text/plain', nameLine);
      case '/test.html': return reply(res, 200, 'text/html', testPage);
      case '/client': {
        const address = req.socket.remoteAddress ?? '';
        return reply(res, 200, 'text/plain', `${isIPv6(address) ? `[${address}]` : address}:${req.socket.remotePort}\n`);
      }
      case '/slow': {
        const ms = Math.min(Math.max(Number(url.searchParams.get('ms') ?? '1000') || 0, 0), MAX_SLOW_MS);
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          reply(res, 200, 'text/plain', nameLine);
        }, ms);
        pendingTimers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          pendingTimers.delete(timer);
        });
        return;
      }
      default: return reply(res, 404, 'text/plain', 'not found\n');
    }
  };
  const http = createServer(handle);
  const https: Server[] = [http];
  if (host6 !== undefined) https.push(createServer(handle));
  for (const server of https) {
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  }

  const udps: Socket[] = [createSocket('udp4')];
  if (host6 !== undefined) udps.push(createSocket({ type: 'udp6', ipv6Only: true }));
  for (const udp of udps) udp.on('message', (_msg, rinfo) => udp.send(nameLine, rinfo.port, rinfo.address));

  const fail = (error: Error): void => {
    process.stderr.write(`lab-server ${name}: ${error.message}\n`);
    process.exit(1);
  };
  for (const socket of [...https, ...udps]) socket.on('error', fail);

  const sockets = https.length + udps.length;
  let listening = 0;
  const ready = (): void => {
    if (++listening < sockets) return;
    if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
    const where = host6 === undefined ? `${host}:${port}` : `${host}:${port} and [${host6}]:${port}`;
    process.stderr.write(`lab-server ${name}: listening on ${where} (tcp, udp)\n`);
  };
  http.listen(port, host, ready);
  udps[0].bind(port, host, ready);
  if (host6 !== undefined) {
    https[1].listen({ port, host: host6, ipv6Only: true }, ready);
    udps[1].bind(port, host6, ready);
  }

  const shutdown = (): void => {
    if (pidfile) {
      try {
        if (Number.parseInt(readFileSync(pidfile, 'utf8'), 10) === process.pid) rmSync(pidfile);
      } catch {
        // already gone
      }
    }
    for (const timer of pendingTimers) clearTimeout(timer);
    for (const server of https) {
      server.closeAllConnections();
      server.close();
    }
    for (const udp of udps) udp.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
