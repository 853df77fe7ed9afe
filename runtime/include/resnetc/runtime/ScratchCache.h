//===- ScratchCache.h - Reuse of the kernels' scratch memory -----*- C++ -*-===//
//
// Halide kernels allocate their scratch buffers (a zero-padded input, the
// per-chunk sums of a weight gradient) with halide_malloc on every call, and
// free them before returning. Blocks of a few hundred KiB and more are
// returned to the operating system by glibc's free, so every call paid the
// page faults of fresh memory again: up to 60% of a backward-weights kernel's
// time at batch 128. The scratch cache keeps freed blocks of 64 KiB and more
// for the next allocation of the same size, preferably on the thread that
// freed them (the oldest go first when it is full).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_SCRATCHCACHE_H
#define RESNETC_RUNTIME_SCRATCHCACHE_H

#include <cstddef>

namespace resnetc {

/// halide_malloc and halide_free through the cache (the model runtime
/// installs them with halide_set_custom_malloc and halide_set_custom_free, a
/// process-wide setting, before the first kernel call: a block must be freed
/// by the allocator that made it). Thread-safe.
void *scratchMalloc(void *userContext, size_t bytes);
void scratchFree(void *userContext, void *block);
/// Whether `block` came from scratchMalloc (a word before it says so), so
/// that blocks of another allocator go back to it.
bool scratchOwns(void *block);
/// Gives every block held for reuse back to the system (blocks in use are
/// not held, so this is safe at any time). The model runtime calls it when
/// its last context is destroyed.
void scratchTrim();
/// The bytes held for reuse (for tests).
size_t scratchCachedBytes();

} // namespace resnetc

#endif // RESNETC_RUNTIME_SCRATCHCACHE_H
