// FlowTable's index: open addressing with linear probing, power-of-two size with room for two
// keys per flow (forward + NAT reply) at a load factor <= 0.75. Each entry is a 7-bit hash tag +
// a 25-bit reference (flow * 2 + direction), so both keys of a flow point at the same record and
// a probe rarely reads a record that does not match. 16.8 bytes per flow at capacity 1e6.
// Deletion is backward-shift (no tombstones), so probe runs never grow with churn.
// The lookups themselves stay in FlowTable (its hottest loops); these are plain functions over
// the typed arrays so V8 inlines them without a closure or an object per call.

import { TUPLE_INPUT, hashTupleInput } from './hash.js';
import { Layout, Word } from './flow-record.js';

/** The index is sized so two keys per flow fill at most this share of it. */
const MAX_INDEX_LOAD = 0.75;

/** Entries for a table of `capacity` flows: a power of two, at least 16. */
export function indexSizeFor(capacity: number): number {
  let indexSize = 16;
  while (indexSize * MAX_INDEX_LOAD < capacity * 2) indexSize *= 2;
  return indexSize;
}

/** 7-bit tag from the 30-bit hash's top bits, top bit forced so an entry is never 0 (= empty). */
export function tagOf(h: number): number {
  return 0x40 | (h >>> 24);
}

export function indexAdd(index: Uint32Array, mask: number, h: number, ref: number): void {
  let i = h & mask;
  while (index[i] !== 0) i = (i + 1) & mask;
  index[i] = ((tagOf(h) << 25) | ref) >>> 0;
}

/** Backward-shift deletion: later entries of the run move into the hole when allowed. */
export function indexRemove(index: Uint32Array, mask: number, records: Uint32Array, seed: number, ref: number): void {
  let hole = hashOfRef(records, seed, ref) & mask;
  for (;;) {
    const entry = index[hole];
    if (entry === 0) return;   // not indexed: nothing to remove
    if ((entry & Layout.REF_MASK) === ref) break;
    hole = (hole + 1) & mask;
  }
  for (let j = (hole + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
    const entry = index[j];
    const home = hashOfRef(records, seed, entry & Layout.REF_MASK) & mask;
    // The entry may move back to the hole only if the hole lies between its home and j.
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      index[hole] = entry;
      hole = j;
    }
  }
  index[hole] = 0;
}

/** Hash of the key an index reference stands for, recomputed from the record. */
function hashOfRef(records: Uint32Array, seed: number, ref: number): number {
  const r = records, b = (ref >>> 1) * Layout.RECORD_WORDS, k = TUPLE_INPUT;
  const meta = r[b + Word.META], ports = r[b + Word.PORTS];
  k[0] = seed;
  k[1] = (meta >>> 8) & 0xff;
  if ((ref & 1) === 0) {
    k[2] = r[b + Word.CLIENT]; k[3] = ports >>> 16; k[4] = r[b + Word.VIP]; k[5] = ports & 0xffff;
  } else {
    k[2] = r[b + Word.RS_IP]; k[3] = meta >>> 16; k[4] = r[b + Word.CLIENT]; k[5] = ports >>> 16;
  }
  return hashTupleInput();
}
