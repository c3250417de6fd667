// Memory for the dataplane's large tables (the flow table): anonymous pages mapped by the
// addon and advised as transparent huge pages, exposed to JS as an external ArrayBuffer.
#pragma once
#include <napi.h>

// Adds allocateTableMemory(bytes: number): { buffer: ArrayBuffer, hugePages: boolean } to `exports`.
void InitTableMemory(Napi::Env env, Napi::Object exports);
