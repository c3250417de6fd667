#!/usr/bin/env node
// The lab's real-server service, for scripts and tests that start it by path:
//   node scripts/lab-server.mjs --name rs1 [--port 80] [--host 0.0.0.0] [--host6 ::|none] [--pidfile F]
// It is `ulvs lab serve` (src/lab/real-server.ts, compiled into dist/ by scripts/setup.sh).
import { parseArgs } from 'node:util';
import { parseLabRealServerOptions, serveLabRealServer } from '../dist/src/lab/real-server.js';

const { values } = parseArgs({
  options: { name: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, host6: { type: 'string' }, pidfile: { type: 'string' } },
});
const options = parseLabRealServerOptions(values);
if (typeof options === 'string') {
  process.stderr.write(`lab-server: ${options}\n`);
  process.exit(2);
}
serveLabRealServer(options);
