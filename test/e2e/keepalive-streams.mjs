#!/usr/bin/env node
// Runs inside the client namespace: `node keepalive-streams.mjs HOST PORT CONNECTIONS EVERY_MS MAX_MS`.
// Opens CONNECTIONS keep-alive streams to HOST:PORT (http-keepalive.mjs) until a line arrives
// on stdin (or stdin closes, or MAX_MS have passed). Prints "ready" once every connection has
// had an answer, then at the end one JSON array, one entry per connection:
// {"answers": [ms, ...] (when each answer completed), "bodies": ["rs2"] (distinct), "error": null | "ECONNRESET" ...}.
import { keepAliveStream } from './http-keepalive.mjs';

const [host, portText, countText, everyText, maxText] = process.argv.slice(2);
const count = Number(countText);
let deadline = Date.now() + Number(maxText);
let answered = 0;
const stopping = [];
const stop = () => { deadline = Date.now(); for (const finish of stopping) finish(); };
process.stdin.on('data', stop);
process.stdin.on('end', stop);

function stream() {
  return new Promise((resolve) => {
    const result = { answers: [], bodies: [], error: null };
    const s = keepAliveStream({
      host, port: Number(portText), everyMs: Number(everyText),
      shouldAsk: () => Date.now() < deadline,
      onAnswer: (body) => {
        result.answers.push(Date.now());
        if (result.answers.length === 1 && ++answered === count) process.stdout.write('ready\n');
        if (!result.bodies.includes(body)) result.bodies.push(body);
      },
      // A close after the deadline is the stream's own end, not a failure.
      onEnd: (code) => {
        if (code !== null && !(code === 'CLOSED' && Date.now() >= deadline)) result.error = code;
        resolve(result);
      },
    });
    // A connection whose answer never comes stays open until the end, then reports.
    stopping.push(s.stop);
    setTimeout(s.stop, Math.max(0, deadline - Date.now()) + 200).unref();
  });
}

const results = await Promise.all(Array.from({ length: count }, stream));
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0);
