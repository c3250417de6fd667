// Memory for the dataplane's large tables (FlowTable's records, index and slot links): the
// addon's anonymous mapping advised as transparent huge pages (native/src/table_memory.cc), so
// a lookup in a table of tens of MiB misses the TLB far less often. Without the addon (a
// checkout whose addon is not built, or a process that never loads it), a plain ArrayBuffer.
import { loadNative } from './native.js';

/** How many allocations got huge-page memory, and how many fell back to plain memory. */
export const tableMemoryStats = { hugePages: 0, plain: 0 };

export function allocateTableMemory(bytes: number): ArrayBuffer {
  let native: ReturnType<typeof loadNative> | null = null;
  try {
    native = loadNative();
  } catch {
    native = null;
  }
  if (native === null || typeof native.allocateTableMemory !== 'function') {
    tableMemoryStats.plain++;
    return new ArrayBuffer(bytes);
  }
  const { buffer, hugePages } = native.allocateTableMemory(bytes);
  if (hugePages) tableMemoryStats.hugePages++;
  else tableMemoryStats.plain++;
  return buffer;
}
