// The memory figures of `ulvs stats` (src/os/memory.ts) against the real V8 and the real addon:
// each moves when this thread allocates where it says.
import t from 'tap';
import { loadNative } from '../../src/io/native.js';
import { heapFigures, memoryStats, residentKb } from '../../src/os/memory.js';

t.test('heapFigures: the heap used grows by what this thread keeps alive', async (t) => {
  const before = heapFigures();
  const kept = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `object ${i}` }));
  const after = heapFigures();
  t.ok(after.heapUsedKb - before.heapUsedKb >= 5_000, `200,000 objects: +${after.heapUsedKb - before.heapUsedKb} kB used`);
  t.ok(after.heapTotalKb >= after.heapUsedKb, 'total >= used');
  t.equal(kept.length, 200_000);
});

t.test('heapFigures: a Buffer is external memory, not heap', async (t) => {
  const before = heapFigures();
  const buf = Buffer.alloc(16 << 20, 1);
  const after = heapFigures();
  t.ok(after.externalKb - before.externalKb >= 16_000, `16 MiB Buffer: +${after.externalKb - before.externalKb} kB external`);
  t.ok(after.heapUsedKb - before.heapUsedKb < 4_000, `heap used +${after.heapUsedKb - before.heapUsedKb} kB only`);
  t.equal(buf[0], 1);
});

t.test('mallocStats: a native allocation is counted by malloc (in use or mmapped)', async (t) => {
  const native = loadNative();
  const before = native.mallocStats();
  const buf = Buffer.allocUnsafeSlow(32 << 20); // Node's ArrayBuffer allocator: malloc
  buf.fill(2);
  const after = native.mallocStats();
  const grew = (after.inUseBytes + after.mmapBytes) - (before.inUseBytes + before.mmapBytes);
  t.ok(grew >= 30 << 20, `32 MiB: malloc's in use + mmapped grew ${Math.round(grew / 1024)} kB`);
  for (const k of ['arenaBytes', 'mmapBytes', 'inUseBytes', 'freeBytes', 'topReleasableBytes'] as const) t.ok(Number.isFinite(after[k]) && after[k] >= 0, `${k} ${after[k]}`);
  t.equal(buf[1], 2);
  t.type(native.mallocTrim(), 'boolean', 'mallocTrim answers whether it gave memory back');
});

t.test('memoryStats: flat keys for the process, malloc and each worker that answered', async (t) => {
  const h = { heapUsedKb: 10, heapTotalKb: 20, externalKb: 3, mallocedKb: 1 };
  const s = memoryStats(h, [{ ...h, heapUsedKb: 11 }, undefined, { ...h, heapUsedKb: 13 }],
    { arenaBytes: 4096, mmapBytes: 2048, inUseBytes: 3072, freeBytes: 1024, topReleasableBytes: 0 }, 500);
  t.same(s, {
    memory_rss_kb: 500, memory_heap_used_kb: 10, memory_heap_total_kb: 20, memory_external_kb: 3, memory_v8_malloced_kb: 1,
    memory_malloc_in_use_kb: 3, memory_malloc_free_kb: 1, memory_malloc_arena_kb: 4, memory_malloc_mmap_kb: 2,
    memory_worker0_heap_used_kb: 11, memory_worker0_heap_total_kb: 20, memory_worker0_external_kb: 3,
    memory_worker2_heap_used_kb: 13, memory_worker2_heap_total_kb: 20, memory_worker2_external_kb: 3,
  });
  t.notOk('memory_malloc_in_use_kb' in memoryStats(h, [], null, 1), 'no malloc keys without the addon');
});

t.test('residentKb: VmRSS of this process', async (t) => {
  t.equal(residentKb('Name:\tnode\nVmRSS:\t  123456 kB\n'), 123456);
  const mine = residentKb();
  t.ok(mine > heapFigures().heapUsedKb / 2 && mine < 16 << 20, `this process: ${mine} kB`);
});

t.test('mallocTrim gives free arena memory back to the kernel (RSS falls)', async (t) => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const native = loadNative();
  // 4,000 chunks of 8 kB (below malloc's mmap threshold: they come from an arena), touched, then
  // freed by a GC with a small one kept at the end so the arena's top cannot simply shrink.
  let chunks: Buffer[] | null = Array.from({ length: 4000 }, () => Buffer.allocUnsafeSlow(8192).fill(3));
  const pin = Buffer.allocUnsafeSlow(64).fill(1);
  chunks = null;
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setImmediate(r)); }
  const free = native.mallocStats().freeBytes;
  const before = residentKb();
  t.ok(free >= 16 << 20, `malloc keeps ${Math.round(free / 1024)} kB free after the GC`);
  t.equal(native.mallocTrim(), true, 'memory was given back');
  const after = residentKb();
  t.ok(before - after >= 16_000, `RSS ${before} -> ${after} kB`);
  t.equal(pin[0], 1);
  t.equal(chunks, null);
});
