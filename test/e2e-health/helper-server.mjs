#!/usr/bin/env node
// Test servers the lab's own (scripts/lab-server.mjs) does not cover, run inside a node's namespace:
//   file  PORT FILE           HTTP: every GET answers FILE's current content (a page that can change)
//   text  PORT TEXT           HTTP: every GET answers TEXT + "\n" (e.g. a sorry server)
//   https PORT KEY CERT TEXT  HTTPS with the given (self-signed) key and certificate
//   flap  PORT HALF_MS        a TCP listener that closes for HALF_MS, listens for HALF_MS, and so on
// Prints "ready" on stdout once it listens.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [mode, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const ready = () => process.stdout.write('ready\n');
const answer = (body) => (req, res) => {
  const text = typeof body === 'function' ? body() : body;
  res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

switch (mode) {
  case 'file':
    http.createServer(answer(() => readFileSync(rest[0], 'utf8'))).listen(port, '0.0.0.0', ready);
    break;
  case 'text':
    http.createServer(answer(`${rest[0]}\n`)).listen(port, '0.0.0.0', ready);
    break;
  case 'https':
    https.createServer({ key: readFileSync(rest[0]), cert: readFileSync(rest[1]) }, answer(`${rest[2]}\n`))
      .listen(port, '0.0.0.0', ready);
    break;
  case 'flap': {
    // One process toggling its listener keeps the period exact (restarting node would add
    // its start-up time to every down phase).
    const halfMs = Number(rest[0]);
    let server = null;
    const listen = (onListening) => {
      const s = net.createServer((c) => c.end());
      // A listen that fails (the old socket not yet gone) is retried, never fatal.
      s.on('error', (err) => {
        process.stderr.write(`flap: ${err.message}\n`);
        setTimeout(() => s.listen(port, '0.0.0.0'), 10);
      });
      return s.listen(port, '0.0.0.0', onListening);
    };
    const open = () => {
      server = listen();
      setTimeout(close, halfMs);
    };
    const close = () => {
      server.close();
      server = null;
      setTimeout(open, halfMs);
    };
    server = listen(ready);
    setTimeout(close, halfMs);
    break;
  }
  default:
    process.stderr.write(`helper-server: unknown mode ${mode}\n`);
    process.exit(2);
}
