/**
 * bin/ulvs.js's first module. `ipvsadm ...` (bin/ulvs.js under that name) and `ulvs ipvsadm ...`
 * take ipvsadm's own command line, which commander cannot parse (-Ln, -p with an optional
 * value, the command first); they load only what they need, since scripts call ipvsadm often.
 */
import { basename } from 'node:path';

const invokedAs = basename(process.argv[1] ?? '');
if (invokedAs === 'ipvsadm' || process.argv[2] === 'ipvsadm') {
  const { defaultIo, runIpvsadm } = await import('./ipvsadm.js');
  const args = invokedAs === 'ipvsadm' ? process.argv.slice(2) : process.argv.slice(3);
  const result = await runIpvsadm(args, defaultIo(), 'ipvsadm');
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.status;
} else {
  await import('./main.js');
}
