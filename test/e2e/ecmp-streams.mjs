#!/usr/bin/env node
// Runs inside the client namespace: `node ecmp-streams.mjs HOST PORT CONNECTIONS EVERY_MS MAX_MS`.
// Opens CONNECTIONS long-lived TCP connections to HOST:PORT; on each, `GET /` (HTTP/1.1
// keep-alive), the whole answer, a pause of EVERY_MS, and again. A connection is never reopened:
// one that fails stays failed, as a long-lived client's would. Lines on stdout, one JSON each:
//   {"ready":true}                       once every connection has had an answer;
//   {"tick":T,"answered":[...]}         every 250 ms: per connection, when its last answer came (0: failed);
//   {"results":[...]}                    at the end (a line on stdin, stdin closed, or MAX_MS), per
//                                        connection {"answers":N,"last":T,"error":null|"ECONNRESET"|...,"errorAt":T,"bodies":["rs2"]}.
// Times are Date.now() in this process (the same clock as the test's on one machine).
import net from 'node:net';

const [host, portText, countText, everyText, maxText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const everyMs = Number(everyText);
const deadline = Date.now() + Number(maxText);
const results = Array.from({ length: count }, () => ({ answers: 0, last: 0, error: null, errorAt: 0, bodies: [] }));
const sockets = [];
let ready = 0;
let done = false;

const line = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function open(i) {
  const r = results[i];
  const socket = net.connect({ host, port });
  sockets.push(socket);
  let buffer = '';
  const fail = (code) => {
    if (done || r.error) return;
    r.error = code;
    r.errorAt = Date.now();
    socket.destroy();
  };
  const ask = () => { if (!done) socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`); };
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
      r.answers++;
      r.last = Date.now();
      if (r.answers === 1 && ++ready === count) line({ ready: true });
      if (!r.bodies.includes(body)) r.bodies.push(body);
      setTimeout(ask, everyMs);
    }
  });
  socket.on('error', (err) => fail(err.code ?? err.message));
  socket.on('close', () => fail('CLOSED'));
}

function finish() {
  if (done) return;
  done = true;
  clearInterval(ticker);
  line({ results });
  for (const s of sockets) s.destroy();
  process.exit(0);
}

for (let i = 0; i < count; i++) open(i);
const ticker = setInterval(() => {
  line({ tick: Date.now(), answered: results.map((r) => (r.error ? 0 : r.last)) });
  if (Date.now() >= deadline) finish();
}, 250);
process.stdin.on('data', finish);
process.stdin.on('end', finish);
