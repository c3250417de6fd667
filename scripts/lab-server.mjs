#!/usr/bin/env node
// The lab's real-server service (no build step, no dependencies). Run inside a real server's
// namespace:  node scripts/lab-server.mjs --name rs1 [--port 80] [--host 0.0.0.0] [--pidfile F]
//   GET /            -> "rs1\n"                       (who answered)
//   GET /test.html   -> fixed small page naming rs1   (health checks, genhash digests)
//   GET /slow?ms=N   -> waits N ms (max 10 min), then "rs1\n"   (long connections)
//   GET /client      -> "<client ip>:<client port>\n" (what source address the server saw)
//   UDP on the same port: any datagram is answered with "rs1\n".
// HTTP keep-alive stays on. The pidfile is written only once both sockets listen, so its
// existence means "ready"; it is removed on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';

const MAX_SLOW_MS = 600_000;
const KEEP_ALIVE_MS = 65_000;

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    port: { type: 'string', default: '80' },
    host: { type: 'string', default: '0.0.0.0' },
    pidfile: { type: 'string' },
  },
});
if (!values.name) {
  process.stderr.write('lab-server: --name is required (e.g. --name rs1)\n');
  process.exit(2);
}
const name = values.name;
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`lab-server: bad --port ${values.port}\n`);
  process.exit(2);
}

const nameLine = `${name}\n`;
const testPage = `<!DOCTYPE html>\n<html><head><title>${name}</title></head><body><h1>${name}</h1><p>ulvs lab real server</p></body></html>\n`;

function reply(res, status, type, body) {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'X-Served-By': name,
  });
  res.end(body);
}

const pendingTimers = new Set();

const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://lab');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(res, 405, 'text/plain', 'method not allowed\n');
    return;
  }
  switch (url.pathname) {
    case '/':
      reply(res, 200, 'text/plain', nameLine);
      return;
    case '/test.html':
      reply(res, 200, 'text/html', testPage);
      return;
    case '/client':
      reply(res, 200, 'text/plain', `${req.socket.remoteAddress}:${req.socket.remotePort}\n`);
      return;
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
    default:
      reply(res, 404, 'text/plain', 'not found\n');
  }
});
http.keepAliveTimeout = KEEP_ALIVE_MS;
http.headersTimeout = KEEP_ALIVE_MS + 1_000;

const udp = createSocket('udp4');
udp.on('message', (_msg, rinfo) => udp.send(nameLine, rinfo.port, rinfo.address));

function fail(error) {
  process.stderr.write(`lab-server ${name}: ${error.message}\n`);
  process.exit(1);
}
http.on('error', fail);
udp.on('error', fail);

let listening = 0;
function ready() {
  if (++listening < 2) return;
  if (values.pidfile) writeFileSync(values.pidfile, `${process.pid}\n`);
  process.stderr.write(`lab-server ${name}: listening on ${values.host}:${port} (tcp, udp)\n`);
}
http.listen(port, values.host, ready);
udp.bind(port, values.host, ready);

function shutdown() {
  if (values.pidfile) {
    try {
      if (Number.parseInt(readFileSync(values.pidfile, 'utf8'), 10) === process.pid) rmSync(values.pidfile);
    } catch {
      // already gone
    }
  }
  for (const timer of pendingTimers) clearTimeout(timer);
  http.closeAllConnections();
  http.close();
  udp.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
