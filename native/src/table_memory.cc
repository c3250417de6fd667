// allocateTableMemory(bytes): zeroed anonymous memory, 2 MiB aligned, with
// madvise(MADV_HUGEPAGE) so that with THP in `madvise` mode the kernel backs it with huge
// pages: a random access in a table of tens of MiB then misses the TLB far less often. The
// ArrayBuffer's finalizer unmaps it. Control path (a table is allocated once).
#include "table_memory.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "errno_error.h"

namespace {

using ulvs::SysError;
using ulvs::ThrowSysError;
using ulvs::ThrowTypeError;

constexpr size_t kHugePage = size_t(2) << 20;
// Beyond any table ulvs builds (a flow table at its 2^24 maximum is under 2 GiB).
constexpr double kMaxTableBytes = double(uint64_t(1) << 34);

Napi::Value AllocateTableMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowTypeError(env, "allocateTableMemory(bytes: number)");
  double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested >= 1 && requested <= kMaxTableBytes)) {
    return ThrowTypeError(env, "allocateTableMemory: bytes must be 1 .. 2^34");
  }
  size_t length = (size_t(requested) + kHugePage - 1) & ~(kHugePage - 1);
  // Map one huge page more, then trim both ends so the region starts on a 2 MiB boundary.
  size_t mapped = length + kHugePage;
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return ThrowSysError(env, SysError{errno, "mmap", "table memory"});
  uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t(kHugePage) - 1);
  if (aligned > start) munmap(raw, aligned - start);
  uintptr_t end = aligned + length;
  if (start + mapped > end) munmap(reinterpret_cast<void*>(end), start + mapped - end);
  void* data = reinterpret_cast<void*>(aligned);
  bool huge = madvise(data, length, MADV_HUGEPAGE) == 0;
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, data, length, [length](Napi::Env, void* p) { munmap(p, length); });
  Napi::Object result = Napi::Object::New(env);
  result.Set("buffer", buffer);
  result.Set("hugePages", Napi::Boolean::New(env, huge));
  return result;
}

}  // namespace

void InitTableMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("allocateTableMemory", Napi::Function::New(env, AllocateTableMemory, "allocateTableMemory"));
}
