// Issue 18 part 1, a floor for the flow lookup alone: ns per packet for a batch of 64 lookups
// (hash, find, verify the key, refresh expiry, read the next hop) at FLOWS flows, for
//   main     the index (4 B tag + reference, 2 keys per flow) then a 32 B record and a 2 B
//            flowHop side array, the pre-pass loading index entries, then records and hops;
//   both     16 B records inline in 64 B buckets (4 per bucket), 2 candidate buckets, the
//            pre-pass loading both buckets' lines, the hop inside the record;
//   primary  the same table, the pre-pass loading the first bucket, then the second only for
//            the packets not found in the first (a second loop of independent loads).
// Placement: the first bucket if it has room, else the second, else breadth-first displacement.
// node bench/sim/lookup-lines.mjs FLOWS [PACKETS] [SLOTS_PER_FLOW]   (after npm run build:ts)
import { allocateTableMemory } from '../../dist/src/io/table-memory.js';
import { spreadOf } from '../../dist/bench/trust.js';

const FLOWS = +(process.argv[2] ?? 1e6), PACKETS = +(process.argv[3] ?? 5e6), SPF = +(process.argv[4] ?? 1.2);
const BATCH = 64, STRIDE = 618_029;
const mem = (bytes) => allocateTableMemory(bytes);

function mix(a, b, c, seed) {
  let h = seed ^ Math.imul(a, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ b;
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64 ^ c;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

// Flow keys: client ip, client port << 16 | service.
// Computed from the flow number as bench/dataplane-step.ts writes its frames (no memory load:
// the packet's own bytes are in cache there too).
const keyIpOf = (f) => (0xc6128000 + (f >>> 10)) >>> 0, keyPsOf = (f) => (((1024 + (f & 1023)) << 16) | 3) >>> 0;
/** The forward key's hash of flow f (the same in every layout). */
const hashOf = (f) => mix(keyIpOf(f), keyPsOf(f), 6, 1);
const order = new Uint32Array(PACKETS);
{ let f = 0; const s = FLOWS > STRIDE ? STRIDE : 7919 % FLOWS || 1; for (let i = 0; i < PACKETS; i++) { order[i] = f; f = (f + s) % FLOWS; } }

// ---- main layout ----------------------------------------------------------------------------
function buildMain() {
  let size = 16; while (size * 0.75 < FLOWS * 2) size *= 2;
  const index = new Uint32Array(mem(size * 4)), mask = size - 1;
  const rec = new Uint32Array(mem(FLOWS * 32)), hop = new Uint16Array(mem(FLOWS * 2));
  for (let f = 0; f < FLOWS; f++) {
    const b = f * 8; rec[b] = keyIpOf(f); rec[b + 2] = keyPsOf(f); rec[b + 4] = 0x0600; rec[b + 6] = 100;
    hop[f] = f & 7;
    for (const dir of [0, 1]) {
      const h = mix(dir ? keyIpOf(f) ^ 0x5bd1e995 : keyIpOf(f), keyPsOf(f), 6, 1);
      let i = h & mask; while (index[i] !== 0) i = (i + 1) & mask;
      index[i] = (((0x40 | (h >>> 25)) << 25) | (f * 2 + dir)) >>> 0;
    }
  }
  const hh = new Uint32Array(BATCH), he = new Uint32Array(BATCH), hf = new Int32Array(BATCH);
  return function run(now) {
    let sink = 0, misses = 0;
    for (let p = 0; p + BATCH <= PACKETS; p += BATCH) {
      for (let j = 0; j < BATCH; j++) hh[j] = hashOf(order[p + j]);
      for (let j = 0; j < BATCH; j++) he[j] = index[hh[j] & mask];
      for (let j = 0; j < BATCH; j++) {
        const e = he[j]; hf[j] = -1;
        if (e !== 0 && (e >>> 25) === (0x40 | (hh[j] >>> 25)) && (e & 1) === 0) { const f = (e & 0x1ffffff) >>> 1; sink ^= rec[f * 8 + 6]; hf[j] = f; }
      }
      for (let j = 0; j < BATCH; j++) if (hf[j] >= 0) sink ^= hop[hf[j]];
      for (let j = 0; j < BATCH; j++) {
        const f0 = order[p + j], ip = keyIpOf(f0), ps = keyPsOf(f0), h = hh[j], tag = 0x40 | (h >>> 25);
        let found = -1;
        for (let i = h & mask; ; i = (i + 1) & mask) {
          const e = index[i]; if (e === 0) break;
          if ((e >>> 25) !== tag || (e & 1) !== 0) continue;
          const f = (e & 0x1ffffff) >>> 1, b = f * 8;
          if (rec[b] === ip && rec[b + 2] === ps && ((rec[b + 4] >>> 8) & 0xff) === 6) { found = f; break; }
        }
        if (found < 0) { misses++; continue; }
        rec[found * 8 + 6] = now + 100; sink ^= hop[found];
      }
    }
    return { sink, misses, bytesPerFlow: (index.byteLength + rec.byteLength + hop.byteLength) / FLOWS };
  };
}

// ---- inline buckets -------------------------------------------------------------------------
/** One table, two pre-passes: run(now, touchBoth). */
function buildBuckets() {
  const nb = Math.ceil(FLOWS * SPF / 4);
  const tab = new Uint32Array(mem(nb * 64));   // per bucket 4 records x [ip, ports, rsId << 16 | hop << 8 | state, expires]
  const bucketA = (h) => Math.floor(h * nb / 4294967296);
  const bucketB = (h, a) => { const b = Math.floor(((Math.imul(h, 0x9e3779b1) >>> 0) * nb) / 4294967296); return b === a ? (a + 1) % nb : b; };
  const owner = new Int32Array(nb * 4).fill(-1);   // build-time only: which flow holds a slot
  const altOf = (f, cur) => { const h = hashOf(f), a = bucketA(h), b = bucketB(h, a); return cur === a ? b : a; };
  const put = (f, s) => { owner[s] = f; const o = s * 4; tab[o] = keyIpOf(f); tab[o + 1] = keyPsOf(f); tab[o + 2] = (f & 7) << 8 | 4; tab[o + 3] = 100; };
  const freeIn = (b) => { for (let k = 0; k < 4; k++) if (owner[b * 4 + k] < 0) return b * 4 + k; return -1; };
  const qs = new Int32Array(64), qp = new Int32Array(64);
  let fails = 0, inFirst = 0;
  for (let f = 0; f < FLOWS; f++) {
    const h = hashOf(f), a = bucketA(h), b = bucketB(h, a);
    let s = freeIn(a); if (s < 0) s = freeIn(b);
    if (s >= 0) { put(f, s); continue; }
    let qn = 0, done = false;
    for (let k = 0; k < 4; k++) { qs[qn] = a * 4 + k; qp[qn++] = -1; }
    for (let k = 0; k < 4; k++) { qs[qn] = b * 4 + k; qp[qn++] = -1; }
    for (let q = 0; q < qn && !done; q++) {
      const it = owner[qs[q]], alt = altOf(it, (qs[q] / 4) | 0), free = freeIn(alt);
      if (free >= 0) { let dst = free, node = q; while (node >= 0) { put(owner[qs[node]], dst); dst = qs[node]; node = qp[node]; } put(f, dst); done = true; break; }
      for (let k = 0; k < 4 && qn < 64; k++) { qs[qn] = alt * 4 + k; qp[qn++] = q; }
    }
    if (!done) fails++;
  }
  for (let s = 0; s < nb * 4; s++) if (owner[s] >= 0) { if (bucketA(hashOf(owner[s])) === ((s / 4) | 0)) inFirst++; }
  const hh = new Uint32Array(BATCH), ha = new Int32Array(BATCH), hb = new Int32Array(BATCH);
  const run = function run(now, touchBoth) {
    let sink = 0, misses = 0;
    for (let p = 0; p + BATCH <= PACKETS; p += BATCH) {
      for (let j = 0; j < BATCH; j++) { const h = hashOf(order[p + j]); hh[j] = h; const a = bucketA(h); ha[j] = a; hb[j] = bucketB(h, a); }
      if (touchBoth) {
        for (let j = 0; j < BATCH; j++) sink ^= tab[ha[j] * 16 + 3] ^ tab[hb[j] * 16 + 3];
      } else {
        for (let j = 0; j < BATCH; j++) sink ^= tab[ha[j] * 16 + 3];
        for (let j = 0; j < BATCH; j++) {
          const f = order[p + j], ip = keyIpOf(f), ps = keyPsOf(f), o = ha[j] * 16;
          if (!((tab[o] === ip && tab[o + 1] === ps) || (tab[o + 4] === ip && tab[o + 5] === ps) ||
                (tab[o + 8] === ip && tab[o + 9] === ps) || (tab[o + 12] === ip && tab[o + 13] === ps))) sink ^= tab[hb[j] * 16 + 3];
        }
      }
      for (let j = 0; j < BATCH; j++) {
        const f = order[p + j], ip = keyIpOf(f), ps = keyPsOf(f);
        let found = -1;
        for (let c = 0; c < 2 && found < 0; c++) {
          const o = (c === 0 ? ha[j] : hb[j]) * 16;
          for (let k = 0; k < 16; k += 4) if (tab[o + k] === ip && tab[o + k + 1] === ps) { found = o + k; break; }
        }
        if (found < 0) { misses++; continue; }
        tab[found + 3] = now + 100; sink ^= (tab[found + 2] >>> 8) & 0xff;
      }
    }
    return { sink, misses, bytesPerFlow: tab.byteLength / FLOWS };
  };
  return Object.assign(run, { fails, inFirst });
}

const buckets = buildBuckets();
const layouts = { main: buildMain(), both: (now) => buckets(now, true), primary: (now) => buckets(now, false) };
console.log(`flows ${FLOWS}, ${SPF} slots/flow: placement fails ${buckets.fails}, in first bucket ${(100 * buckets.inFirst / FLOWS).toFixed(1)} %`);
const TRIALS = 5;   // the first warms up the JIT and is not counted
const results = { main: [], both: [], primary: [] }, last = {};
for (let trial = 0; trial < TRIALS; trial++) {
  for (const name of Object.keys(layouts)) {
    const t0 = process.hrtime.bigint();
    last[name] = layouts[name](trial + 1);
    if (trial > 0) results[name].push(Number(process.hrtime.bigint() - t0) / PACKETS);
  }
}
for (const name of Object.keys(layouts)) {
  const { median, min, max } = spreadOf(results[name]), r = last[name];
  console.log(`${name.padEnd(8)} ns/packet median ${median.toFixed(1)} (${min.toFixed(1)}-${max.toFixed(1)}), misses ${r.misses}, bytes/flow ${r.bytesPerFlow.toFixed(1)}`);
}
