// Optional signing of sync messages with a shared key (auth_key), which IPVS itself does not have:
// anyone on the segment can otherwise send a backup connections it will install.
//
// A signed datagram is the unchanged IPVS v1 message followed by a 32-byte trailer,
// HMAC-SHA256(key, message), where `message` is the first `size` bytes (header included, so the
// syncid, counts and size are covered too). The header's `size` still counts the IPVS message
// only, so the datagram is 32 bytes longer than `size` says.
//
// What a kernel IPVS backup makes of it: ip_vs_process_message() drops any datagram whose length
// differs from `size` ("BACKUP, bogus message size"), so it ignores every signed message, silently
// and entirely. Signing is therefore only for ulvs-to-ulvs sync; leave auth_key unset to feed
// kernel backups. A receiver with a key tells the two failures apart by length: exactly `size`
// is "unsigned", `size` + 32 with a wrong MAC is "bad-signature", anything else is "bad-size".
// The MAC is compared in constant time. There is no replay protection: a captured message can be
// sent again and re-installs connections the master had anyway (their timeouts restart).

import { createHmac, timingSafeEqual } from 'node:crypto';

import { MESSAGE_HEADER_LEN } from './wire.js';

/** Bytes of the trailer: one HMAC-SHA256. */
export const SIGNATURE_LEN = 32;

function mac(key: Uint8Array | string, message: Uint8Array): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

/** The message with its trailer. Throws RangeError on an empty key (a config mistake). */
export function signSyncMessage(message: Buffer, key: Uint8Array | string): Buffer {
  if (key.length === 0) throw new RangeError('auth_key must not be empty');
  return Buffer.concat([message, mac(key, message)]);
}

export type VerifyResult =
  | { message: Buffer }
  | { drop: 'truncated' | 'unsigned' | 'bad-size' | 'bad-signature' };

/** Checks a received datagram; on success `message` is the IPVS message without its trailer. Never throws. */
export function verifySyncMessage(datagram: Buffer, key: Uint8Array | string): VerifyResult {
  if (datagram.length < MESSAGE_HEADER_LEN) return { drop: 'truncated' };
  const size = datagram.readUInt16BE(2);
  if (datagram.length === size) return { drop: 'unsigned' };
  if (datagram.length !== size + SIGNATURE_LEN || size < MESSAGE_HEADER_LEN) return { drop: 'bad-size' };
  const message = datagram.subarray(0, size);
  const expected = mac(key, message);
  if (!timingSafeEqual(expected, datagram.subarray(size))) return { drop: 'bad-signature' };
  return { message };
}
