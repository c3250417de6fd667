// Properties of the codec: records survive encode/decode whatever maxlen packs them into;
// random bytes, truncations and (with a key) any tampering never crash the decoder and never
// yield a record from a bad message.
import t from 'tap';
import fc from 'fast-check';

import { decodeSyncMessage, encodeSyncMessages, type SyncRecord } from '../../src/sync/codec.js';
import { IP_VS_CONN_F_TEMPLATE } from '../../src/sync/wire.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const seqAdjust = fc.record({ initSeq: u32, delta: u32, previousDelta: u32 });
const addr6 = fc.uint8Array({ minLength: 16, maxLength: 16 });

// A record the decoder accepts: TCP with a state 0..10, UDP with state 0, or a template.
const kind = fc.oneof(
  fc.record({ proto: fc.constant(6), state: fc.integer({ min: 0, max: 10 }), flags: u32.map((f) => (f & ~IP_VS_CONN_F_TEMPLATE) >>> 0) }),
  fc.record({ proto: fc.constant(17), state: fc.constant(0), flags: u32.map((f) => (f & ~IP_VS_CONN_F_TEMPLATE) >>> 0) }),
  fc.record({ proto: fc.integer({ min: 0, max: 255 }), state: u16, flags: u32.map((f) => (f | IP_VS_CONN_F_TEMPLATE) >>> 0) }),
);
const common = fc.record({
  clientPort: u16, vport: u16, rsPort: u16, fwmark: u32, timeout: u32,
  seq: fc.option(fc.record({ in: seqAdjust, out: seqAdjust }), { nil: undefined }),
  pe: fc.option(fc.record({
    peData: fc.uint8Array({ minLength: 1, maxLength: 255 }),
    peName: fc.stringMatching(/^[a-z]{1,16}$/),
  }), { nil: undefined, freq: 4 }),
});
const record: fc.Arbitrary<SyncRecord> = fc.tuple(kind, common, fc.boolean(), u32, u32, u32, addr6, addr6, addr6)
  .map(([k, c, isV6, a, b, d, a6, b6, d6]) => {
    const { seq, pe, ...rest } = c;
    const base = { ...k, ...rest, ...(seq ? { seq } : {}), ...(pe ?? {}) };
    return isV6
      ? { family: 6 as const, ...base, clientIp: a6, vip: b6, rsIp: d6 }
      : { family: 4 as const, ...base, clientIp: a, vip: b, rsIp: d };
  });

const decodeAll = (messages: Buffer[], syncId: number, key?: string): SyncRecord[] =>
  messages.flatMap((m) => {
    const r = decodeSyncMessage(m, { syncId, key });
    if ('drop' in r) throw new Error(`own message dropped: ${r.drop}`);
    return r.records;
  });

t.test('round trip through any maxlen, signed or not', async (t) => {
  fc.assert(fc.property(
    fc.array(record, { maxLength: 60 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 65507 }),
    fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    (records, syncId, maxLen, key) => {
      const messages = encodeSyncMessages(records, { syncId, maxLen, key });
      for (const m of messages) {
        if (m[4] > 1 && m.length > maxLen) return false;     // only a lone oversized record exceeds maxlen
        if (m[4] < 1 || m[1] !== syncId) return false;
      }
      t.same(decodeAll(messages, syncId, key), records);
      return true;
    },
  ), { numRuns: 300 });
});

t.test('random bytes never throw and never pass a malformed record', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, fixHeader) => {
    const buf = Buffer.from(bytes);
    if (fixHeader && buf.length >= 8) {
      // Make it look like a v1 message so the record parser gets exercised.
      buf[0] = 0; buf[1] = 0; buf.writeUInt16BE(buf.length, 2); buf[5] = 1; buf[6] = 0; buf[7] = 0;
    }
    const r = decodeSyncMessage(buf, { syncId: 0 });
    if ('drop' in r) return true;
    // What it did accept must be representable: re-encoding cannot throw and reads back the same.
    if (r.records.length === 0) return true;
    const again = decodeAll(encodeSyncMessages(r.records, { syncId: r.syncId, maxLen: 65507 }), r.syncId);
    return JSON.stringify(again) === JSON.stringify(r.records);
  }), { numRuns: 3000 });
  t.pass('3000 random datagrams');
});

t.test('mutated valid messages never throw; whatever they yield is a well-formed record', async (t) => {
  let accepted = 0;
  fc.assert(fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    (records, changes) => {
      const [msg] = encodeSyncMessages(records, { syncId: 0, maxLen: 65507 });
      const mutated = Buffer.from(msg);
      for (const [at, value] of changes) mutated[at % mutated.length] = value;
      const r = decodeSyncMessage(mutated, { syncId: 0 });
      if ('drop' in r) return true;
      if (r.records.length + r.skipped.length > mutated[4]) return false;
      accepted += r.records.length;
      const again = decodeAll(encodeSyncMessages(r.records, { syncId: r.syncId, maxLen: 65507 }), r.syncId);
      return JSON.stringify(again) === JSON.stringify(r.records);
    }), { numRuns: 2000 });
  t.ok(accepted > 0, `${accepted} records survived mutation and were re-encodable`);
});

t.test('a truncated or extended message is dropped whole', async (t) => {
  fc.assert(fc.property(fc.array(record, { minLength: 1, maxLength: 10 }), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }),
    (records, cut, extra) => {
      const [msg] = encodeSyncMessages(records, { syncId: 5, maxLen: 65507 });
      const short = msg.subarray(0, cut % msg.length);
      const long = Buffer.concat([msg, extra]);
      return 'drop' in decodeSyncMessage(short, { syncId: 5 }) && 'drop' in decodeSyncMessage(long, { syncId: 5 });
    }), { numRuns: 500 });
  t.pass('truncations and extensions');
});

t.test('with a key, any changed byte drops the message', async (t) => {
  fc.assert(fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), fc.nat(), fc.integer({ min: 1, max: 255 }),
    (records, at, xor) => {
      const [msg] = encodeSyncMessages(records, { syncId: 5, maxLen: 65507, key: 'secret' });
      const tampered = Buffer.from(msg);
      tampered[at % msg.length] ^= xor;
      const r = decodeSyncMessage(tampered, { syncId: 5, key: 'secret' });
      return 'drop' in r;
    }), { numRuns: 1000 });
  t.pass('tampering');
});
