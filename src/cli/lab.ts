// `ulvs lab ...`: build, inspect and use the namespace lab (src/lab/) from the shell.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Command, Option } from 'commander';
import {
  DEFAULT_PREFIX,
  NODE_SHORT_NAMES,
  createLab,
  labNodes,
  labStatus,
  listLabPrefixes,
  namespaceExists,
  resolveNode,
  startServer,
  stopServer,
  type LabStatus,
  type LabTopology,
} from '../lab/index.js';
import { parseLabRealServerOptions, serveLabRealServer } from '../lab/real-server.js';
import { createEcmpLab, destroyEcmpLab, type EcmpLab } from '../lab/ecmp.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function fail(message: string, code: number = EXIT_FAILURE): void {
  process.stderr.write(`ulvs lab: ${message}\n`);
  process.exitCode = code;
}

// Namespaces need CAP_SYS_ADMIN; say so once instead of letting `ip` print a wall of errors.
function requireRoot(): boolean {
  if (process.getuid !== undefined && process.getuid() !== 0) {
    fail('must run as root (network namespaces need CAP_SYS_ADMIN); try sudo');
    return false;
  }
  return true;
}

/** Wraps an action: root check, and errors become one line on stderr with exit code 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    if (!requireRoot()) return;
    try {
      await fn(...args);
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    }
  };
}

const prefixOption = () => new Option('-p, --prefix <prefix>', 'namespace name prefix').default(DEFAULT_PREFIX);

function resolveOrExit(node: string, prefix: string): string | undefined {
  const resolved = resolveNode(node, prefix);
  if (!resolved.ok) {
    fail(resolved.message, EXIT_USAGE);
    return undefined;
  }
  return resolved.namespace;
}

export function describeTopology(topology: LabTopology): string {
  const lines = [`lab ${topology.prefix} up${topology.nat ? ' (NAT)' : ''}; VIP ${topology.vip} and ${topology.vip6} (added by the director)`];
  for (const node of Object.values(topology.nodes)) {
    const ifaces = node.interfaces.map((i) => `${i.name} ${i.ip}/${i.prefixLength} ${i.ip6}/64 ${i.mac}`).join(', ');
    const via = node.gateway === undefined ? '' : ` via ${node.gateway} and ${node.gateway6}`;
    lines.push(`  ${node.name.padEnd(topology.prefix.length + 7)} ${node.role.padEnd(8)} ${ifaces}${via}`);
  }
  return lines.join('\n');
}

export function describeEcmpLab(lab: EcmpLab): string {
  const lines = [`lab ${lab.topology.prefix} up (ECMP${lab.bfd ? ', BFD' : ''}); VIP ${lab.topology.vip} announced by each director's ulvs through bird2`];
  lines.push(`  ${lab.router.namespace}  router   eth0 ${lab.router.ip}/24, eth1 ${lab.router.clientSideIp}/24  bird2 AS 65000, ECMP (fib_multipath_hash_policy=1)`);
  lines.push(`  ${lab.client.namespace}  client   eth0 ${lab.client.ip}/24 via ${lab.client.gateway}`);
  for (const d of lab.directors) lines.push(`  ${d.namespace}  director eth0 ${d.ip}/24  bird2 AS 65001 (/etc/netns/${d.namespace}/bird)`);
  for (const rs of ['rs1', 'rs2', 'rs3'] as const) lines.push(`  ${lab.topology.nodes[rs].name}  real     eth0 ${lab.topology.nodes[rs].ip}/24`);
  lines.push('  run on each director: ip netns exec <dir> ulvs run -c configs/lab-ecmp.yaml');
  return lines.join('\n');
}

export function describeStatus(status: LabStatus): string {
  const state = status.up ? 'up' : status.partial ? 'partial (run `ulvs lab down` then `up`)' : 'down';
  const lines = [`lab ${status.prefix}: ${state}${status.up && status.nat ? ' (NAT)' : ''}`];
  if (!status.up && !status.partial) return lines[0];
  const nodes = labNodes(status.prefix, { nat: status.nat });
  for (const n of status.nodes) {
    const ip = n.short === 'switch' ? '' : nodes[n.short].interfaces.map((i) => i.ip).join(',');
    const server = n.serverPid === undefined ? '' : `  server pid ${n.serverPid}`;
    lines.push(`  ${n.namespace.padEnd(status.prefix.length + 7)} ${n.present ? 'present' : 'MISSING'} ${ip}${server}`);
  }
  return lines.join('\n');
}

export function labCommand(): Command {
  const lab = new Command('lab').description(
    `network-namespace lab: client, dir1, dir2, rs1..rs3 on one bridge (nodes: ${NODE_SHORT_NAMES.join(', ')})`,
  );

  lab
    .command('up')
    .description('create the lab (rebuilds it if it exists) and start the real servers')
    .option('--nat', 'add the inside segment 198.18.1.0/24 and move the real servers there', false)
    .option('--ecmp', 'add a router (bird2, ECMP over the directors by BGP), a third director, and move the client behind the router', false)
    .option('--bfd', 'with --ecmp: BFD on every BGP session (sub-second failure detection)', false)
    .addOption(prefixOption())
    .action(
      action(async (opts: { nat: boolean; ecmp: boolean; bfd: boolean; prefix: string }) => {
        if (opts.ecmp) {
          if (opts.nat) throw new Error('--ecmp builds on the DR lab: drop --nat');
          process.stdout.write(describeEcmpLab(await createEcmpLab({ prefix: opts.prefix, bfd: opts.bfd })) + '\n');
          return;
        }
        const topology = await createLab({ prefix: opts.prefix, nat: opts.nat });
        process.stdout.write(describeTopology(topology) + '\n');
      }),
    );

  lab
    .command('down')
    .description('remove the lab: servers, processes inside it, namespaces (idempotent)')
    .addOption(prefixOption())
    .action(
      action(async (opts: { prefix: string }) => {
        // The ECMP additions (router, dir3, their birds) go too when present.
        await destroyEcmpLab({ prefix: opts.prefix });
        process.stdout.write(`lab ${opts.prefix} down\n`);
      }),
    );

  lab
    .command('status')
    .description('show the lab(s) present')
    .addOption(new Option('-p, --prefix <prefix>', 'only this lab'))
    .option('--json', 'machine-readable output', false)
    .action(
      action(async (opts: { prefix?: string; json: boolean }) => {
        const prefixes = opts.prefix !== undefined ? [opts.prefix] : listLabPrefixes();
        if (prefixes.length === 0) prefixes.push(DEFAULT_PREFIX);
        const statuses = await Promise.all(prefixes.map((prefix) => labStatus({ prefix })));
        const text = opts.json ? JSON.stringify(statuses) : statuses.map(describeStatus).join('\n');
        process.stdout.write(text + '\n');
      }),
    );

  lab
    .command('exec')
    .description('run a command inside a lab node: ulvs lab exec rs1 -- curl -s http://198.18.0.10/')
    .argument('<node>', `node: ${NODE_SHORT_NAMES.join(', ')} or the full name (lab-rs1)`)
    .argument('<command...>', 'command and its arguments (put them after --)')
    .addOption(prefixOption())
    .allowUnknownOption()
    .action(
      action(async (node: string, command: string[], opts: { prefix: string }) => {
        const namespace = resolveOrExit(node, opts.prefix);
        if (namespace === undefined) return;
        if (!namespaceExists(namespace)) {
          fail(`namespace ${namespace} does not exist (run \`ulvs lab up\` first)`);
          return;
        }
        process.exitCode = await runInteractive(['netns', 'exec', namespace, ...command]);
      }),
    );

  const server = lab.command('server').description('start or stop the HTTP server on a node');
  for (const verb of ['start', 'stop'] as const) {
    server
      .command(verb)
      .argument('<node>', 'node, e.g. rs2 or lab-rs2')
      .addOption(prefixOption())
      .action(
        action(async (node: string, opts: { prefix: string }) => {
          const namespace = resolveOrExit(node, opts.prefix);
          if (namespace === undefined) return;
          if (verb === 'start') {
            const pid = await startServer(namespace);
            process.stdout.write(`server in ${namespace} running (pid ${pid})\n`);
          } else {
            const wasRunning = await stopServer(namespace);
            process.stdout.write(`server in ${namespace} ${wasRunning ? 'stopped' : 'was not running'}\n`);
          }
        }),
      );
  }

  // What `lab up` and `lab server start` run inside a real server's namespace (foreground).
  lab
    .command('serve')
    .description('run the lab real-server HTTP/UDP service in the foreground (the lab starts it in each rs)')
    .requiredOption('--name <name>', 'name the server answers with, e.g. rs1')
    .option('--port <port>', 'TCP and UDP port', '80')
    .option('--host <address>', 'IPv4 address to listen on', '0.0.0.0')
    .option('--host6 <address>', 'IPv6 address to listen on as well (IPv6 only), or none', '::')
    .option('--pidfile <file>', 'written once all sockets listen, removed on SIGTERM')
    .action((opts: { name: string; port: string; host: string; host6: string; pidfile?: string }) => {
      const options = parseLabRealServerOptions(opts);
      if (typeof options === 'string') return fail(options, EXIT_USAGE);
      serveLabRealServer(options);
    });
  return lab;
}

/** `ip` with inherited stdio; resolves to the exit code (128 + signal number if killed). */
function runInteractive(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', args, { stdio: 'inherit' });
    child.once('error', (error) => {
      process.stderr.write(`ulvs lab: ${error.message}\n`);
      resolve(EXIT_FAILURE);
    });
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + signalNumber(signal));
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 1 : (constants.signals[signal] ?? 1);
}
