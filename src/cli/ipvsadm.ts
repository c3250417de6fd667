/**
 * `ulvs ipvsadm ARGS...` and the same entry invoked as `ipvsadm` (a symlink to bin/ulvs.js):
 * ipvsadm 1.31's command line against the director of this network namespace. Listings are
 * formatted here from the director's data; changes go to it as runtime overrides.
 */
import { readFileSync } from 'node:fs';
import { formatTimeouts, type Timeouts } from '../conntrack/tcp-states.js';
import {
  formatConnections, formatIpvsList, formatIpvsService, formatRules, type ConnectionEntry, type ServiceStatus,
} from '../control/format.js';
import type { NumberedEdit, RuntimeReply } from '../control/ipvsadm-commands.js';
import type { RuntimeEdit } from '../control/runtime-overrides.js';
import { REFUSED, controlSocketPath, requestControl } from '../control/socket.js';
import type { SyncStatus } from '../sync/daemon.js';
import { IpvsadmExit, parseIpvsadm, type IpvsCommand } from './ipvsadm-args.js';
import { systemNames, type NameTables } from './ipvsadm-names.js';

export interface IpvsadmIo {
  ask(command: string, args?: Record<string, unknown>): Promise<unknown>;
  stdin(): string;
  names: NameTables;
}

export interface IpvsadmResult { stdout: string; stderr: string; status: number }

/** Socket: $ULVS_SOCKET, else this namespace's default director (ipvsadm has no option for it). */
export function defaultIo(): IpvsadmIo {
  const path = controlSocketPath('default', process.env.ULVS_SOCKET || undefined);
  return { ask: (c, a) => requestControl(path, c, a), stdin: () => readFileSync(0, 'utf8'), names: systemNames() };
}

/** A parsed change as the director's runtime edit; null for commands that are not table edits. */
export function toEdit(c: IpvsCommand): RuntimeEdit | null {
  const service = c.service ? { protocol: c.service.protocol, vip: c.service.vip, port: c.service.port, ...(c.service.fwmark !== undefined ? { fwmark: c.service.fwmark } : {}) } : undefined;
  switch (c.command) {
    case 'flush': return { op: 'flush' };
    case 'add-service': case 'edit-service':
      return { op: c.command, service: service!, scheduler: c.scheduler, persistent: c.persistent, netmask: c.netmask, ops: c.ops, schedFlags: c.schedFlags };
    case 'delete-service': return { op: 'delete-service', service: service! };
    case 'add-server': case 'edit-server':
      return { op: c.command, service: service!, server: c.server!, forward: c.forward, weight: c.weight, uthreshold: c.uthreshold, lthreshold: c.lthreshold };
    case 'delete-server': return { op: 'delete-server', service: service!, server: c.server! };
    default: return null;
  }
}

/** config_stream_read(): whitespace-separated tokens, `#` to the end of the line ignored, the word "ipvsadm" skipped. */
export function restoreLines(text: string): { line: number; args: string[] }[] {
  return text.split('\n').map((raw, i) => ({ line: i + 1, args: raw.replace(/#.*/, '').split(/[ \t\r]+/).filter((t) => t && t !== 'ipvsadm') }))
    .filter((l) => l.args.length > 0);
}

const out = (stdout: string): IpvsadmResult => ({ stdout, stderr: '', status: 0 });
const err = (stderr: string, status: number): IpvsadmResult => ({ stdout: '', stderr: stderr.endsWith('\n') ? stderr : `${stderr}\n`, status });

function refused(reply: RuntimeReply): IpvsadmResult {
  if (reply.ok) return out('');
  return err(reply.line ? reply.error.split('\n').map((m) => `line ${reply.line}: ${m}`).join('\n') : reply.error, reply.status);
}

async function list(c: IpvsCommand, io: IpvsadmIo): Promise<IpvsadmResult> {
  if (c.connections) {
    const reply = await io.ask('conns') as { connections: ConnectionEntry[] };
    return out(formatConnections(reply.connections, c.format, io.names));
  }
  if (c.timeout) {
    const reply = await io.ask('timeout') as { timeouts: Timeouts };
    return out(formatTimeouts(reply.timeouts) + '\n');
  }
  if (c.daemon) {
    const reply = await io.ask('status') as { sync?: SyncStatus | null };
    const s = reply.sync;
    return out(s ? `${s.role} sync daemon (mcast=${s.interface}, syncid=${s.syncId})\n` : '');
  }
  const reply = await io.ask('list') as { services: ServiceStatus[]; tableSize?: number };
  if (c.service) {
    const svc = c.service;
    const found = svc.fwmark === undefined && reply.services.find((s) => s.protocol === svc.protocol && s.vip === svc.vip && s.port === svc.port);
    if (!found) return err('No such service', 1);
    return out(formatIpvsService(found, c.format, io.names));
  }
  return out(formatIpvsList(reply.services, reply.tableSize ?? 4096, c.format, io.names));
}

async function restore(io: IpvsadmIo, program: string): Promise<IpvsadmResult> {
  const edits: NumberedEdit[] = [];
  let timeouts: Record<string, number> | null = null;
  for (const { line, args } of restoreLines(io.stdin())) {
    let c: IpvsCommand;
    try {
      c = parseIpvsadm(args, io.names, program);
    } catch (e) {
      if (e instanceof IpvsadmExit) return err(`line ${line}: ${e.message}`, e.status || 2);
      throw e;
    }
    if (c.command === 'set') { timeouts = nonZero(c.timeouts!); continue; }
    const edit = toEdit(c);
    if (!edit) return err(`line ${line}: ${c.command} cannot be restored (only table changes and --set): nothing was changed`, 2);
    edits.push({ line, edit });
  }
  const reply = await io.ask('ipvsadm', { edits }) as RuntimeReply;
  if (!reply.ok) return { ...refused(reply), stderr: refused(reply).stderr + 'restore: nothing was changed\n' };
  if (timeouts) await io.ask('timeout', { set: timeouts });
  return out('');
}

/** --set: 0 keeps a value, as IPVS does. */
function nonZero(t: { tcp: number; tcpfin: number; udp: number }): Record<string, number> {
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v > 0));
}

/** Runs one ipvsadm command line; never exits the process (the caller does). */
export async function runIpvsadm(args: readonly string[], io: IpvsadmIo, program = 'ipvsadm'): Promise<IpvsadmResult> {
  let c: IpvsCommand;
  try {
    // No argument at all lists the table with names, as ipvsadm does.
    c = args.length === 0 ? parseIpvsadm(['-L'], io.names, program) : parseIpvsadm(args, io.names, program);
  } catch (e) {
    if (!(e instanceof IpvsadmExit)) throw e;
    return e.toStdout ? { stdout: e.message.endsWith('\n') ? e.message : `${e.message}\n`, stderr: '', status: e.status } : err(e.message, e.status);
  }
  try {
    switch (c.command) {
      case 'list': return await list(c, io);
      case 'save': {
        const reply = await io.ask('list') as { services: ServiceStatus[] };
        return out(formatRules(reply.services, c.format.numeric, io.names));
      }
      case 'restore': return await restore(io, program);
      case 'set': await io.ask('timeout', { set: nonZero(c.timeouts!) }); return out('');
      case 'zero': {
        const s = c.service;
        await io.ask('zero', s ? { service: { protocol: s.protocol, vip: s.vip, port: s.port } } : {});
        return out('');
      }
      case 'start-daemon': case 'stop-daemon':
        return err('ulvs runs connection sync from the config (global_defs.lvs_sync_daemon), bound to a VRRP instance: set it there and reload', 255);
      default: {
        const edit = toEdit(c)!;
        return refused(await io.ask('ipvsadm', { edits: [{ line: 0, edit }] }) as RuntimeReply);
      }
    }
  } catch (e) {
    // Refused by the control socket's permissions: exit 4, as every ulvs command (scripts tell it from a failure).
    return err(`${program}: ${(e as Error).message}`, (e as NodeJS.ErrnoException).code === REFUSED ? 4 : 1);
  }
}
