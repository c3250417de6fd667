/**
 * Which flows the dataplane hands to connection sync, and when (pure over the flow table; no
 * allocation). IPVS syncs a connection every `sync_threshold` packets; ulvs instead offers it
 * when it reaches a state worth holding on the backup (ESTABLISHED and the closing states), and
 * again while it stays ESTABLISHED every SYNC_REFRESH_S seconds it carries traffic (IPVS's
 * sync_refresh_period idea), so the backup holds every established connection right after its
 * handshake and never lets one time out that the master still has. Half-open connections are
 * never offered: a SYN flood does not reach the sync channel.
 *
 * Persistence templates go with their connections, as IPVS's ip_vs_sync_conn sends cp->control
 * after cp: a flow's offer carries its template when that template is new to the backup or was
 * last offered SYNC_REFRESH_S ago (a busy client's template is not repeated with every flow).
 */
import type { FlowTable } from '../conntrack/flow-table.js';
import type { PersistenceTable } from '../conntrack/persistence.js';
import {
  TCP_CLOSE, TCP_CLOSE_WAIT, TCP_ESTABLISHED, TCP_FIN_WAIT, TCP_LAST_ACK, TCP_STATE_COUNT, TCP_TIME_WAIT,
} from '../conntrack/tcp-states.js';
import { writeFlowRecord, writeTemplateRecord, type OutboxRecord, type OutboxRecord6, type SyncOutbox } from './sync-outbox.js';
import { writeFlowRecord6, writeTemplateRecord6, type FlowFields6 } from './sync-outbox6.js';

/**
 * The persistence of a synced record's service on THIS director, resolved by the main thread
 * from the whole config. A BACKUP's workers forward no service (it holds no VIP: their snapshot
 * is empty), so they cannot look it up themselves; they install what they are given.
 */
export interface ImportedPersistence {
  /** persistence_timeout here (0: the service is not persistent). */
  persistenceTimeout: number;
  /** persistence_granularity here, as a host-order mask. */
  persistenceMask: number;
}

/**
 * A flow the dataplane should install, as the master had it: an outbox record's fields (state,
 * addresses, service, rsId, seconds left; 0 = this table's timeout) plus whether it is NAT (the
 * reply tuple must be tracked too) and its service's persistence (to hold its template).
 */
export type ImportedFlow = Omit<OutboxRecord, 'kind'> & ImportedPersistence & { nat: boolean };

/**
 * A persistence template to install, as the master had it: the masked client (clientIp),
 * service, chosen real server, seconds left, and the listing fields (proto, vip, vport, rsIp,
 * rsPort), with this director's persistence_timeout for the service (its lifetime here).
 */
export type ImportedTemplate = Omit<OutboxRecord, 'kind' | 'state' | 'clientPort'> & Pick<ImportedPersistence, 'persistenceTimeout'>;

/** An IPv6 flow to install (ipv6-steps.ts): persistence_granularity is a prefix length. */
export type ImportedFlow6 = Omit<OutboxRecord6, 'kind'> & { nat: boolean; persistenceTimeout: number; persistencePrefix: number };
/** An IPv6 persistence template to install (clientIp: the masked client, as the master sent it). */
export type ImportedTemplate6 = Omit<OutboxRecord6, 'kind' | 'state' | 'clientPort'> & Pick<ImportedPersistence, 'persistenceTimeout'>;

/** What an IPv6 SyncOffers copies from: its table's addresses, and each real server's 16 bytes by rsId. */
export interface Ipv6SyncSource { flows: FlowFields6; rsAddress: Uint8Array }

/** Seconds between two offers of one ESTABLISHED (or UDP) flow that keeps carrying traffic. */
export const SYNC_REFRESH_S = 30;

/** TCP states whose arrival is synced. */
const SYNC_ON_STATE = new Uint8Array(TCP_STATE_COUNT);
for (const s of [TCP_ESTABLISHED, TCP_FIN_WAIT, TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK]) SYNC_ON_STATE[s] = 1;

/** Whether a flow in this state is worth a backup's table (a dump sends only these). */
export function isSyncWorthy(proto: number, state: number): boolean {
  return proto !== 6 || SYNC_ON_STATE[state] === 1;
}

export class SyncOffers {
  /** null: this director does not send (not the sync MASTER, or no lvs_sync_daemon). */
  outbox: SyncOutbox | null = null;
  /** Offers made (pushed or refused by a full outbox). */
  offered = 0;
  /** Second each flow was last offered; indexed by flow. */
  private readonly offeredAt: Uint32Array;

  /** Templates offered (pushed or refused by a full outbox). */
  templatesOffered = 0;
  /** Second each template was last offered, plus one (0: not yet); indexed by template. */
  private readonly templateOfferedAt: Uint32Array;

  /**
   * `v6`: the offers of an IPv6 table (ipv6-steps.ts), whose records take three ring slots
   * (push6); null for IPv4. One branch per offer, not per packet.
   */
  constructor(private readonly flows: FlowTable, private readonly templates: PersistenceTable | null = null,
    private readonly v6: Ipv6SyncSource | null = null) {
    this.offeredAt = new Uint32Array(flows.slotCount);
    this.templateOfferedAt = new Uint32Array(templates?.capacity ?? 0);
  }

  /** A template was (re)inserted in slot `t`: the backup has not heard of it. */
  templateCreated(t: number): void {
    this.templateOfferedAt[t] = 0;
  }

  /** A template imported from the other director: its refresh clock starts now. */
  templateImported(t: number, now: number): void {
    this.templateOfferedAt[t] = now + 1;
  }

  /** After a TCP segment of `flow` went through the state machine; `before` is its prior state. */
  afterTcp(flow: number, before: number, now: number): void {
    const state = this.flows.state(flow);
    if (state !== before) {
      if (SYNC_ON_STATE[state] === 0) return;
    } else if (state !== TCP_ESTABLISHED || now - this.offeredAt[flow] < SYNC_REFRESH_S) {
      return;
    }
    this.offer(flow, now);
  }

  /** After a UDP datagram; `isNew`: it created the flow. */
  afterUdp(flow: number, isNew: boolean, now: number): void {
    if (!isNew && now - this.offeredAt[flow] < SYNC_REFRESH_S) return;
    this.offer(flow, now);
  }

  /** A flow imported from the other director: its refresh clock starts now. */
  imported(flow: number, now: number): void {
    this.offeredAt[flow] = now;
  }

  private offer(flow: number, now: number): void {
    const outbox = this.outbox!, v6 = this.v6;
    if (v6 === null) {
      writeFlowRecord(outbox.scratch, this.flows, flow, now);
      outbox.push();
    } else {
      writeFlowRecord6(outbox.scratch6, v6.flows, flow, now);
      outbox.push6();
    }
    this.offeredAt[flow] = now;
    this.offered++;
    const t = this.flows.template(flow);
    if (t < 0 || this.templates === null) return;
    const last = this.templateOfferedAt[t];
    if (last !== 0 && now + 1 - last < SYNC_REFRESH_S) return;
    let pushed: boolean;
    if (v6 === null) {
      writeTemplateRecord(outbox.scratch, this.templates, t, now);
      pushed = outbox.push();
    } else {
      writeTemplateRecord6(outbox.scratch6, this.templates, t, v6.rsAddress, now);
      pushed = outbox.push6();
    }
    // Refused by a full outbox: offered again with the template's next connection offer.
    if (pushed) this.templateOfferedAt[t] = now + 1;
    this.templatesOffered++;
  }
}
