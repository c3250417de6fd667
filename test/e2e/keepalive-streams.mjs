#!/usr/bin/env node
// Runs inside the client namespace: `node keepalive-streams.mjs HOST PORT CONNECTIONS EVERY_MS MAX_MS`.
// Opens CONNECTIONS TCP connections to HOST:PORT and on each sends `GET /` (HTTP/1.1 keep-alive),
// waits for the whole answer, pauses EVERY_MS, and again, until a line arrives on stdin (or
// stdin closes, or MAX_MS have passed). A
// connection is never reopened: one that fails stays failed, so what the caller sees is what a
// long-lived client would. Prints "ready" once every connection has had an answer, then at the
// end one JSON array, one entry per connection:
// {"answers": [ms, ...] (when each answer completed), "bodies": ["rs2"] (distinct), "error": null | "ECONNRESET" ...}.
import net from 'node:net';

const [host, portText, countText, everyText, maxText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const everyMs = Number(everyText);
let deadline = Date.now() + Number(maxText);
let answered = 0;
const stopping = [];
const stop = () => { deadline = Date.now(); for (const finish of stopping) finish(); };
process.stdin.on('data', stop);
process.stdin.on('end', stop);

function stream() {
  return new Promise((resolve) => {
    const result = { answers: [], bodies: [], error: null };
    const socket = net.connect({ host, port });
    let buffer = '';
    let timer = null;
    const finish = () => {
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const ask = () => {
      if (Date.now() >= deadline) return finish();
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
    };
    socket.setEncoding('latin1');
    socket.on('connect', ask);
    socket.on('data', (chunk) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length:\s*(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.slice(end + 4, end + 4 + length).trim();
        buffer = buffer.slice(end + 4 + length);
        result.answers.push(Date.now());
        if (result.answers.length === 1 && ++answered === count) process.stdout.write('ready\n');
        if (!result.bodies.includes(body)) result.bodies.push(body);
        timer = setTimeout(ask, everyMs);
      }
    });
    socket.on('error', (err) => { result.error = err.code ?? err.message; finish(); });
    socket.on('close', () => { if (Date.now() < deadline && !result.error) result.error = 'CLOSED'; finish(); });
    // A connection whose answer never comes stays open until the end, then reports.
    stopping.push(finish);
    setTimeout(finish, Math.max(0, deadline - Date.now()) + 200).unref();
  });
}

const results = await Promise.all(Array.from({ length: count }, stream));
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0);
