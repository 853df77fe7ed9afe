//===- ParallelLoops.cpp - How the kernels' parallel loops are shared -----===//

#include "resnetc/runtime/ParallelLoops.h"

#include <HalideRuntime.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <unistd.h>

namespace {

constexpr int kMaxChunks = 64;

std::atomic<int> chunks{1};
std::atomic<int> nextWorkerIndex{1};
/// This thread's index: 0 for a thread that starts a loop, 1, 2, ... for
/// the pool's workers in the order they first run a chunk.
thread_local int threadIndex = -1;
/// Whether this thread is inside a chunk (a loop nested in a kernel's task
/// goes to Halide's own scheduling).
thread_local bool inChunk = false;

struct Loop {
  halide_task_t task;
  uint8_t *closure;
  int min, extent, chunks;
  std::atomic<bool> taken[kMaxChunks];
};

int claimChunk(Loop &loop) {
  if (threadIndex < 0)
    threadIndex = nextWorkerIndex.fetch_add(1);
  if (threadIndex < loop.chunks && !loop.taken[threadIndex].exchange(true))
    return threadIndex;
  for (int c = 0; c < loop.chunks; ++c)
    if (!loop.taken[c].exchange(true))
      return c;
  return -1;
}

int runChunk(void *userContext, int, uint8_t *closure) {
  Loop &loop = *reinterpret_cast<Loop *>(closure);
  const int c = claimChunk(loop);
  if (c < 0)
    return 0;
  const int begin = loop.min + int(int64_t(c) * loop.extent / loop.chunks);
  const int end = loop.min + int(int64_t(c + 1) * loop.extent / loop.chunks);
  inChunk = true;
  int result = 0;
  for (int i = begin; i < end && result == 0; ++i)
    result = loop.task(userContext, i, loop.closure);
  inChunk = false;
  return result;
}

int chunkedParFor(void *userContext, halide_task_t task, int min, int extent, uint8_t *closure) {
  const int n = chunks.load(std::memory_order_relaxed);
  if (inChunk || n <= 1 || extent <= 1)
    return halide_default_do_par_for(userContext, task, min, extent, closure);
  Loop loop;
  loop.task = task;
  loop.closure = closure;
  loop.min = min;
  loop.extent = extent;
  loop.chunks = extent < n ? extent : n;
  for (int c = 0; c < loop.chunks; ++c)
    loop.taken[c].store(false, std::memory_order_relaxed);
  threadIndex = 0;
  return halide_default_do_par_for(userContext, runChunk, 0, loop.chunks,
                                   reinterpret_cast<uint8_t *>(&loop));
}

/// The pool's size for a request of `threads`, as Halide resolves it.
int resolvedThreads(int threads) {
  if (threads > 0)
    return threads;
  for (const char *name : {"HL_NUM_THREADS", "HL_NUMTHREADS"})
    if (const char *value = std::getenv(name))
      return std::atoi(value);
  return int(sysconf(_SC_NPROCESSORS_ONLN));
}

} // namespace

void resnetc::useChunkedParallelLoops(int threads) {
  int n = resolvedThreads(threads);
  n = n < 1 ? 1 : (n > kMaxChunks ? kMaxChunks : n);
  chunks.store(n, std::memory_order_relaxed);
  // A restarted pool's workers are new threads: number them from 1 again.
  nextWorkerIndex.store(1);
  halide_set_custom_do_par_for(chunkedParFor);
}

int resnetc::parallelLoopChunks() { return chunks.load(std::memory_order_relaxed); }
