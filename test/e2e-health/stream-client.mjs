#!/usr/bin/env node
// Runs inside the client namespace: `node stream-client.mjs URL EVERY_MS`. Opens a new TCP
// connection for one GET every EVERY_MS (requests overlap if one is slow) until killed, and
// prints one JSON line per finished request: {"start": ms, "end": ms, "body": "rs1" | "ERR:<code>"}.
import http from 'node:http';

const [url, everyText = '50'] = process.argv.slice(2);
const everyMs = Number(everyText);

function get() {
  const start = Date.now();
  const done = (body) => process.stdout.write(JSON.stringify({ start, end: Date.now(), body }) + '\n');
  const req = http.get(url, { agent: false, timeout: 2000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { body += c; });
    res.on('end', () => done(body.trim()));
    res.on('error', (err) => done(`ERR:${err.code ?? err.message}`));
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  req.on('error', (err) => done(`ERR:${err.code ?? err.message}`));
}

setInterval(get, everyMs);
get();
