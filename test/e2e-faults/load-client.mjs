// Runs inside the lab's client namespace: `node load-client.mjs URL DURATION_MS [CONCURRENCY]`.
// HTTP load through the VIP: CONCURRENCY loops of new connections, back to back, for DURATION_MS.
// Prints one JSON object: requests answered and failed (by error code), when each failure
// happened (ms from the start), the longest time without an answer (the outage a fault
// caused), and which real server answered how often.
import http from 'node:http';

const [url, durationText, concurrencyText = '2'] = process.argv.slice(2);
const durationMs = Number(durationText);
const concurrency = Number(concurrencyText);
const REQUEST_TIMEOUT_MS = 2000;
const start = Date.now();
// startedAt (epoch ms): the caller's clock for failTimes (a node start in a namespace takes a
// second or more on a busy machine, so the caller's own start time is not this one).
const result = { ok: 0, failed: 0, errors: {}, failTimes: [], maxGapMs: 0, gapEndsAtMs: 0, servers: {}, startedAt: start };
let lastAnswer = 0;

function get() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ body: body.trim() }));
      res.on('error', (err) => resolve({ err: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve({ err: err.code ?? err.message }));
  });
}

async function loop() {
  while (Date.now() - start < durationMs) {
    const r = await get();
    const at = Date.now() - start;
    if (r.err) {
      result.failed++;
      result.errors[r.err] = (result.errors[r.err] ?? 0) + 1;
      if (result.failTimes.length < 200) result.failTimes.push(at);
      await new Promise((res) => setTimeout(res, 20));
      continue;
    }
    result.ok++;
    result.servers[r.body] = (result.servers[r.body] ?? 0) + 1;
    if (at - lastAnswer > result.maxGapMs) { result.maxGapMs = at - lastAnswer; result.gapEndsAtMs = at; }
    lastAnswer = at;
  }
}

await Promise.all(Array.from({ length: concurrency }, loop));
// No answer until the end is an outage too (a run with no answer at all is one long outage).
const endAt = Date.now() - start;
if (endAt - lastAnswer > result.maxGapMs) { result.maxGapMs = endAt - lastAnswer; result.gapEndsAtMs = endAt; }
process.stdout.write(JSON.stringify(result) + '\n');
