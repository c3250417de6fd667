/**
 * The connection-sync daemon of one director (the shell): keepalived's `lvs_sync_daemon`, with
 * IPVS's wire format, in both directions. Its role follows the bound VRRP instance: as MASTER it
 * drains the workers' outboxes every DRAIN_MS and multicasts the flows; as BACKUP it installs
 * what the master sends. Beyond IPVS: a backup that starts (or restarts after a crash) asks the
 * master for its whole table with an empty message, so a failback to a restarted director loses
 * nothing; the master answers with every connection it holds.
 *
 * Beyond IPVS too, `mode: all` (role ALL, active-active behind ECMP): every director sends what
 * its own workers carry and installs what every other director sends, and each answers a
 * starting director's table request, so a director that joins knows the flows before the
 * router sends it any. Its own datagrams are ignored (multicast loopback is off; a datagram from
 * its own address is counted and dropped all the same). An imported flow is not offered again
 * until its own traffic changes its state (sync-offers.ts): no echo between directors.
 */
import type pino from 'pino';
import { encodeEmptySyncMessage, type SyncRecord } from './codec.js';
import type { OutboxRecord, OutboxRecord6, SyncOutbox } from '../dataplane/sync-outbox.js';
import { fromSyncRecord, toSyncRecord, type ImportIgnoreReason, type ImportedFlow, type ImportedTemplate, type SyncIndex } from './records.js';
import { fromSyncRecord6, toSyncRecord6, type ImportedFlow6, type ImportedTemplate6, type SyncIndex6 } from './records6.js';

/** What the workers copy out and hand back: IPv4 and IPv6 records (family 6). */
export type AnyOutboxRecord = OutboxRecord | OutboxRecord6;
import { newSyncCounters, openSyncReceiver, openSyncSender, type SyncCounters, type SyncReceiver, type SyncSender } from './transport.js';

/** How often the master drains the outboxes: a connection is on the wire within this of its change. */
export const DRAIN_MS = 20;
/**
 * After asking for the table, records are applied for this long whatever the role: a director
 * configured `state MASTER` claims at once on a restart, before the answer arrives.
 */
export const RESYNC_WINDOW_MS = 5000;
/** Records drained per outbox per tick (bounds the main thread's work per tick). */
const DRAIN_MAX = 4096;

export interface SyncDaemonConfig {
  interface: string;
  /** The VRRP instance whose role decides (mode vrrp); absent with mode all. */
  instance?: string;
  mode?: 'vrrp' | 'all';
  id: number;
  port: number;
  ttl: number;
  group: string;
  maxlen?: number;
  auth_key?: string;
}

export type SyncRole = 'master' | 'backup' | 'all';

export interface SyncDaemonHooks {
  log: pino.Logger;
  /** The workers' outboxes. */
  outboxes(): SyncOutbox[];
  /** Forwarding method of a service id (FORWARD_*), undefined when unknown. */
  forwardOf(service: number): number | undefined;
  /** Indexes over the whole config (every VIP) to match received IPv4 and IPv6 records. */
  index(): { v4: SyncIndex; v6: SyncIndex6 };
  /** Installs templates, then flows, in the dataplane (posted to the workers). */
  importFlows(flows: (ImportedFlow | ImportedFlow6)[], templates: (ImportedTemplate | ImportedTemplate6)[]): void;
  /** Each worker's claims ring (queues > 1: it counts a synced flow now), in queue order. */
  claimRings(): SyncOutbox[];
  /** Tells every worker but `worker` that `worker` counts these flows now. */
  disown(worker: number, flows: AnyOutboxRecord[]): void;
  /** Tells the workers whether to fill their outboxes (only the master's do). */
  setSending(on: boolean): void;
  /** Every connection the workers hold, for a resync. */
  dumpFlows(): Promise<AnyOutboxRecord[]>;
}

export interface SyncStatus {
  role: SyncRole;
  /** null with mode all. */
  instance: string | null;
  interface: string;
  syncId: number;
  signed: boolean;
  /** Last director heard from, and how long ago (ms). */
  peer: { address: string; agoMs: number } | null;
  /** Every director heard from (mode all has several), most recent first. */
  peers: { address: string; agoMs: number }[];
  counters: SyncCounters & { applied: number; appliedTemplates: number; claims: number; ignored: Record<IgnoreReason, number>; resyncRequests: number; resyncsSent: number; outboxOverflows: number };
}

/** Why received records were not applied: the import's reasons, not the backup, or our own datagram. */
export type IgnoreReason = ImportIgnoreReason | 'not-backup' | 'own-message';

export class SyncDaemon {
  private role: SyncRole = 'backup';
  private sender: SyncSender | null = null;
  private receiver: SyncReceiver | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly counters = newSyncCounters();
  private applied = 0;
  private appliedTemplates = 0;
  private claims = 0;
  private resyncRequests = 0;
  private resyncsSent = 0;
  private readonly ignored: Record<IgnoreReason, number> = {
    'not-ipv4': 0, 'template-not-persistent': 0, 'unknown-service': 0, 'unknown-real-server': 0, 'wrong-method': 0, 'bad-state': 0, 'not-backup': 0, 'own-message': 0,
  };
  /** Every director heard from, and when (performance.now()): status's peer is the latest. */
  private readonly peers = new Map<string, number>();
  private resyncUntil = 0;

  constructor(private readonly config: SyncDaemonConfig, private readonly hooks: SyncDaemonHooks) {}

  async start(): Promise<void> {
    const opts = {
      interface: this.config.interface, group: this.config.group, port: this.config.port, ttl: this.config.ttl,
      syncId: this.config.id, maxLen: this.config.maxlen, key: this.config.auth_key,
    };
    this.sender = await openSyncSender(opts, this.counters);
    try {
      this.receiver = await openSyncReceiver(opts, (records, from) => this.onRecords(records, from.address), this.counters);
    } catch (err) {
      this.sender.close();
      throw err;
    }
    const all = this.config.mode === 'all';
    this.role = all ? 'all' : 'backup';
    this.hooks.setSending(all);
    this.timer = setInterval(() => this.drain(), DRAIN_MS);
    this.timer.unref();
    const fields = { interface: this.config.interface, instance: this.config.instance, mode: this.config.mode ?? 'vrrp', syncid: this.config.id,
      group: `${this.config.group}:${this.config.port}`, signed: this.config.auth_key !== undefined };
    if (all) this.hooks.log.info(fields, 'connection sync: ALL (every director sends and receives); asking the others for their tables');
    else this.hooks.log.info(fields, 'connection sync: BACKUP until VRRP instance %s is MASTER; asking a master for its table', this.config.instance);
    this.requestResync();
  }

  /** VRRP said the bound instance is (or is no longer) MASTER. */
  setRole(role: SyncRole): void {
    // mode all: VRRP decides nothing here.
    if (role === this.role || this.role === 'all') return;
    this.role = role;
    this.hooks.setSending(role === 'master');
    this.hooks.log.info({ instance: this.config.instance }, `connection sync: now ${role.toUpperCase()} (${role === 'master' ? 'sending' : 'receiving'})`);
    if (role === 'backup') this.requestResync();
  }

  status(): SyncStatus {
    const overflows = this.hooks.outboxes().reduce((sum, o) => sum + o.overflows, 0);
    const peers = [...this.peers].sort((a, b) => b[1] - a[1]).map(([address, at]) => ({ address, agoMs: Math.round(performance.now() - at) }));
    return {
      role: this.role, instance: this.config.instance ?? null, interface: this.config.interface, syncId: this.config.id,
      signed: this.config.auth_key !== undefined,
      peer: peers[0] ?? null,
      peers,
      counters: { ...this.counters, dropped: { ...this.counters.dropped }, skipped: { ...this.counters.skipped },
        applied: this.applied, appliedTemplates: this.appliedTemplates, claims: this.claims, ignored: { ...this.ignored }, resyncRequests: this.resyncRequests, resyncsSent: this.resyncsSent,
        outboxOverflows: overflows },
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sender?.close();
    this.receiver?.close();
    this.sender = this.receiver = null;
  }

  private drain(): void {
    // Whatever the role: after a takeover the new master's workers claim the flows they carry.
    this.hooks.claimRings().forEach((ring, worker) => {
      const claimed: AnyOutboxRecord[] = [];
      ring.drain((r) => claimed.push(r), DRAIN_MAX);
      if (claimed.length === 0) return;
      this.claims += claimed.length;
      this.hooks.disown(worker, claimed);
    });
    const out: SyncRecord[] = [];
    for (const box of this.hooks.outboxes()) {
      box.drain((r) => { if (this.role !== 'backup') this.addWireRecord(r, out); }, DRAIN_MAX);
    }
    if (out.length > 0) this.sender?.send(out);
  }

  /** The IPVS record of a flow of a service this director still has (a reload may remove one). */
  private addWireRecord(r: AnyOutboxRecord, out: SyncRecord[]): void {
    const forward = this.hooks.forwardOf(r.service);
    if (forward === undefined) return;
    out.push(r.family === 6 ? toSyncRecord6(r, forward) : toSyncRecord(r, forward));
  }

  /** An empty IPVS v1 message: a kernel backup processes zero records; a ulvs master resyncs. */
  private requestResync(): void {
    // Monotonic: a wall-clock jump must not stretch or cut the window.
    this.resyncUntil = performance.now() + RESYNC_WINDOW_MS;
    this.sender?.sendRaw(encodeEmptySyncMessage({ syncId: this.config.id, key: this.config.auth_key }));
  }

  private onRecords(records: SyncRecord[], from: string): void {
    if (from === this.sender?.localAddress) {
      this.ignored['own-message'] += Math.max(1, records.length);
      return;
    }
    const now = performance.now();
    this.peers.set(from, now);
    if (records.length === 0) {
      this.resyncRequests++;
      if (this.role !== 'backup') {
        // A worker that does not answer must not become an unhandled rejection: say it once.
        this.resync(from).catch((err: Error) => this.hooks.log.warn({ peer: from, err: err.message }, 'connection sync: resync not sent'));
      }
      return;
    }
    if (this.role === 'master' && now > this.resyncUntil) {
      this.ignored['not-backup'] += records.length;
      return;
    }
    const index = this.hooks.index();
    const flows: (ImportedFlow | ImportedFlow6)[] = [];
    const templates: (ImportedTemplate | ImportedTemplate6)[] = [];
    for (const r of records) {
      const f = r.family === 6 ? fromSyncRecord6(r, index.v6) : fromSyncRecord(r, index.v4);
      if ('ignored' in f) this.ignored[f.ignored]++;
      else if (f.kind === 'template') templates.push(f);
      else flows.push(f);
    }
    if (flows.length > 0 || templates.length > 0) {
      this.applied += flows.length;
      this.appliedTemplates += templates.length;
      this.hooks.importFlows(flows, templates);
    }
  }

  private async resync(to: string): Promise<void> {
    const out: SyncRecord[] = [];
    for (const r of await this.hooks.dumpFlows()) this.addWireRecord(r, out);
    this.sender?.send(out);
    this.resyncsSent++;
    this.hooks.log.info({ peer: to, connections: out.length }, `connection sync: sent the whole table to a starting ${this.role === 'all' ? 'director' : 'backup'}`);
  }
}
