/** The commands that talk to a running director over its control socket: reload, list, conns,
 * timeout, stats. Kept apart from `run` so that they load no director, config or dataplane code. */
import { Command, Option } from 'commander';
import { REFUSED, controlSocketPath, requestControl } from '../control/socket.js';
import { describeOverrides } from '../control/ipvsadm-commands.js';
import type { RuntimeOverrides } from '../control/runtime-overrides.js';
import { defaultIo, runIpvsadm } from './ipvsadm.js';

/** The short forms run ipvsadm's own code (`ulvs list` is `ipvsadm -Ln`), on the --socket given. */
async function asIpvsadm(opts: { socket?: string }, args: string[]): Promise<string> {
  const io = defaultIo();
  const path = controlSocketPath('default', opts.socket);
  const result = await runIpvsadm(args, { ...io, ask: (c, a) => requestControl(path, c, a) });
  if (result.status !== 0) {
    process.stderr.write(result.stderr.replace(/^ipvsadm: /, 'ulvs: '));
    process.exit(result.status);
  }
  return result.stdout;
}

/**
 * A reload answers once it is applied (VIP changes settled, workers on the new snapshot):
 * seconds on a loaded machine, and it queues behind a reload under way. The soak saw both
 * directors' reloads outlast the 5 s that other requests get (the reload still applied).
 */
const RELOAD_ANSWER_MS = 60_000;

const socketOption = () => new Option('--socket <path>', 'control socket (default: @ulvs/default in this network namespace)');

async function ask(opts: { socket?: string }, command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown> {
  try {
    return await requestControl(controlSocketPath('default', opts.socket), command, args, timeoutMs);
  } catch (err) {
    process.stderr.write(`ulvs: ${(err as Error).message}\n`);
    // A refusal by the control socket's permissions exits 4 (scripts tell it from a failure).
    process.exit((err as NodeJS.ErrnoException).code === REFUSED ? 4 : 1);
  }
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('print the running table as `ipvsadm -Ln` does')
    .option('-n, --numeric', 'numeric output (always on; accepted for ipvsadm habits)')
    .option('-c, --connections', 'list connections (as `ulvs conns`)')
    .option('--json', 'JSON output')
    .addOption(socketOption())
    .action(async (opts: { json?: boolean; connections?: boolean; socket?: string }) => {
      if (opts.json) {
        const reply = await ask(opts, opts.connections ? 'conns' : 'list') as { services?: unknown; connections?: unknown };
        process.stdout.write(JSON.stringify(reply.services ?? reply.connections, null, 2) + '\n');
        return;
      }
      process.stdout.write(await asIpvsadm(opts, opts.connections ? ['-Lnc'] : ['-Ln']));
      if (opts.connections) return;
      // Runtime overrides below the table (ipvsadm -Ln itself stays byte-identical).
      const runtime = await ask(opts, 'runtime') as { overrides: RuntimeOverrides; dormant: string[] };
      const lines = describeOverrides(runtime.overrides);
      if (lines.length) {
        process.stdout.write(`\nRuntime overrides (ulvs ipvsadm; kept across reload, dropped by \`ulvs reload --reset-runtime\`):\n${lines.map((l) => `  ${l}\n`).join('')}`);
      }
      for (const d of runtime.dormant) process.stdout.write(`  (dormant: ${d} is no longer in the config)\n`);
    });
}

export function connsCommand(): Command {
  return new Command('conns')
    .description('list connections as `ipvsadm -Lnc` does')
    .option('--json', 'JSON output')
    .addOption(socketOption())
    .action(async (opts: { json?: boolean; socket?: string }) => {
      if (opts.json) {
        const reply = await ask(opts, 'conns') as { connections: unknown };
        process.stdout.write(JSON.stringify(reply.connections, null, 2) + '\n');
        return;
      }
      process.stdout.write(await asIpvsadm(opts, ['-Lnc']));
    });
}

export function timeoutCommand(): Command {
  const cmd = new Command('timeout')
    .description('print the connection timeouts as `ipvsadm -L --timeout` does')
    .addOption(socketOption())
    .action(async (opts: { socket?: string }) => {
      process.stdout.write(await asIpvsadm(opts, ['-L', '--timeout']));
    });
  cmd.command('set')
    .description('set tcp, tcpfin and udp timeouts in seconds (ipvsadm --set; 0 keeps a value)')
    .argument('<tcp>').argument('<tcpfin>').argument('<udp>')
    .addOption(socketOption())
    .action(async (tcp: string, tcpfin: string, udp: string, opts: { socket?: string }) => {
      const set: Record<string, number> = {};
      for (const [name, text] of Object.entries({ tcp, tcpfin, udp })) {
        const value = Number(text);
        if (!Number.isInteger(value) || value < 0 || value > 2147483) {
          process.stderr.write(`ulvs: ${name} timeout must be a whole number of seconds (0 keeps it), got "${text}"\n`);
          process.exit(2);
        }
        if (value > 0) set[name] = value;
      }
      const reply = await ask(opts, 'timeout', { set }) as { text: string };
      process.stdout.write(reply.text);
    });
  return cmd;
}

export function reloadCommand(): Command {
  return new Command('reload')
    .description('apply the changed config file without dropping connections (like SIGHUP); runtime overrides stay')
    .option('--reset-runtime', 'drop the runtime overrides (ulvs ipvsadm changes) as well')
    .addOption(socketOption())
    .action(async (opts: { socket?: string; resetRuntime?: boolean }) => {
      const reply = await ask(opts, 'reload', opts.resetRuntime ? { resetRuntime: true } : undefined, RELOAD_ANSWER_MS) as { ok: boolean; errors: string[]; version?: number };
      if (reply.ok) {
        process.stdout.write(`reloaded (configuration version ${reply.version})\n`);
        return;
      }
      for (const e of reply.errors) process.stderr.write(`${e}\n`);
      process.stderr.write('reload rejected: the running configuration is unchanged\n');
      process.exit(2);
    });
}

export function statsCommand(): Command {
  return new Command('stats')
    .description('packet counters: received, sent, drops by reason')
    .option('--json', 'JSON output')
    .addOption(socketOption())
    .action(async (opts: { json?: boolean; socket?: string }) => {
      const stats = await ask(opts, 'stats') as Record<string, number>;
      if (opts.json) process.stdout.write(JSON.stringify(stats, null, 2) + '\n');
      else for (const [k, v] of Object.entries(stats)) if (v || !k.startsWith('drop_')) process.stdout.write(`${k.padEnd(28)} ${v}\n`);
    });
}
