// auth_key: HMAC-SHA256 trailer after the IPVS message; what ulvs and a kernel backup make of it.
import t from 'tap';
import { createHmac } from 'node:crypto';

import { decodeSyncMessage, encodeSyncMessages, type SyncRecord } from '../../src/sync/codec.js';
import { SIGNATURE_LEN, signSyncMessage, verifySyncMessage } from '../../src/sync/sign.js';

const RECORD: SyncRecord = {
  family: 4, proto: 6, flags: 0x83, state: 1, clientPort: 40000, vport: 80, rsPort: 80, fwmark: 0, timeout: 900,
  clientIp: 0xc61200c8, vip: 0xc6120064, rsIp: 0xc612000a,
};
const KEY = 'correct horse battery staple';

t.test('a signed message is the IPVS message plus HMAC-SHA256 of it', async (t) => {
  const [plain] = encodeSyncMessages([RECORD], { syncId: 1 });
  const [signed] = encodeSyncMessages([RECORD], { syncId: 1, key: KEY });
  t.equal(signed.length, plain.length + SIGNATURE_LEN);
  t.same(signed.subarray(0, plain.length), plain, 'IPVS part unchanged, size still counts it only');
  t.same(signed.subarray(plain.length), createHmac('sha256', KEY).update(plain).digest(), 'trailer is the HMAC');
  t.same(decodeSyncMessage(signed, { syncId: 1, key: KEY }), { syncId: 1, records: [RECORD], skipped: [] });
  t.same(decodeSyncMessage(signed, { syncId: 1, key: Buffer.from(KEY) }), { syncId: 1, records: [RECORD], skipped: [] }, 'key as bytes');
});

t.test('with a key set: unsigned, wrongly signed and mangled messages are dropped', async (t) => {
  const [plain] = encodeSyncMessages([RECORD], { syncId: 1 });
  const [signed] = encodeSyncMessages([RECORD], { syncId: 1, key: KEY });
  t.same(decodeSyncMessage(plain, { syncId: 1, key: KEY }), { drop: 'unsigned' });
  t.same(decodeSyncMessage(encodeSyncMessages([RECORD], { syncId: 1, key: 'other key' })[0], { syncId: 1, key: KEY }), { drop: 'bad-signature' });
  const flipped = Buffer.from(signed);
  flipped[flipped.length - 1] ^= 1;
  t.same(decodeSyncMessage(flipped, { syncId: 1, key: KEY }), { drop: 'bad-signature' }, 'one bit of the trailer');
  const payload = Buffer.from(signed);
  payload[20] ^= 0x80;
  t.same(decodeSyncMessage(payload, { syncId: 1, key: KEY }), { drop: 'bad-signature' }, 'one bit of a record');
  t.same(decodeSyncMessage(signed.subarray(0, signed.length - 1), { syncId: 1, key: KEY }), { drop: 'bad-size' }, 'short trailer');
  t.same(decodeSyncMessage(signed.subarray(0, 5), { syncId: 1, key: KEY }), { drop: 'truncated' });
  t.same(verifySyncMessage(Buffer.concat([signed, Buffer.alloc(1)]), KEY), { drop: 'bad-size' });
});

t.test('a receiver without a key drops signed messages, as a kernel backup does', async (t) => {
  // ip_vs_process_message(): buflen != ntohs(size) -> "BACKUP, bogus message size".
  const [signed] = encodeSyncMessages([RECORD], { syncId: 1, key: KEY });
  t.not(signed.length, signed.readUInt16BE(2), 'datagram length differs from size');
  t.same(decodeSyncMessage(signed, { syncId: 1 }), { drop: 'bad-size' });
});

t.test('an empty key is refused when signing', async (t) => {
  t.throws(() => signSyncMessage(Buffer.alloc(8), ''), RangeError);
});
