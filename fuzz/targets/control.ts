/**
 * Fuzz target: the control socket's request parser (src/control/socket.ts parseControlLine):
 * any line gives a request with a string command (and object args) or a one-line error.
 */
import { parseControlLine } from '../../src/control/socket.js';
import { check } from '../frame-checks.js';

export function fuzz(data: Buffer): void {
  const line = data.toString('utf8');
  const r = parseControlLine(line.split('\n')[0]);
  if ('error' in r) {
    check(typeof r.error === 'string' && !r.error.includes('\n'), 'error is not one line');
    return;
  }
  check(typeof r.request.command === 'string', 'request without a string command');
  const args = r.request.args;
  check(args === undefined || (typeof args === 'object' && args !== null && !Array.isArray(args)), 'args is not an object');
}
