// mallocStats() and mallocTrim(): see malloc_stats.h.
#include "malloc_stats.h"

#include <malloc.h>

namespace {

Napi::Value MallocStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // mallinfo2 (glibc >= 2.33) walks every arena under its lock: a few microseconds, control path only.
  struct mallinfo2 mi = mallinfo2();
  Napi::Object out = Napi::Object::New(env);
  // Bytes taken from the kernel with brk/sbrk and per-thread arena heaps (not counting mmapped chunks).
  out.Set("arenaBytes", Napi::Number::New(env, static_cast<double>(mi.arena)));
  // Large chunks malloc mmapped on their own (returned to the kernel when freed).
  out.Set("mmapBytes", Napi::Number::New(env, static_cast<double>(mi.hblkhd)));
  // Allocated and still in use.
  out.Set("inUseBytes", Napi::Number::New(env, static_cast<double>(mi.uordblks)));
  // Free chunks kept in the arenas (resident if once touched, unless trimmed).
  out.Set("freeBytes", Napi::Number::New(env, static_cast<double>(mi.fordblks)));
  // The free top of the main arena, which malloc_trim(0) could give back.
  out.Set("topReleasableBytes", Napi::Number::New(env, static_cast<double>(mi.keepcost)));
  return out;
}

Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  // malloc_trim(0): returns free pages of every arena (not only the top) to the kernel (MADV_DONTNEED).
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
}

}  // namespace

void InitMallocStats(Napi::Env env, Napi::Object exports) {
  exports.Set("mallocStats", Napi::Function::New(env, MallocStats, "mallocStats"));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim, "mallocTrim"));
}
