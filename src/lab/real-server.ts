/**
 * The lab's real-server service, run inside a real server's namespace as `ulvs lab serve`
 * (the lab starts it with the same executable or checkout that runs the lab):
 *   GET /            -> "rs1\n"                       (who answered)
 *   GET /test.html   -> fixed small page naming rs1   (health checks, genhash digests)
 *   GET /slow?ms=N   -> waits N ms (max 10 min), then "rs1\n"   (long connections)
 *   GET /client      -> "<client ip>:<client port>\n" (what source address the server saw)
 *   UDP on the same port: any datagram is answered with "rs1\n".
 * HTTP keep-alive stays on. The pidfile is written only once both sockets listen, so its
 * existence means "ready"; it is removed on SIGTERM/SIGINT.
 */
import { createSocket } from 'node:dgram';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';

const MAX_SLOW_MS = 600_000;
const KEEP_ALIVE_MS = 65_000;

export interface LabRealServerOptions {
  name: string;
  port: number;
  host: string;
  pidfile?: string;
}

/** Checks the options as the command line gave them; a message for the user, or the options. */
export function parseLabRealServerOptions(raw: { name?: string; port?: string; host?: string; pidfile?: string }): LabRealServerOptions | string {
  if (!raw.name) return '--name is required (e.g. --name rs1)';
  const port = Number(raw.port ?? '80');
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `bad --port ${raw.port}`;
  return { name: raw.name, port, host: raw.host ?? '0.0.0.0', pidfile: raw.pidfile };
}

/** Serves until SIGTERM/SIGINT, then exits 0; a socket error exits 1. */
export function serveLabRealServer(options: LabRealServerOptions): void {
  const { name, port, host, pidfile } = options;
  const nameLine = `${name}\n`;
  const testPage = `<!DOCTYPE html>\n<html><head><title>${name}</title></head><body><h1>${name}</h1><p>ulvs lab real server</p></body></html>\n`;
  const reply = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Served-By': name });
    res.end(body);
  };
  const pendingTimers = new Set<NodeJS.Timeout>();

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'text/plain', 'method not allowed\n');
    switch (url.pathname) {
      case '/': return reply(res, 200, 'text/plain', nameLine);
      case '/test.html': return reply(res, 200, 'text/html', testPage);
      case '/client': return reply(res, 200, 'text/plain', `${req.socket.remoteAddress}:${req.socket.remotePort}\n`);
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
  });
  http.keepAliveTimeout = KEEP_ALIVE_MS;
  http.headersTimeout = KEEP_ALIVE_MS + 1_000;

  const udp = createSocket('udp4');
  udp.on('message', (_msg, rinfo) => udp.send(nameLine, rinfo.port, rinfo.address));

  const fail = (error: Error): void => {
    process.stderr.write(`lab-server ${name}: ${error.message}\n`);
    process.exit(1);
  };
  http.on('error', fail);
  udp.on('error', fail);

  let listening = 0;
  const ready = (): void => {
    if (++listening < 2) return;
    if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);
    process.stderr.write(`lab-server ${name}: listening on ${host}:${port} (tcp, udp)\n`);
  };
  http.listen(port, host, ready);
  udp.bind(port, host, ready);

  const shutdown = (): void => {
    if (pidfile) {
      try {
        if (Number.parseInt(readFileSync(pidfile, 'utf8'), 10) === process.pid) rmSync(pidfile);
      } catch {
        // already gone
      }
    }
    for (const timer of pendingTimers) clearTimeout(timer);
    http.closeAllConnections();
    http.close();
    udp.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
