// Encoder and decoder of IPVS's sync protocol version 1, byte for byte as the kernel's
// net/netfilter/ipvs/ip_vs_sync.c lays it out (ip_vs_sync_conn() sends, ip_vs_process_message()
// and ip_vs_proc_sync_conn() receive), so a kernel IPVS backup understands what ulvs sends.
//
// Message: ip_vs_sync_mesg header (8 bytes), then nr_conns records, each starting on a 4-byte
// boundary from the message start (zero padding between records, none after the last; `size`
// counts the padding between records). A record: the 24-byte fixed part, the three addresses
// (4 or 16 bytes each), then options {type u8, len u8, data}: SEQ_DATA (24 bytes), PE_DATA,
// PE_NAME. The record's ver_size holds its own length without padding.
//
// The decoder never throws: it returns records or a drop reason. Like the kernel, a structural
// fault drops the whole message (the kernel returns from ip_vs_process_message), while a record
// that is well formed but unusable (unknown protocol, state out of range, unknown mandatory
// option, PE data without a PE name) skips only that record and the rest are kept; skipped
// records are reported by reason so the caller can count them.

import { signSyncMessage, verifySyncMessage, SIGNATURE_LEN } from './sign.js';
import {
  IPPROTO_TCP, IPPROTO_UDP, IPVS_OPT_F_PARAM, IPVS_OPT_PE_DATA, IPVS_OPT_PE_NAME, IPVS_OPT_SEQ_DATA,
  IP_VS_CONN_F_TEMPLATE, IP_VS_TCP_S_LAST, IP_VS_UDP_S_LAST, MAX_RECORDS_PER_MESSAGE,
  MESSAGE_HEADER_LEN, PE_DATA_MAX_LEN, PE_NAME_MAX_LEN, RECORD_FIXED_LEN, RECORD_V4_LEN,
  RECORD_V6_LEN, SEQ_OPTION_LEN, STYPE_F_INET6, SVER_MASK, SVER_SHIFT, SYNC_PROTO_VERSION,
  syncMaxLen,
} from './wire.js';

/** struct ip_vs_seq: TCP sequence adjustment of a NAT connection (application helpers). */
export interface SeqAdjust { initSeq: number; delta: number; previousDelta: number }

interface SyncRecordCommon {
  /** IP protocol: 6 TCP, 17 UDP; persistence templates of fwmark services carry 0. */
  proto: number;
  /** IP_VS_CONN_F_* exactly as on the wire (mapping.ts builds and reads it). */
  flags: number;
  /** IPVS state number (IP_VS_TCP_S_*, IP_VS_UDP_S_NORMAL, IP_VS_CTPL_S_* for templates). */
  state: number;
  clientPort: number;
  vport: number;
  /** The real server's port (IPVS's dport). */
  rsPort: number;
  fwmark: number;
  /** Seconds the receiver gives the connection (cp->timeout / HZ); 0 = its own default. */
  timeout: number;
  /** IPVS_OPT_SEQ_DATA: in_seq and out_seq. */
  seq?: { in: SeqAdjust; out: SeqAdjust };
  /** IPVS_OPT_PE_DATA and IPVS_OPT_PE_NAME (persistence engine, e.g. "sip", and its key). */
  peData?: Uint8Array;
  peName?: string;
}

/** An IPv4 connection or template; addresses as uint32 numbers, as in the flow table. */
export interface SyncRecordV4 extends SyncRecordCommon { family: 4; clientIp: number; vip: number; rsIp: number }
/** An IPv6 connection or template; addresses as 16 bytes each. */
export interface SyncRecordV6 extends SyncRecordCommon { family: 6; clientIp: Uint8Array; vip: Uint8Array; rsIp: Uint8Array }
export type SyncRecord = SyncRecordV4 | SyncRecordV6;

/** Why a whole datagram was dropped. */
export type SyncDropReason =
  | 'truncated'      // shorter than a header, or ends inside a record
  | 'bad-size'       // header size differs from the datagram length
  | 'bad-syncid'     // another sync group's message
  | 'version-0'      // IPVS's old format (first byte nr_conns != 0): ulvs speaks v1 only
  | 'bad-version'    // first byte 0 but version != 1 or spare != 0
  | 'bad-record'     // a record with a bad type, version, size or option
  | 'unsigned'       // a key is set and the datagram has no signature
  | 'bad-signature'; // a key is set and the signature does not match

/** Why one record was skipped while the others of its message were kept. */
export type SyncSkipReason = 'unsupported-protocol' | 'bad-state' | 'unknown-option' | 'bad-pe';

export type SyncDecodeResult =
  | { syncId: number; records: SyncRecord[]; skipped: SyncSkipReason[] }
  | { drop: SyncDropReason };

export interface EncodeOptions {
  /** syncid of the master (keepalived's lvs_sync_daemon `id`), 0..255. */
  syncId: number;
  /** Largest datagram; default syncMaxLen('master', 1500) = 1472, the kernel's. */
  maxLen?: number;
  /** auth_key: each datagram gets an HMAC-SHA256 trailer (sign.ts) inside maxLen. */
  key?: Uint8Array | string;
}

export interface DecodeOptions {
  /** The backup's syncid; 0 accepts every syncid, as the kernel does. */
  syncId: number;
  /** auth_key: when set, only datagrams signed with it are decoded. */
  key?: Uint8Array | string;
}

const PE_NAME_PATTERN = /^[\x20-\x7e]+$/;

function optionsLength(r: SyncRecord): number {
  let len = 0;
  if (r.seq) len += 2 + SEQ_OPTION_LEN;
  if (r.peData) len += 2 + r.peData.length;
  if (r.peName !== undefined) len += 2 + r.peName.length;
  return len;
}

/** Bytes the record takes in a message (without the alignment padding before it). */
export function encodedRecordLength(r: SyncRecord): number {
  return (r.family === 6 ? RECORD_V6_LEN : RECORD_V4_LEN) + optionsLength(r);
}

function checkUint(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`sync record ${what} must be 0..${max}, got ${value}`);
}

function checkRecord(r: SyncRecord): void {
  checkUint('proto', r.proto, 0xff);
  checkUint('flags', r.flags, 0xffffffff);
  checkUint('state', r.state, 0xffff);
  checkUint('clientPort', r.clientPort, 0xffff);
  checkUint('vport', r.vport, 0xffff);
  checkUint('rsPort', r.rsPort, 0xffff);
  checkUint('fwmark', r.fwmark, 0xffffffff);
  checkUint('timeout', r.timeout, 0xffffffff);
  if (r.family === 4) {
    checkUint('clientIp', r.clientIp, 0xffffffff); checkUint('vip', r.vip, 0xffffffff); checkUint('rsIp', r.rsIp, 0xffffffff);
  } else if (r.clientIp.length !== 16 || r.vip.length !== 16 || r.rsIp.length !== 16) {
    throw new RangeError('sync record IPv6 addresses must be 16 bytes');
  }
  if (r.seq) for (const s of [r.seq.in, r.seq.out]) {
    checkUint('seq.initSeq', s.initSeq, 0xffffffff); checkUint('seq.delta', s.delta, 0xffffffff); checkUint('seq.previousDelta', s.previousDelta, 0xffffffff);
  }
  // The kernel sends PE_NAME only right after PE_DATA, and drops a record with PE data but no name.
  if ((r.peData === undefined) !== (r.peName === undefined)) throw new RangeError('sync record peData and peName go together');
  if (r.peData && (r.peData.length < 1 || r.peData.length > PE_DATA_MAX_LEN)) throw new RangeError(`sync record peData must be 1..${PE_DATA_MAX_LEN} bytes`);
  if (r.peName !== undefined && (r.peName.length < 1 || r.peName.length > PE_NAME_MAX_LEN || !PE_NAME_PATTERN.test(r.peName))) {
    throw new RangeError(`sync record peName must be 1..${PE_NAME_MAX_LEN} printable ASCII characters`);
  }
}

function writeSeq(buf: Buffer, at: number, s: SeqAdjust): void {
  buf.writeUInt32BE(s.initSeq, at); buf.writeUInt32BE(s.delta, at + 4); buf.writeUInt32BE(s.previousDelta, at + 8);
}

function writeRecord(buf: Buffer, at: number, r: SyncRecord): void {
  const len = encodedRecordLength(r);
  buf[at] = r.family === 6 ? STYPE_F_INET6 : 0;
  buf[at + 1] = r.proto;
  buf.writeUInt16BE(len & SVER_MASK, at + 2);      // record version 0 in the top 4 bits
  buf.writeUInt32BE(r.flags, at + 4);
  buf.writeUInt16BE(r.state, at + 8);
  buf.writeUInt16BE(r.clientPort, at + 10);
  buf.writeUInt16BE(r.vport, at + 12);
  buf.writeUInt16BE(r.rsPort, at + 14);
  buf.writeUInt32BE(r.fwmark, at + 16);
  buf.writeUInt32BE(r.timeout, at + 20);
  let p = at + RECORD_FIXED_LEN;
  if (r.family === 4) {
    buf.writeUInt32BE(r.clientIp, p); buf.writeUInt32BE(r.vip, p + 4); buf.writeUInt32BE(r.rsIp, p + 8);
    p += 12;
  } else {
    buf.set(r.clientIp, p); buf.set(r.vip, p + 16); buf.set(r.rsIp, p + 32);
    p += 48;
  }
  if (r.seq) {
    buf[p] = IPVS_OPT_SEQ_DATA; buf[p + 1] = SEQ_OPTION_LEN;
    writeSeq(buf, p + 2, r.seq.in); writeSeq(buf, p + 14, r.seq.out);
    p += 2 + SEQ_OPTION_LEN;
  }
  if (r.peData && r.peName !== undefined) {
    buf[p] = IPVS_OPT_PE_DATA; buf[p + 1] = r.peData.length; buf.set(r.peData, p + 2);
    p += 2 + r.peData.length;
    buf[p] = IPVS_OPT_PE_NAME; buf[p + 1] = r.peName.length; buf.write(r.peName, p + 2, 'latin1');
  }
}

/** A message buffer of `size` bytes with its ip_vs_sync_mesg header written. */
function messageWithHeader(size: number, count: number, syncId: number): Buffer {
  const msg = Buffer.alloc(size);
  msg[0] = 0;                                 // reserved: a v0 receiver reads it as nr_conns = 0
  msg[1] = syncId;
  msg.writeUInt16BE(size, 2);
  msg[4] = count;
  msg[5] = SYNC_PROTO_VERSION;
  msg.writeUInt16BE(0, 6);                    // spare
  return msg;
}

/**
 * A v1 message with no records (signed when a key is given). A kernel backup processes zero
 * records; ulvs sends it as a starting backup's request for the master's whole table.
 */
export function encodeEmptySyncMessage(opts: Pick<EncodeOptions, 'syncId' | 'key'>): Buffer {
  checkUint('syncId', opts.syncId, 0xff);
  const msg = messageWithHeader(MESSAGE_HEADER_LEN, 0, opts.syncId);
  return opts.key !== undefined ? signSyncMessage(msg, opts.key) : msg;
}

/**
 * Packs records into as few messages as fit maxLen, in order, as ip_vs_sync_conn() fills its
 * sync buffers: a record that does not fit starts a new message, and a record larger than
 * maxLen on its own still goes out, alone (the kernel sizes such a buffer to the record).
 * Throws RangeError on a record it cannot represent (control path: these are ulvs's own flows).
 */
export function encodeSyncMessages(records: readonly SyncRecord[], opts: EncodeOptions): Buffer[] {
  checkUint('syncId', opts.syncId, 0xff);
  const maxLen = opts.maxLen ?? syncMaxLen('master', 1500);
  checkUint('maxLen', maxLen, 0xffff);
  const room = maxLen - (opts.key !== undefined ? SIGNATURE_LEN : 0);
  const messages: Buffer[] = [];
  let batch: { record: SyncRecord; at: number }[] = [];
  let size = MESSAGE_HEADER_LEN;
  const flush = (): void => {
    if (batch.length === 0) return;
    const msg = messageWithHeader(size, batch.length, opts.syncId);
    for (const { record, at } of batch) writeRecord(msg, at, record);
    messages.push(opts.key !== undefined ? signSyncMessage(msg, opts.key) : msg);
    batch = [];
    size = MESSAGE_HEADER_LEN;
  };
  for (const record of records) {
    checkRecord(record);
    const len = encodedRecordLength(record);
    let pad = (4 - size) & 3;
    if (batch.length > 0 && (size + pad + len > room || batch.length === MAX_RECORDS_PER_MESSAGE)) {
      flush();
      pad = 0;
    }
    if (size + pad + len > 0xffff) throw new RangeError('sync record too large for a message');
    batch.push({ record, at: size + pad });
    size += pad + len;
  }
  flush();
  return messages;
}

function readSeq(buf: Buffer, at: number): SeqAdjust {
  return { initSeq: buf.readUInt32BE(at), delta: buf.readUInt32BE(at + 4), previousDelta: buf.readUInt32BE(at + 8) };
}

type RecordOutcome = SyncRecord | SyncSkipReason | 'bad-record';

/** ip_vs_proc_sync_conn(): one record in buf[start, end). */
function decodeRecord(buf: Buffer, start: number, end: number): RecordOutcome {
  const type = buf[start];
  const v6 = (type & STYPE_F_INET6) !== 0;     // the kernel tests only this bit for IPv6
  if (!v6 && type !== 0) return 'bad-record';
  let p = start + (v6 ? RECORD_V6_LEN : RECORD_V4_LEN);
  if (p > end) return 'bad-record';
  let seq: SyncRecord['seq'];
  let peData: Uint8Array | undefined;
  let peName: string | undefined;
  let unknownMandatory = false;
  while (p < end) {
    if (p + 2 > end) return 'bad-record';
    const ptype = buf[p];
    const plen = buf[p + 1];
    p += 2;
    if (plen === 0 || p + plen > end) return 'bad-record';
    switch (ptype & ~IPVS_OPT_F_PARAM) {
      case IPVS_OPT_SEQ_DATA:
        if (plen !== SEQ_OPTION_LEN || seq) return 'bad-record';
        seq = { in: readSeq(buf, p), out: readSeq(buf, p + 12) };
        break;
      case IPVS_OPT_PE_DATA:
        if (peData) return 'bad-record';      // plen <= 255 = IP_VS_PEDATA_MAXLEN always
        peData = new Uint8Array(buf.subarray(p, p + plen));
        break;
      case IPVS_OPT_PE_NAME:
        if (plen > PE_NAME_MAX_LEN || peName !== undefined) return 'bad-record';
        peName = buf.toString('latin1', p, p + plen);
        break;
      default:
        // The kernel stops reading this record at an unknown mandatory option (retc 20).
        if ((ptype & IPVS_OPT_F_PARAM) === 0) { unknownMandatory = true; p = end; continue; }
    }
    p += plen;
  }
  if (unknownMandatory) return 'unknown-option';
  const proto = buf[start + 1];
  const flags = buf.readUInt32BE(start + 4);
  const state = buf.readUInt16BE(start + 8);
  if ((flags & IP_VS_CONN_F_TEMPLATE) === 0) {
    // ulvs forwards TCP and UDP only; the kernel would also take SCTP (and AH/ESP) here.
    if (proto === IPPROTO_TCP) { if (state >= IP_VS_TCP_S_LAST) return 'bad-state'; }
    else if (proto === IPPROTO_UDP) { if (state >= IP_VS_UDP_S_LAST) return 'bad-state'; }
    else return 'unsupported-protocol';
  }
  // ip_vs_conn_fill_param_sync(): PE data needs a PE name to find its engine, and no engine has
  // a name outside printable ASCII (the kernel's lookup fails and skips the record).
  if (peData && (peName === undefined || !PE_NAME_PATTERN.test(peName))) return 'bad-pe';
  const common = {
    proto, flags, state,
    clientPort: buf.readUInt16BE(start + 10), vport: buf.readUInt16BE(start + 12), rsPort: buf.readUInt16BE(start + 14),
    fwmark: buf.readUInt32BE(start + 16), timeout: buf.readUInt32BE(start + 20),
  };
  const a = start + RECORD_FIXED_LEN;
  const record: SyncRecord = v6
    ? { family: 6, ...common, clientIp: new Uint8Array(buf.subarray(a, a + 16)), vip: new Uint8Array(buf.subarray(a + 16, a + 32)), rsIp: new Uint8Array(buf.subarray(a + 32, a + 48)) }
    : { family: 4, ...common, clientIp: buf.readUInt32BE(a), vip: buf.readUInt32BE(a + 4), rsIp: buf.readUInt32BE(a + 8) };
  if (seq) record.seq = seq;
  // A PE name without PE data means nothing to the kernel (it looks the engine up only for data).
  if (peData && peName !== undefined) { record.peData = peData; record.peName = peName; }
  return record;
}

/** ip_vs_process_message() for a version 1 message, without signature handling. */
function decodeUnsigned(buf: Buffer, ourSyncId: number): SyncDecodeResult {
  if (buf.length < MESSAGE_HEADER_LEN) return { drop: 'truncated' };
  if (buf.readUInt16BE(2) !== buf.length) return { drop: 'bad-size' };
  const syncId = buf[1];
  if (ourSyncId !== 0 && syncId !== ourSyncId) return { drop: 'bad-syncid' };
  if (buf[0] !== 0) return { drop: 'version-0' };
  if (buf[5] !== SYNC_PROTO_VERSION || buf.readUInt16BE(6) !== 0) return { drop: 'bad-version' };
  const count = buf[4];
  const records: SyncRecord[] = [];
  const skipped: SyncSkipReason[] = [];
  let p = MESSAGE_HEADER_LEN;
  for (let i = 0; i < count; i++) {
    // The kernel checks for a v4-sized record here even when the record is IPv6.
    if (p + RECORD_V4_LEN > buf.length) return { drop: 'truncated' };
    const verSize = buf.readUInt16BE(p + 2);
    const size = verSize & SVER_MASK;
    if (p + size > buf.length) return { drop: 'truncated' };
    if (verSize >> SVER_SHIFT !== 0) return { drop: 'bad-record' };
    const outcome = decodeRecord(buf, p, p + size);
    if (outcome === 'bad-record') return { drop: 'bad-record' };
    if (typeof outcome === 'string') skipped.push(outcome);
    else records.push(outcome);
    p += (size + 3) & ~3;
  }
  // Bytes after the last record are ignored, as by the kernel.
  return { syncId, records, skipped };
}

/**
 * One received datagram. With a key, the signature is checked first (sign.ts) and nothing of an
 * unsigned or badly signed datagram is parsed. Never throws.
 */
export function decodeSyncMessage(buf: Buffer, opts: DecodeOptions): SyncDecodeResult {
  if (opts.key === undefined) return decodeUnsigned(buf, opts.syncId);
  const verified = verifySyncMessage(buf, opts.key);
  if ('drop' in verified) return verified;
  return decodeUnsigned(verified.message, opts.syncId);
}
