import { Command } from 'commander';
import { bgpCommand } from './bgp.js';
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
  .addCommand(bgpCommand())
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
 * Parses a ulvs command line. Every start goes through src/cli/entry.ts first (bin/ulvs.js,
 * the single executable), which sends `ipvsadm ...` (a link of that name) and `ulvs ipvsadm ...`
 * to ipvsadm's own parser and everything else here.
 */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  await program.parseAsync(argv);
}
