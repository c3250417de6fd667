/**
 * Where the director's memory is, for `ulvs stats` (memory_* keys): the process's RSS, the
 * V8 heap of the main thread and of each dataplane worker (every worker thread is its own
 * isolate, so each reports its own), and glibc malloc's account of native memory (the addon,
 * libuv, V8's malloced metadata, free chunks kept in arenas). Growth in one of them names
 * where a leak or a fragmentation is (the soak, bench/soak.ts, samples these).
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { MallocStats } from '../io/native.js';

/** One thread's V8 heap, kB (v8.getHeapStatistics() read in that thread). */
export interface HeapFigures {
  heapUsedKb: number;
  heapTotalKb: number;
  /** Memory outside the heap held by JS objects (ArrayBuffers, Buffers) of this isolate. */
  externalKb: number;
  /** What V8 itself malloced (compiler zones, handles), not in the heap. */
  mallocedKb: number;
}

const kb = (bytes: number): number => Math.round(bytes / 1024);

/** The calling thread's heap. Control path: a few microseconds. */
export function heapFigures(): HeapFigures {
  const h = getHeapStatistics();
  return { heapUsedKb: kb(h.used_heap_size), heapTotalKb: kb(h.total_heap_size), externalKb: kb(h.external_memory), mallocedKb: kb(h.malloced_memory) };
}

/** VmRSS of this process, kB (all threads). */
export function residentKb(status: string = readFileSync('/proc/self/status', 'utf8')): number {
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/**
 * The flat memory_* keys of `ulvs stats`: the process (rss), the main thread's heap, malloc
 * (null when the addon is not loaded), and each worker's heap (memory_worker<queue>_*, in
 * queue order; a worker that did not answer is left out).
 */
export function memoryStats(main: HeapFigures, workers: (HeapFigures | undefined)[], malloc: MallocStats | null, rssKb: number = residentKb()): Record<string, number> {
  const out: Record<string, number> = {
    memory_rss_kb: rssKb,
    memory_heap_used_kb: main.heapUsedKb, memory_heap_total_kb: main.heapTotalKb,
    memory_external_kb: main.externalKb, memory_v8_malloced_kb: main.mallocedKb,
  };
  if (malloc) {
    out.memory_malloc_in_use_kb = kb(malloc.inUseBytes);
    out.memory_malloc_free_kb = kb(malloc.freeBytes);
    out.memory_malloc_arena_kb = kb(malloc.arenaBytes);
    out.memory_malloc_mmap_kb = kb(malloc.mmapBytes);
  }
  workers.forEach((w, queue) => {
    if (!w) return;
    out[`memory_worker${queue}_heap_used_kb`] = w.heapUsedKb;
    out[`memory_worker${queue}_heap_total_kb`] = w.heapTotalKb;
    out[`memory_worker${queue}_external_kb`] = w.externalKb;
  });
  return out;
}
