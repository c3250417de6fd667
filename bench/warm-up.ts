// Warm-up for the dataplane benches and the no-allocation tests' hot loops: run chunks until one
// allocates (almost) nothing.
// A fixed warm-up is not enough on a busy machine: V8 compiles optimised code on a background
// thread, and when the cores are taken that can finish after a fixed warm-up ends, so the
// measured rounds start in unoptimised code, which boxes numbers, and collect garbage (CI saw it;
// `--concurrent-recompilation-delay=500` reproduces it here). Waiting for a quiet chunk measures
// the same steady state whatever the machine's load; code that allocates in its steady state never
// gets quiet, runs out of chunks, and the measured rounds then show its collections.
import { GCProfiler, getHeapStatistics } from 'node:v8';

/** Heap growth across one chunk below which the code is taken as warm (allocation buffers round). */
const QUIET_BYTES = 64 * 1024;

/**
 * Runs `chunk()` until a chunk after the first runs with no collection inside it
 * (V8's GCProfiler says so synchronously) and leaves the heap grown by less than QUIET_BYTES, or
 * `maxChunks` ran. Both are needed: a chunk with a collection can net out at any growth.
 * Returns how many chunks ran, for the caller to print.
 */
export function warmUntilQuiet(chunk: () => void, maxChunks = 60): number {
  const profiler = new GCProfiler();
  for (let k = 0; k < maxChunks; k++) {
    profiler.start();
    const before = getHeapStatistics().used_heap_size;
    chunk();
    const grown = getHeapStatistics().used_heap_size - before;
    const collections = profiler.stop().statistics.length;
    if (k > 0 && collections === 0 && grown < QUIET_BYTES) return k + 1;
  }
  return maxChunks;
}

/**
 * The no-allocation check's run: warm up until quiet, then `measured()` between BEGIN and END
 * lines (the test reads node's --trace-gc output between them). If a collection came inside,
 * warm up and measure again, up to `attempts` times: a branch first taken in the measured rounds
 * deoptimises its function, which then runs unoptimised (and boxes) until V8 recompiles it, and
 * on a loaded machine that can take long enough to fill the young generation. Code that allocates
 * in its steady state collects in every attempt; the test judges the last one.
 */
export function measureSteady(warmChunk: () => void, measured: () => void, attempts = 3): void {
  const profiler = new GCProfiler();
  for (let a = 1; a <= attempts; a++) {
    const chunks = warmUntilQuiet(warmChunk);
    process.stdout.write(`attempt ${a}: warm after ${chunks} chunks\nBEGIN\n`);
    profiler.start();
    measured();
    const collections = profiler.stop().statistics.length;
    process.stdout.write('END\n');
    if (collections === 0) return;
  }
}
