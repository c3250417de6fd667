// glibc malloc's own account (mallinfo2) and malloc_trim: native memory the V8 heap
// statistics do not see (the addon's buffers, libuv, V8's malloced metadata, free chunks
// kept in arenas after a burst). Slow path: `ulvs stats`, a periodic trim.
#pragma once
#include <napi.h>

// Adds mallocStats(): { arenaBytes, mmapBytes, inUseBytes, freeBytes, topReleasableBytes }
// and mallocTrim(): boolean (true when memory was returned to the kernel) to `exports`.
void InitMallocStats(Napi::Env env, Napi::Object exports);
