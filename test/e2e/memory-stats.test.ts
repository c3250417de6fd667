// `ulvs stats` says where a running director's memory is (src/os/memory.ts): the process's
// RSS, the main thread's V8 heap, malloc's account, and the heap of each dataplane worker (a
// worker thread is its own isolate). Against a real director in the lab (prefix sqm-), under
// HTTP load through the VIP and a few reloads (each a snapshot in the worker).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createLab, destroyLab, labDirectorConfig } from '../../src/lab/index.js';
import { httpFrom, startDirector, ulvsIn, writeConfig, type RunningDirector } from './director.js';

const prefix = 'sqm-';

t.test('memory figures in ulvs stats', { timeout: 300_000 }, async (t) => {
  let director: RunningDirector | null = null;
  t.teardown(async () => { await director?.stop(); await destroyLab({ prefix }); });
  await destroyLab({ prefix }).catch(() => undefined);
  const lab = await createLab({ prefix });
  const dir1 = lab.nodes.dir1.name;
  director = await startDirector(dir1, writeConfig(labDirectorConfig()));
  const { bodies } = await httpFrom(lab.nodes.client.name, `http://${lab.vip}/`, 30, 'new');
  t.equal(bodies.length, 30, 'the director forwards');
  for (let i = 0; i < 3; i++) t.equal((await ulvsIn(dir1, ['reload'])).code, 0, `reload ${i + 1}`);
  const run = await ulvsIn(dir1, ['stats', '--json']);
  t.equal(run.code, 0, 'ulvs stats answers');
  const s = JSON.parse(run.stdout) as Record<string, number>;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${director.process.pid}/status`, 'utf8'))?.[1]);
  t.ok(s.memory_rss_kb > 0 && Math.abs(s.memory_rss_kb - rss) < rss * 0.25, `memory_rss_kb ${s.memory_rss_kb} is the director's VmRSS (${rss} kB now)`);
  t.ok(s.memory_heap_used_kb > 1000 && s.memory_heap_used_kb <= s.memory_heap_total_kb, `main heap ${s.memory_heap_used_kb}/${s.memory_heap_total_kb} kB`);
  t.ok(s.memory_worker0_heap_used_kb > 1000 && s.memory_worker0_heap_used_kb <= s.memory_worker0_heap_total_kb,
    `worker 0 heap ${s.memory_worker0_heap_used_kb}/${s.memory_worker0_heap_total_kb} kB`);
  t.ok(s.memory_worker0_external_kb > 0, `worker 0 external ${s.memory_worker0_external_kb} kB (its flow table, frame views)`);
  t.notOk('memory_worker1_heap_used_kb' in s, 'one worker, one set of worker keys');
  t.ok(s.memory_malloc_in_use_kb > 0 && s.memory_malloc_arena_kb > 0, `malloc in use ${s.memory_malloc_in_use_kb} kB of ${s.memory_malloc_arena_kb} kB in arenas`);
  t.ok(s.memory_heap_total_kb + s.memory_worker0_heap_total_kb < s.memory_rss_kb * 2, 'the heaps fit in the process');
});
