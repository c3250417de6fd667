import { basename } from 'node:path';
import { Command } from 'commander';
import { checkConfigCommand } from './check-config.js';
import { connsCommand, listCommand, reloadCommand, runCommand, statsCommand, timeoutCommand } from './director.js';
import { genhashCommand } from './genhash.js';
import { labCommand } from './lab.js';
import { migrateCommand } from './migrate.js';
import { realserverCommand } from './realserver.js';
import { runStatus } from './status.js';
import { REFUSED } from '../control/socket.js';

function statusCommand(): Command {
  return new Command('status')
    .description('VRRP instances: state, priority, master, last transition')
    .option('--json', 'JSON output')
    .option('--socket <path>', 'control socket')
    .action(async (opts: { json?: boolean; socket?: string }) => {
      try {
        process.stdout.write(await runStatus(opts));
      } catch (err) {
        process.stderr.write(`ulvs: ${(err as Error).message}\n`);
        process.exit((err as NodeJS.ErrnoException).code === REFUSED ? 4 : 1);
      }
    });
}

const program = new Command('ulvs')
  .description('userspace layer-4 load balancer: LVS/IPVS + keepalived in one process')
  .showHelpAfterError()
  .addCommand(runCommand())
  .addCommand(reloadCommand())
  .addCommand(listCommand())
  .addCommand(connsCommand())
  .addCommand(timeoutCommand())
  .addCommand(statsCommand())
  .addCommand(new Command('ipvsadm').description('ipvsadm 1.31\'s command line: list, change, save and restore the running table').argument('[args...]'))
  .addCommand(statusCommand())
  .addCommand(checkConfigCommand())
  .addCommand(migrateCommand())
  .addCommand(genhashCommand())
  .addCommand(labCommand())
  .addCommand(realserverCommand());

// Usage mistakes exit 2 like a config mistake; --help/--version exit 0. addCommand() hands no
// settings down, so every command in the tree gets the rule (a subcommand's own usage error,
// e.g. `ulvs migrate --from haproxy`, otherwise exits 1).
function exitTwoOnUsageErrors(command: Command): void {
  command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  for (const sub of command.commands) exitTwoOnUsageErrors(sub);
}
exitTwoOnUsageErrors(program);

/** The command tree (the man page is generated from its help). */
export function cliProgram(): Command {
  return program;
}

/**
 * The one router for every way ulvs is started: `node bin/ulvs.js ARGS`, the single executable
 * (build/package/ulvs ARGS) and a link named after a subcommand (`ipvsadm -> ulvs`, as
 * /usr/lib/ulvs/ipvsadm in the .deb) which runs that subcommand with the arguments given.
 */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  const invokedAs = linkedSubcommand(argv);
  if (invokedAs !== undefined) {
    if (!program.commands.some((c) => c.name() === invokedAs)) {
      process.stderr.write(`ulvs: this build has no \`${invokedAs}\` subcommand (started through a link named ${invokedAs})\n`);
      process.exit(2);
    }
    argv = [argv[0], argv[1], invokedAs, ...argv.slice(2)];
  }
  await program.parseAsync(argv);
}

/** Names a link may carry to run a subcommand directly. */
const LINK_NAMES = new Set(['ipvsadm']);

function linkedSubcommand(argv: string[]): string | undefined {
  // process.argv0 is the name as typed (the executable's link); argv[1] the script's (checkout).
  for (const name of [process.argv0, argv[1]]) {
    const base = basename(name ?? '').replace(/\.(c|m)?js$/, '');
    if (LINK_NAMES.has(base)) return base;
  }
  return undefined;
}
