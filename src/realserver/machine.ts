/**
 * The I/O shell of `ulvs realserver`: reads what this network namespace has (ip -j addr,
 * /proc/sys), runs the planned steps, keeps the record under /run/ulvs/. The decisions are in
 * plan.ts.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { run } from '../os/run.js';
import { TUNNEL_DEVICE, desiredSysctls, stepCommand, type Address, type CurrentState, type RealServerMode, type RealServerRecord, type Step } from './plan.js';

export const STATE_DIR = '/run/ulvs';

/**
 * One record per network namespace (/run is shared by all of them): named after the
 * namespace's inode, so `ip netns exec X ulvs realserver ...` keeps X's apart.
 */
export function defaultStatePath(): string {
  const ns = readlinkSync('/proc/self/ns/net').replace(/\D/g, '');
  return `${STATE_DIR}/realserver.net-${ns}.json`;
}

export function readRecord(path: string): RealServerRecord | undefined {
  if (!existsSync(path)) return undefined;
  const record = JSON.parse(readFileSync(path, 'utf8')) as RealServerRecord;
  if (record.version !== 1) throw new Error(`${path}: unknown record version ${String(record.version)}`);
  return record;
}

export function writeRecord(path: string, record: RealServerRecord): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const temp = `${path}.${process.pid}`;
  writeFileSync(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o644 });
  renameSync(temp, path);
}

export function removeRecord(path: string): void {
  rmSync(path, { force: true });
}

function sysctlPath(key: string): string {
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

/** What the namespace has now, for the sysctls these VIPs and mode care about (and the record's). */
export async function readCurrentState(vips: string[], mode: RealServerMode, record?: RealServerRecord): Promise<CurrentState> {
  const links = JSON.parse(await run('ip', ['-j', 'addr', 'show'])) as { ifname: string; flags?: string[]; addr_info?: { local: string; prefixlen: number }[] }[];
  const addresses: Address[] = [];
  for (const link of links) for (const a of link.addr_info ?? []) addresses.push({ dev: link.ifname, address: `${a.local}/${a.prefixlen}` });
  const tunnel = links.find((l) => l.ifname === TUNNEL_DEVICE);
  const keys = new Set([...Object.keys(desiredSysctls(vips, mode)), ...Object.keys(record?.priorSysctls ?? {})]);
  const sysctls: Record<string, string> = {};
  for (const key of keys) {
    try {
      sysctls[key] = readFileSync(sysctlPath(key), 'utf8').trim();
    } catch {
      // absent (e.g. tunl0's before the device exists): the plan leaves it alone
    }
  }
  return { addresses, sysctls, tunnelDevice: tunnel !== undefined, tunnelUp: tunnel?.flags?.includes('UP') ?? false };
}

/**
 * TUN needs tunl0, which exists once the ipip module is loaded. Loading it is the one change
 * made before the plan (it has no prior value to restore); when it cannot be had, say why.
 */
export async function ensureTunnelDevice(): Promise<void> {
  if (existsSync(`/sys/class/net/${TUNNEL_DEVICE}`)) return;
  const attempts: string[] = [];
  for (const [file, args] of [['modprobe', ['ipip']], ['ip', ['link', 'add', 'name', TUNNEL_DEVICE, 'type', 'ipip']]] as const) {
    try {
      await run(file, args);
    } catch (err) {
      attempts.push((err as Error).message.split('\n')[0]);
    }
    if (existsSync(`/sys/class/net/${TUNNEL_DEVICE}`)) return;
  }
  throw new Error(`mode tun needs ${TUNNEL_DEVICE} from the ipip module, which this kernel does not provide (${attempts.join('; ')}); nothing was changed`);
}

/** Runs the steps in order; a failing one stops the run with the command and its error. */
export async function applySteps(steps: Step[]): Promise<void> {
  for (const step of steps) {
    if (step.kind === 'sysctl') {
      // Written directly (the same effect as the printed `sysctl -w`; procps need not be there).
      writeFileSync(sysctlPath(step.key), `${step.to}\n`);
      continue;
    }
    const [file, ...args] = stepCommand(step);
    await run(file, args);
  }
}
