/**
 * Fuzz target: the connection-sync decoder (IPVS sync v1), unsigned and with an auth_key.
 * Never throws; a decoded message's records re-encode and decode to the same records.
 */
import { decodeSyncMessage, encodeSyncMessages } from '../../src/sync/codec.js';
import { check } from '../frame-checks.js';

const KEY = 'fuzz-key';

export function fuzz(data: Buffer): void {
  if (data.length < 1) return;
  const signed = (data[0] & 1) !== 0;
  const buf = Buffer.from(data.subarray(1));
  const r = decodeSyncMessage(buf, signed ? { syncId: 0, key: KEY } : { syncId: 0 });
  if ('drop' in r) {
    check(typeof r.drop === 'string', 'a drop without a reason');
    return;
  }
  check(r.syncId >= 0 && r.syncId <= 255, 'syncid out of range');
  if (r.records.length === 0) return;
  const encoded = encodeSyncMessages(r.records, { syncId: r.syncId, maxLen: 65507 });
  const back = encoded.flatMap((m) => {
    const d = decodeSyncMessage(m, { syncId: 0 });
    check(!('drop' in d), `re-encoded records are dropped (${'drop' in d ? d.drop : ''})`);
    return 'drop' in d ? [] : d.records;
  });
  check(JSON.stringify(back, bytesAsArrays) === JSON.stringify(r.records, bytesAsArrays), 'round trip changed the records');
}

function bytesAsArrays(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Array.from(value) : value;
}
