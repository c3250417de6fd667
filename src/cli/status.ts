// `ulvs status`: each VRRP instance's state, priority (effective/configured), master,
// and last transition with its reason; `--json` is the whole document the director answers
// the control command `status` with: VRRP instances (with tracked objects), checkers, sync,
// runtime overrides and the addresses held.

import { Command } from 'commander';
import { REFUSED, controlSocketPath, requestControl } from '../control/socket.js';
import type { InstanceStatus } from '../vrrp/speaker.js';
import type { SyncStatus } from '../sync/daemon.js';
import type { BgpStatus } from '../bgp/announcer.js';
import { formatBgpStatus } from './bgp.js';
import { describeOverrides } from '../control/ipvsadm-commands.js';
import type { RuntimeOverrides } from '../control/runtime-overrides.js';

export interface StatusReply {
  vrrp: InstanceStatus[]; sync?: SyncStatus | null; bgp?: BgpStatus | null;
  health?: { checkers: unknown[]; realServers: unknown[]; quorum: unknown[] };
  runtime?: { overrides: RuntimeOverrides; dormant: string[] };
  addresses?: { address: string; dev: string }[];
}

/** Human form: one block per instance, aligned like `ip -br`. */
export function formatStatus(instances: readonly InstanceStatus[], now: Date = new Date()): string {
  if (instances.length === 0) return 'no vrrp_instances configured\n';
  const lines: string[] = [];
  for (const s of instances) {
    const prio = s.priority === s.configuredPriority ? `${s.priority}` : `${s.priority} (configured ${s.configuredPriority})`;
    lines.push(`${s.name}  ${s.state}`);
    lines.push(`  interface ${s.interface}  vrid ${s.vrid}  version ${s.version}${s.family === 6 ? ' over IPv6' : ''}  priority ${prio}`);
    lines.push(`  master ${s.masterIp ?? '-'}  vips ${s.vips.join(' ') || '-'}`);
    if (s.lastTransition) {
      const ago = formatAgo(now.getTime() - Date.parse(s.lastTransition.at));
      lines.push(`  last transition ${s.lastTransition.from} -> ${s.lastTransition.to} ${ago} ago (${s.lastTransition.at}): ${s.lastTransition.reason}`);
    } else {
      lines.push('  last transition -');
    }
    const drops = Object.entries(s.drops).filter(([, n]) => (n ?? 0) > 0);
    lines.push(`  adverts sent ${s.advertsSent} received ${s.advertsReceived}` +
      (drops.length ? `  dropped ${drops.map(([k, n]) => `${k}=${n}`).join(' ')}` : ''));
  }
  return lines.join('\n') + '\n';
}

export function formatStatusJson(instances: readonly InstanceStatus[], sync: SyncStatus | null = null): string {
  // `sync` only with lvs_sync_daemon: the document stays as it was for everybody else.
  return JSON.stringify(sync ? { vrrp: instances, sync } : { vrrp: instances }, null, 2) + '\n';
}

/** The connection-sync block of `ulvs status`; says so when no master was ever heard. */
export function formatSyncStatus(sync: SyncStatus): string {
  const c = sync.counters;
  const bound = sync.instance === null ? 'mode all' : sync.instance;
  const lines = [`sync  ${sync.role.toUpperCase()}  (lvs_sync_daemon ${sync.interface} ${bound} id ${sync.syncId}${sync.signed ? ', signed' : ''})`];
  // mode all hears from several directors: one line each.
  const peers = sync.instance === null ? (sync.peers ?? []) : (sync.peer ? [sync.peer] : []);
  for (const p of peers) lines.push(`  peer ${p.address}  last message ${formatAgo(p.agoMs)} ago`);
  if (peers.length === 0) lines.push('  peer -  no sync message from another director yet (a keepalived peer sends none without kernel IPVS)');
  const dropped = Object.entries(c.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`);
  const ignored = Object.entries(c.ignored).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`);
  lines.push(`  sent ${c.sent} (${c.sentRecords} connections)  received ${c.received} (${c.receivedRecords})  applied ${c.applied}` +
    (dropped.length ? `  dropped ${dropped.join(' ')}` : '') + (ignored.length ? `  ignored ${ignored.join(' ')}` : ''));
  return lines.join('\n') + '\n';
}

function formatAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** Asks the director of this network namespace and formats its answer. */
export async function runStatus(options: { instance?: string; socket?: string; json?: boolean } = {}): Promise<string> {
  const reply = await requestControl(controlSocketPath(options.instance, options.socket), 'status') as Partial<StatusReply>;
  const instances = reply.vrrp ?? [];
  const sync = reply.sync ?? null;
  if (options.json) return JSON.stringify({ ...reply, vrrp: instances, sync }, null, 2) + '\n';
  const overrides = reply.runtime ? describeOverrides(reply.runtime.overrides) : [];
  return formatStatus(instances) + (sync ? formatSyncStatus(sync) : '') + (reply.bgp ? formatBgpStatus(reply.bgp) : '')
    + (overrides.length ? `runtime overrides (ulvs ipvsadm)\n${overrides.map((l) => `  ${l}\n`).join('')}` : '');
}

/** `ulvs status`. */
export function statusCommand(): Command {
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
