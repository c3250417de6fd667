import { Command } from 'commander';
import { ulvsVersion } from './version.js';

/**
 * The subcommands, each loaded only when its name is on the command line: importing all of
 * them (the director, the config schema, migrate's parsers) cost most of a `ulvs list` or a
 * restart's start-up. `ulvs --help`, `ulvs help` and unknown words load every one.
 */
interface Subcommand { names: string[]; load: () => Promise<Command> }
const SUBCOMMANDS: Subcommand[] = [
  { names: ['run'], load: async () => (await import('./director.js')).runCommand() },
  { names: ['reload'], load: async () => (await import('./director-client.js')).reloadCommand() },
  { names: ['list', 'ls'], load: async () => (await import('./director-client.js')).listCommand() },
  { names: ['conns'], load: async () => (await import('./director-client.js')).connsCommand() },
  { names: ['timeout'], load: async () => (await import('./director-client.js')).timeoutCommand() },
  { names: ['stats'], load: async () => (await import('./director-client.js')).statsCommand() },
  // Parsed by src/cli/entry.ts before commander; listed for the help and the man page.
  { names: ['ipvsadm'], load: async () => new Command('ipvsadm').description('ipvsadm 1.31\'s command line: list, change, save and restore the running table').argument('[args...]') },
  { names: ['status'], load: async () => (await import('./status.js')).statusCommand() },
  { names: ['bgp'], load: async () => (await import('./bgp.js')).bgpCommand() },
  { names: ['check-config'], load: async () => (await import('./check-config.js')).checkConfigCommand() },
  { names: ['migrate'], load: async () => (await import('./migrate.js')).migrateCommand() },
  { names: ['genhash'], load: async () => (await import('./genhash.js')).genhashCommand() },
  { names: ['lab'], load: async () => (await import('./lab.js')).labCommand() },
  { names: ['realserver'], load: async () => (await import('./realserver.js')).realserverCommand() },
];

// Usage mistakes exit 2 like a config mistake; --help/--version exit 0. addCommand() hands no
// settings down, so every command in the tree gets the rule (a subcommand's own usage error,
// e.g. `ulvs migrate --from haproxy`, otherwise exits 1).
function exitTwoOnUsageErrors(command: Command): void {
  command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  for (const sub of command.commands) exitTwoOnUsageErrors(sub);
}

async function buildProgram(only?: Subcommand): Promise<Command> {
  const program = new Command('ulvs')
    .description('userspace layer-4 load balancer: LVS/IPVS + keepalived in one process')
    .version(ulvsVersion(), '-V, --version', 'print the version')
    .showHelpAfterError();
  for (const sub of only ? [only] : SUBCOMMANDS) program.addCommand(await sub.load());
  exitTwoOnUsageErrors(program);
  return program;
}

/** The whole command tree (the man page is generated from its help). */
export async function cliProgram(): Promise<Command> {
  return buildProgram();
}

/**
 * Parses a ulvs command line. Every start goes through src/cli/entry.ts first (bin/ulvs.js,
 * the single executable), which sends `ipvsadm ...` (a link of that name) and `ulvs ipvsadm ...`
 * to ipvsadm's own parser and everything else here. The first word picks the one module loaded.
 */
export async function runCli(argv: string[] = process.argv): Promise<void> {
  const word = argv[2];
  const only = SUBCOMMANDS.find((s) => s.names.includes(word ?? ''));
  if (!only && (word === '-V' || word === '--version')) {
    process.stdout.write(`${ulvsVersion()}\n`);
    return;
  }
  await (await buildProgram(only)).parseAsync(argv);
}
