#!/usr/bin/env node
// Runs inside the client namespace: `node ecmp-streams.mjs HOST PORT CONNECTIONS EVERY_MS MAX_MS`.
// Opens CONNECTIONS long-lived keep-alive streams to HOST:PORT (http-keepalive.mjs). Lines on
// stdout, one JSON each:
//   {"ready":true}                       once every connection has had an answer;
//   {"tick":T,"answered":[...]}         every 250 ms: per connection, when its last answer came (0: failed);
//   {"results":[...]}                    at the end (a line on stdin, stdin closed, or MAX_MS), per
//                                        connection {"answers":N,"last":T,"error":null|"ECONNRESET"|...,"errorAt":T,"bodies":["rs2"]}.
// Times are Date.now() in this process (the same clock as the test's on one machine).
import { keepAliveStream } from './http-keepalive.mjs';

const [host, portText, countText, everyText, maxText] = process.argv.slice(2);
const count = Number(countText);
const deadline = Date.now() + Number(maxText);
const results = Array.from({ length: count }, () => ({ answers: 0, last: 0, error: null, errorAt: 0, bodies: [] }));
const streams = [];
let ready = 0;
let done = false;

const line = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

for (const r of results) {
  streams.push(keepAliveStream({
    host, port: Number(portText), everyMs: Number(everyText),
    onAnswer: (body) => {
      r.answers++;
      r.last = Date.now();
      if (r.answers === 1 && ++ready === count) line({ ready: true });
      if (!r.bodies.includes(body)) r.bodies.push(body);
    },
    onEnd: (code) => {
      if (done || code === null) return;
      r.error = code;
      r.errorAt = Date.now();
    },
  }));
}

function finish() {
  if (done) return;
  done = true;
  clearInterval(ticker);
  line({ results });
  for (const s of streams) s.stop();
  process.exit(0);
}

const ticker = setInterval(() => {
  line({ tick: Date.now(), answered: results.map((r) => (r.error ? 0 : r.last)) });
  if (Date.now() >= deadline) finish();
}, 250);
process.stdin.on('data', finish);
process.stdin.on('end', finish);
