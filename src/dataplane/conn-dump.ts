/**
 * Connection dumps off the forwarding thread (issue 18 part 4). `ulvs conns` / `list -c` used to
 * build one JS object per flow inside the worker (a million objects at a million flows, with
 * forwarding stopped meanwhile). Now the worker copies at most DUMP_CHUNK entries per request
 * into a typed array it transfers (FlowRecords.dumpInto, PersistenceTable.dumpInto: a few words
 * per entry, no object), goes back to forwarding, and the main thread asks for the next chunk
 * and formats. Entries of later chunks are read later: like /proc/net/ip_vs_conn, a dump is not
 * one instant, but every entry in it was live when it was copied.
 */
import { TCP_STATE_NAMES, UDP_STATE_NAME } from '../conntrack/tcp-states.js';
import { numberToIp } from '../packet/addr.js';
import { DUMP_CLIENT, DUMP_EXPIRES_IN, DUMP_META, DUMP_PORTS, DUMP_RS_IP, DUMP_RS_PORT, DUMP_STATE_NONE, DUMP_VIP, DUMP_WORDS } from '../conntrack/dump-layout.js';
import type { ConnectionEntry } from '../control/format.js';

/** Entries per chunk: 16,384 x 28 bytes = 448 KiB, a few milliseconds of copying. */
export const DUMP_CHUNK = 16_384;
/** Slots a chunk walks at most (a sparse table must not hold the worker either). */
export const DUMP_VISITS = 4 * DUMP_CHUNK;

/** Which table a dump request walks: templates first, as ipvsadm -Lnc lists them. */
export const DUMP_TEMPLATES = 0;
export const DUMP_FLOWS = 1;
/**
 * IPv6 connections: still formatted by the worker, in one answer (`entries`), since their
 * addresses live in the IPv6 address table; an IPv6 table is small beside IPv4's for now.
 */
export const DUMP_FLOWS6 = 2;

export interface DumpRequest { type: 'conns'; id?: number; table: typeof DUMP_TEMPLATES | typeof DUMP_FLOWS | typeof DUMP_FLOWS6; from: number }
/** A worker's answer: `count` entries in `words`; `next` is the slot to ask from next, -1 when the table is done. */
export interface DumpChunk { words: Uint32Array; count: number; next: number; entries?: ConnectionEntry[] }

/** A table that copies its live entries from slot `from` into `out` (see the FlowRecords and PersistenceTable methods). */
export interface Dumpable { dumpInto(now: number, from: number, out: Uint32Array, maxVisits: number): { count: number; next: number } }

/** Worker side: one chunk of `table` from slot `from`, in a fresh buffer the caller transfers. */
export function dumpChunk(table: Dumpable, now: number, from: number): DumpChunk {
  const words = new Uint32Array(DUMP_CHUNK * DUMP_WORDS);
  const { count, next } = table.dumpInto(now, from, words, DUMP_VISITS);
  return { words, count, next };
}

/**
 * Main thread: every chunk of both tables of one worker, through `ask` (one request per chunk;
 * the worker forwards between them), formatted as the listing's entries.
 */
export async function collectConnections(ask: (request: DumpRequest) => Promise<DumpChunk | undefined>,
  out: ConnectionEntry[] = []): Promise<ConnectionEntry[]> {
  for (const table of [DUMP_TEMPLATES, DUMP_FLOWS, DUMP_FLOWS6] as const) {
    for (let from = 0; from >= 0;) {
      const chunk = await ask({ type: 'conns', table, from });
      if (!chunk) break; // the worker died meanwhile: what it held is gone
      formatChunk(chunk, out);
      if (chunk.entries) out.push(...chunk.entries);
      if (chunk.next >= 0 && chunk.next <= from) throw new Error(`connection dump did not advance (slot ${from})`);
      from = chunk.next;
    }
  }
  return out;
}

/** Appends a chunk's entries as the listing prints them. */
export function formatChunk(chunk: Pick<DumpChunk, 'words' | 'count'>, out: ConnectionEntry[]): void {
  const w = chunk.words;
  for (let i = 0; i < chunk.count; i++) {
    const b = i * DUMP_WORDS;
    const proto = (w[b + DUMP_META] >>> 8) & 0xff;
    const state = w[b + DUMP_META] & 0xff;
    out.push({
      protocol: proto === 6 ? 'TCP' : proto === 17 ? 'UDP' : 'IP',
      expiresIn: w[b + DUMP_EXPIRES_IN],
      state: state === DUMP_STATE_NONE ? 'NONE' : proto === 6 ? TCP_STATE_NAMES[state] : UDP_STATE_NAME,
      source: `${numberToIp(w[b + DUMP_CLIENT])}:${w[b + DUMP_PORTS] >>> 16}`,
      virtual: `${numberToIp(w[b + DUMP_VIP])}:${w[b + DUMP_PORTS] & 0xffff}`,
      destination: `${numberToIp(w[b + DUMP_RS_IP])}:${w[b + DUMP_RS_PORT]}`,
    });
  }
}
