/**
 * Fuzz target: the ipvsadm argument parser. Input: NUL-separated argv. It returns a command or
 * throws IpvsadmExit (ipvsadm's message and exit status); nothing else.
 */
import { IpvsadmExit, parseIpvsadm, type NameResolver } from '../../src/cli/ipvsadm-args.js';
import { check, FuzzFinding } from '../frame-checks.js';

// No DNS or /etc/services in a fuzz loop: a fixed table answers.
const names: NameResolver = {
  host: (n) => (n === 'localhost' ? '127.0.0.1' : n === 'vip' ? '198.18.0.100' : undefined),
  service: (n) => (n === 'http' ? 80 : n === 'domain' ? 53 : undefined),
};

export function fuzz(data: Buffer): void {
  const args = data.toString('utf8').split('\0').slice(0, 64);
  try {
    const cmd = parseIpvsadm(args, names);
    check(typeof cmd.command === 'string', 'a command without a name');
  } catch (err) {
    if (err instanceof FuzzFinding) throw err;
    check(err instanceof IpvsadmExit, `parser threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
    const e = err as IpvsadmExit;
    check(Number.isInteger(e.status) && e.status >= 0 && e.status <= 255 && typeof e.message === 'string', 'bad exit');
  }
}
