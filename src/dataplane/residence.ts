/**
 * The director's own residence time per packet: from the moment a batch is back from receive()
 * to the moment its transmit() returns, on the monotonic clock. Every packet of a batch waited
 * that long inside the worker (the batch is handed back whole), so each batch adds its packet
 * count to one bucket. The histogram is a preallocated Float64Array in shared memory: the worker
 * adds, the main thread reads percentiles for `ulvs stats` and /metrics. No allocation.
 *
 * Buckets are log-linear (as HdrHistogram's): below 8 ns one per nanosecond, above it eight per
 * power of two, so a percentile is known to within 1/8 of its value (12.5%).
 */

/** Sub-buckets per power of two: the resolution (1/8 = 12.5%). */
const SUB_BITS = 3;
const SUB = 1 << SUB_BITS;
/** Up to 2^32 ns (4.3 s): a longer residence is a stopped worker, counted in the last bucket. */
const TOP_EXPONENT = 32;
export const RESIDENCE_BUCKETS = (TOP_EXPONENT - SUB_BITS + 1) * SUB + SUB;
/** After the buckets: the number of packets recorded, and the sum of their residence in ns. */
const R_COUNT = RESIDENCE_BUCKETS;
const R_SUM_NS = RESIDENCE_BUCKETS + 1;
const RESIDENCE_WORDS = RESIDENCE_BUCKETS + 2;

export function allocateResidence(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(RESIDENCE_WORDS * 8));
}

/** The bucket of a residence of `ns` nanoseconds. */
export function residenceBucket(ns: number): number {
  if (!(ns >= 1)) return 0;
  if (ns >= 2 ** TOP_EXPONENT) return RESIDENCE_BUCKETS - 1;
  const v = ns >>> 0;
  if (v < SUB) return v;
  const exponent = 31 - Math.clz32(v);
  return (exponent - SUB_BITS + 1) * SUB + ((v >>> (exponent - SUB_BITS)) & (SUB - 1));
}

/** The smallest and largest ns a bucket holds (its lower bound and the next bucket's). */
export function bucketBounds(bucket: number): [number, number] {
  if (bucket < SUB) return [bucket, bucket + 1];
  const exponent = Math.floor(bucket / SUB) - 1 + SUB_BITS;
  const sub = bucket % SUB;
  const width = 2 ** (exponent - SUB_BITS);
  const low = 2 ** exponent + sub * width;
  return [low, low + width];
}

/** Adds `packets` packets that each spent `ns` nanoseconds in the worker. */
export function recordResidence(hist: Float64Array, ns: number, packets: number): void {
  hist[residenceBucket(ns)] += packets;
  hist[R_COUNT] += packets;
  hist[R_SUM_NS] += ns * packets;
}

export interface ResidenceSummary {
  /** Packets recorded. */
  packets: number;
  /** Percentiles in microseconds (a bucket's middle; 12.5% resolution), null before any packet. */
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  meanUs: number | null;
}

/** Percentiles over the histograms of all workers (summed bucket by bucket). */
export function summarizeResidence(hists: Float64Array[]): ResidenceSummary {
  const sum = new Float64Array(RESIDENCE_WORDS);
  for (const h of hists) for (let i = 0; i < RESIDENCE_WORDS; i++) sum[i] += h[i];
  const packets = sum[R_COUNT];
  const at = (q: number): number | null => {
    if (packets === 0) return null;
    const rank = q * packets;
    let seen = 0;
    for (let b = 0; b < RESIDENCE_BUCKETS; b++) {
      seen += sum[b];
      if (seen >= rank) {
        const [low, high] = bucketBounds(b);
        return (low + high) / 2 / 1000;
      }
    }
    return null;
  };
  return { packets, p50Us: at(0.5), p99Us: at(0.99), p999Us: at(0.999), meanUs: packets === 0 ? null : sum[R_SUM_NS] / packets / 1000 };
}
