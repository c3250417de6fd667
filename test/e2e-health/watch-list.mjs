#!/usr/bin/env node
// Runs inside a director's namespace: asks the director for its table (what `ulvs list -n`
// prints) every 50 ms and prints one JSON line each time the listed real servers or their
// weights change: {"t": <ms since epoch>, "servers": {"198.18.0.10:80": 1, ...}}.
// A spawned `ulvs list -n` costs a node start-up per look; this times table changes to ~50 ms.
import { controlSocketPath, requestControl } from '../../dist/src/control/socket.js';

const POLL_MS = 50;
const path = controlSocketPath('default');
let last = '';
for (;;) {
  try {
    const reply = await requestControl(path, 'list', undefined, 2000);
    const servers = {};
    for (const s of reply.services) for (const r of s.realServers) servers[`${r.ip}:${r.port}`] = r.weight;
    const text = JSON.stringify(servers);
    if (text !== last) {
      last = text;
      process.stdout.write(JSON.stringify({ t: Date.now(), servers }) + '\n');
    }
  } catch (err) {
    process.stdout.write(JSON.stringify({ t: Date.now(), error: err.message }) + '\n');
  }
  await new Promise((r) => setTimeout(r, POLL_MS));
}
