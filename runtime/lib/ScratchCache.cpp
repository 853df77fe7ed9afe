//===- ScratchCache.cpp - Reuse of the kernels' scratch memory ------------===//

#include "resnetc/runtime/ScratchCache.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace {

/// Blocks are aligned to this, and their size is stored this far before the
/// pointer handed out (Halide also needs a few readable bytes around it).
constexpr size_t kHeader = 128;
/// Smaller blocks go straight to malloc, which serves them from its own
/// free lists.
constexpr size_t kMinCachedBytes = size_t(64) << 10;
/// What the cache holds at most; beyond it, freed blocks go back to the
/// system.
constexpr size_t kMaxCachedBytes = size_t(256) << 20;
constexpr size_t kMaxCachedBlocks = 64;

/// A free block, and the thread that freed it: its lines are likely still
/// in that core's caches.
struct FreeBlock {
  void *base;
  const void *thread;
};

struct Cache {
  std::mutex mutex;
  std::vector<FreeBlock> blocks; ///< Most recent last.
  size_t bytes = 0;
};

/// This thread's token (the address of a thread-local).
const void *thisThread() {
  thread_local char token;
  return &token;
}

Cache &cache() {
  static Cache *instance = new Cache; // never destroyed: kernels may run at exit
  return *instance;
}

size_t &sizeOf(void *base) { return *static_cast<size_t *>(base); }
/// Just before every block handed out: tells the cache's blocks from others
/// (halide_default_malloc keeps a pointer in that word).
constexpr uint64_t kMagic = 0x7363726174636821; // "scratch!"
uint64_t &magicOf(void *block) { return static_cast<uint64_t *>(block)[-1]; }

} // namespace

void *resnetc::scratchMalloc(void *, size_t bytes) {
  // Whole pages, plus the header and a little readable slack at the end.
  size_t size = (bytes + kHeader + 64 + 4095) & ~size_t(4095);
  if (size >= kMinCachedBytes) {
    // A block this thread freed first, else any of the size: a block
    // another core wrote last costs a transfer of each of its lines (with
    // one shared pool, two threads' row tasks of ResNet-18's 64-channel
    // Winograd conv took 1.5x the time they take alone).
    Cache &c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    const void *self = thisThread();
    size_t found = c.blocks.size();
    for (size_t i = c.blocks.size(); i-- > 0;) {
      if (sizeOf(c.blocks[i].base) != size)
        continue;
      if (found == c.blocks.size())
        found = i;
      if (c.blocks[i].thread == self) {
        found = i;
        break;
      }
    }
    if (found < c.blocks.size()) {
      void *base = c.blocks[found].base;
      c.blocks.erase(c.blocks.begin() + std::ptrdiff_t(found));
      c.bytes -= size;
      return static_cast<char *>(base) + kHeader;
    }
  }
  void *base = std::aligned_alloc(kHeader, size);
  if (!base)
    return nullptr;
  sizeOf(base) = size;
  void *block = static_cast<char *>(base) + kHeader;
  magicOf(block) = kMagic;
  return block;
}

bool resnetc::scratchOwns(void *block) { return block && magicOf(block) == kMagic; }

void resnetc::scratchFree(void *, void *block) {
  if (!block)
    return;
  void *base = static_cast<char *>(block) - kHeader;
  size_t size = sizeOf(base);
  if (size >= kMinCachedBytes && size <= kMaxCachedBytes) {
    // Room for it first: the oldest blocks go (sizes no longer asked for).
    std::vector<void *> evicted;
    {
      Cache &c = cache();
      std::lock_guard<std::mutex> lock(c.mutex);
      while (!c.blocks.empty() &&
             (c.bytes + size > kMaxCachedBytes || c.blocks.size() >= kMaxCachedBlocks)) {
        evicted.push_back(c.blocks.front().base);
        c.bytes -= sizeOf(c.blocks.front().base);
        c.blocks.erase(c.blocks.begin());
      }
      c.blocks.push_back({base, thisThread()});
      c.bytes += size;
    }
    for (void *old : evicted)
      std::free(old);
    return;
  }
  std::free(base);
}

void resnetc::scratchTrim() {
  std::vector<FreeBlock> held;
  {
    Cache &c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    held.swap(c.blocks);
    c.bytes = 0;
  }
  for (const FreeBlock &block : held)
    std::free(block.base);
}

size_t resnetc::scratchCachedBytes() {
  Cache &c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}
