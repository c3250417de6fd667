/**
 * The first module of every way ulvs starts (bin/ulvs.js, the single executable). `ipvsadm ...`
 * (started through a link of that name) and `ulvs ipvsadm ...` take ipvsadm's own command line,
 * which commander cannot parse (-Ln, -p with an optional value, the command first); they load only
 * what they need, since scripts call ipvsadm often. Everything else goes to main.ts's router.
 */
import { basename } from 'node:path';

/** The name ulvs was started as: process.argv0 is the link as typed (the executable), argv[1] the script (checkout). */
function startedAs(argv: string[]): string {
  for (const name of [process.argv0, argv[1]]) {
    const base = basename(name ?? '').replace(/\.(c|m)?js$/, '');
    if (base === 'ipvsadm') return base;
  }
  return 'ulvs';
}

export async function start(argv: string[] = process.argv): Promise<void> {
  const invokedAs = startedAs(argv);
  if (invokedAs === 'ipvsadm' || argv[2] === 'ipvsadm') {
    const { defaultIo, runIpvsadm } = await import('./ipvsadm.js');
    const args = invokedAs === 'ipvsadm' ? argv.slice(2) : argv.slice(3);
    const result = await runIpvsadm(args, defaultIo(), 'ipvsadm');
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.status;
    return;
  }
  const { runCli } = await import('./main.js');
  await runCli(argv);
}
