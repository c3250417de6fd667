// The thin I/O shell of sync: UDP multicast sockets as IPVS's sync daemon makes them
// (make_send_sock / make_receive_sock in ip_vs_sync.c) and as keepalived's lvs_sync_daemon
// configures them: group 224.0.0.81, port 8848, ttl 1 by default, on one interface.
// Encoding, decoding and signing are codec.ts's; this file only moves datagrams and counts.

import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';

import {
  decodeSyncMessage, encodeSyncMessages, type SyncDropReason, type SyncRecord, type SyncSkipReason,
} from './codec.js';
import { SYNC_GROUP, SYNC_PORT, SYNC_TTL, syncMaxLen } from './wire.js';

export interface SyncTransportOptions {
  /** lvs_sync_daemon interface, e.g. eth0: the sockets use its first IPv4 address. */
  interface: string;
  group?: string;
  port?: number;
  ttl?: number;
  /** lvs_sync_daemon id (syncid): sent in every message; a receiver with 0 accepts any. */
  syncId: number;
  /** lvs_sync_daemon maxlen; default the kernel's (1472 for a sender). */
  maxLen?: number;
  /** auth_key: sign what is sent, accept only what is signed with it. */
  key?: Uint8Array | string;
}

/** Plain counters, readable at any time (ulvs stats). */
export interface SyncCounters {
  sent: number;             // datagrams handed to the kernel
  sentRecords: number;
  sendErrors: number;
  received: number;         // datagrams read from the socket
  receiveErrors: number;
  receivedRecords: number;  // records decoded and passed on
  dropped: Record<SyncDropReason, number>;
  skipped: Record<SyncSkipReason, number>;
}

export function newSyncCounters(): SyncCounters {
  return {
    sent: 0, sentRecords: 0, sendErrors: 0, received: 0, receiveErrors: 0, receivedRecords: 0,
    dropped: {
      truncated: 0, 'bad-size': 0, 'bad-syncid': 0, 'version-0': 0, 'bad-version': 0,
      'bad-record': 0, unsigned: 0, 'bad-signature': 0,
    },
    skipped: { 'unsupported-protocol': 0, 'bad-state': 0, 'unknown-option': 0, 'bad-pe': 0 },
  };
}

/** The interface's first IPv4 address; throws an Error that says what to fix. */
export function interfaceIPv4(name: string): string {
  const addrs = networkInterfaces()[name];
  if (!addrs) throw new Error(`lvs_sync_daemon interface ${name} does not exist`);
  const v4 = addrs.find((a) => a.family === 'IPv4');
  if (!v4) throw new Error(`lvs_sync_daemon interface ${name} has no IPv4 address (the sync sockets use it, as IPVS's do)`);
  return v4.address;
}

function bindSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

export interface SyncSender {
  readonly counters: SyncCounters;
  readonly localAddress: string;
  /**
   * Encodes and sends; returns the number of datagrams. Send errors are counted, not thrown;
   * a record the wire cannot carry (encodeSyncMessages) throws RangeError before anything is sent.
   */
  send(records: readonly SyncRecord[]): number;
  /** Sends one datagram as given (a resync request: an empty v1 message). */
  sendRaw(datagram: Buffer): void;
  close(): void;
}

/** The master's socket: bound to the interface address, multicast out of it, no loopback. */
export async function openSyncSender(opts: SyncTransportOptions, counters = newSyncCounters()): Promise<SyncSender> {
  const localAddress = interfaceIPv4(opts.interface);
  const group = opts.group ?? SYNC_GROUP;
  const port = opts.port ?? SYNC_PORT;
  const maxLen = syncMaxLen('master', 1500, opts.maxLen ?? 0);
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await bindSocket(socket, 0, localAddress);
    socket.setMulticastInterface(localAddress);
    socket.setMulticastTTL(opts.ttl ?? SYNC_TTL);
    socket.setMulticastLoopback(false);
  } catch (err) {
    socket.close();
    throw err;
  }
  socket.on('error', () => { counters.sendErrors++; });
  let closed = false;
  return {
    counters,
    localAddress,
    send(records) {
      if (closed || records.length === 0) return 0;
      const messages = encodeSyncMessages(records, { syncId: opts.syncId, maxLen, key: opts.key });
      for (const msg of messages) {
        socket.send(msg, port, group, (err) => {
          if (err) counters.sendErrors++;
        });
      }
      counters.sent += messages.length;
      counters.sentRecords += records.length;
      return messages.length;
    },
    sendRaw(datagram) {
      if (closed) return;
      socket.send(datagram, port, group, (err) => { if (err) counters.sendErrors++; });
      counters.sent++;
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}

export interface SyncReceiver {
  readonly counters: SyncCounters;
  close(): void;
}

/** What the receiver hands on: the records of one accepted datagram and who sent it. */
export type SyncRecordsHandler = (records: SyncRecord[], from: { address: string; syncId: number }) => void;

/**
 * The backup's socket: bound to group:port (so only that group's datagrams arrive) with the
 * group joined on the interface. IPVS also binds its socket to the device; node has no
 * SO_BINDTODEVICE, and the membership on the interface's address confines it the same way.
 */
export async function openSyncReceiver(opts: SyncTransportOptions, onRecords: SyncRecordsHandler,
  counters = newSyncCounters()): Promise<SyncReceiver> {
  const localAddress = interfaceIPv4(opts.interface);
  const group = opts.group ?? SYNC_GROUP;
  const port = opts.port ?? SYNC_PORT;
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await bindSocket(socket, port, group);
    socket.addMembership(group, localAddress);
  } catch (err) {
    socket.close();
    throw err;
  }
  const decodeOptions = { syncId: opts.syncId, key: opts.key };
  socket.on('error', () => { counters.receiveErrors++; });
  socket.on('message', (msg, rinfo) => {
    counters.received++;
    const result = decodeSyncMessage(msg, decodeOptions);
    if ('drop' in result) {
      counters.dropped[result.drop]++;
      return;
    }
    for (const reason of result.skipped) counters.skipped[reason]++;
    counters.receivedRecords += result.records.length;
    // An empty message is passed on too: from a ulvs backup it asks the master for its table.
    onRecords(result.records, { address: rinfo.address, syncId: result.syncId });
  });
  let closed = false;
  return {
    counters,
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
