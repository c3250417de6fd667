/**
 * The Prometheus endpoint: GET /metrics gathers the director's state once and renders it;
 * everything else is 404. Off unless the config has a metrics block (loopback unless
 * allow_remote, checked at load).
 */
import http from 'node:http';
import type pino from 'pino';
import { LabelCache } from './families.js';
import { renderMetrics, type MetricsData } from './render.js';

export interface MetricsServer { listen: string; close(): Promise<void> }

/** `HOST:PORT` / `[V6]:PORT` -> host and port (validated by the config schema). */
export function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(listen.slice(colon + 1)) };
}

export function serveMetrics(listen: string, gather: () => Promise<MetricsData>, log: pino.Logger): Promise<MetricsServer> {
  // Kept across scrapes: each series' labels are made and formatted once (families.ts).
  const labels = new LabelCache();
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('ulvs serves /metrics only\n');
      return;
    }
    gather().then((data) => renderMetrics(data, labels)).then(
      ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType }).end(text),
      (err: Error) => {
        log.warn({ err: err.message }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`ulvs: ${err.message}\n`);
      },
    );
  });
  const { host, port } = parseListen(listen);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`metrics: cannot listen on ${listen}: ${err.code ?? err.message}`)));
    server.listen(port, host, () => {
      log.info({ listen }, 'metrics served at /metrics');
      resolve({ listen, close: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }) });
    });
  });
}
