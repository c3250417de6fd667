// `ulvs realserver start|stop|status`: prepares a real server for DR/TUN (src/realserver/).
import { Command, Option } from 'commander';
import { capabilityMessage, missingCapabilities } from '../appliance/capabilities.js';
import { describeStatus, planStart, planStop, stepCommand, validateRequest, type RealServerMode, type Step } from '../realserver/plan.js';
import { applySteps, defaultStatePath, ensureTunnelDevice, readCurrentState, readRecord, removeRecord, writeRecord } from '../realserver/machine.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** status: something is missing (LSB's "not running"). */
const EXIT_NOT_IN_PLACE = 3;

interface Options { vip: string[]; mode: RealServerMode; dryRun: boolean; state?: string; json?: boolean }

function fail(message: string, code: number): never {
  process.stderr.write(`ulvs realserver: ${message}\n`);
  process.exit(code);
}

function print(steps: Step[], dryRun: boolean): void {
  for (const step of steps) process.stdout.write(`${dryRun ? '' : '+ '}${stepCommand(step).join(' ')}\n`);
}

function mayChange(dryRun: boolean): void {
  if (dryRun) return;
  const missing = missingCapabilities(['CAP_NET_ADMIN']);
  if (missing.length) fail(capabilityMessage('changing addresses and sysctls', missing), EXIT_FAILURE);
}

async function start(opts: Options): Promise<void> {
  const problem = validateRequest(opts.vip, opts.mode);
  if (problem) fail(problem, EXIT_USAGE);
  mayChange(opts.dryRun);
  const statePath = opts.state ?? defaultStatePath();
  const previous = readRecord(statePath);
  if (previous && previous.mode !== opts.mode) {
    fail(`already started in mode ${previous.mode} (${statePath}): run \`ulvs realserver stop\` first`, EXIT_FAILURE);
  }
  if (opts.mode === 'tun' && !opts.dryRun) await ensureTunnelDevice();
  const state = await readCurrentState(opts.vip, opts.mode, previous);
  const { steps, record } = planStart(opts.vip, opts.mode, state, previous);
  print(steps, opts.dryRun);
  if (opts.dryRun) return;
  // Recorded before changing: a start that fails half-way can still be stopped.
  writeRecord(statePath, record);
  await applySteps(steps);
  process.stdout.write(`realserver ${opts.mode}: ${record.vips.join(', ')} in place${steps.length ? '' : ' (nothing to change)'}; recorded in ${statePath}\n`);
}

async function stop(opts: Options): Promise<void> {
  mayChange(opts.dryRun);
  const statePath = opts.state ?? defaultStatePath();
  const record = readRecord(statePath);
  if (!record) {
    process.stdout.write(`realserver: nothing recorded in ${statePath}, nothing to undo\n`);
    return;
  }
  const state = await readCurrentState(record.vips, record.mode, record);
  const steps = planStop(record, state);
  print(steps, opts.dryRun);
  if (opts.dryRun) return;
  await applySteps(steps);
  removeRecord(statePath);
  process.stdout.write(`realserver ${record.mode}: ${record.vips.join(', ')} removed, prior values restored\n`);
}

async function status(opts: Options): Promise<void> {
  const record = readRecord(opts.state ?? defaultStatePath());
  const vips = opts.vip.length ? opts.vip : record?.vips ?? [];
  const mode = opts.vip.length ? opts.mode : record?.mode ?? opts.mode;
  const problem = validateRequest(vips, mode);
  if (problem) fail(vips.length ? problem : 'nothing started here: give --vip to check', EXIT_USAGE);
  const lines = describeStatus(vips, mode, await readCurrentState(vips, mode, record));
  const inPlace = lines.every((l) => l.ok);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ mode, vips, inPlace, started: record !== undefined, checks: lines }) + '\n');
  } else {
    process.stdout.write(`realserver ${mode} ${vips.join(', ')}: ${inPlace ? 'in place' : 'INCOMPLETE'}${record ? '' : ' (not started by ulvs)'}\n`);
    for (const l of lines) process.stdout.write(`  ${l.ok ? 'ok     ' : 'MISSING'} ${l.what} ${l.detail}\n`);
  }
  if (!inPlace) process.exitCode = EXIT_NOT_IN_PLACE;
}

export function realserverCommand(): Command {
  const realserver = new Command('realserver').description(
    'prepare this machine as a DR/TUN real server: VIPs on lo (or tunl0), arp_ignore/arp_announce, restored on stop');
  const common = (c: Command): Command => c
    .addOption(new Option('--vip <ip>', 'virtual IP (repeat for several)').argParser((v: string, acc: string[] = []) => [...acc, v]).default([]))
    .addOption(new Option('--mode <mode>', 'forwarding method of the director').choices(['dr', 'tun']).default('dr'))
    .option('--state <file>', 'record of what start changed (default: /run/ulvs/realserver.net-<netns inode>.json)');
  const wrap = (fn: (o: Options) => Promise<void>) => async (o: Options) => {
    try {
      await fn(o);
    } catch (err) {
      fail((err as Error).message.split('\n')[0], EXIT_FAILURE);
    }
  };
  common(realserver.command('start').description('add the VIPs and set the sysctls (idempotent); --dry-run prints the commands'))
    .option('--dry-run', 'print the commands, change nothing', false).action(wrap(start));
  common(realserver.command('stop').description('remove what start added and restore the recorded sysctl values'))
    .option('--dry-run', 'print the commands, change nothing', false).action(wrap(stop));
  common(realserver.command('status').description('what is in place and what is missing (exit 3 when incomplete)'))
    .option('--json', 'JSON output').action(wrap(status));
  return realserver;
}
