//===- HugePages.cpp - Large blocks on transparent huge pages -------------===//

#include "resnetc/runtime/HugePages.h"

#include <cstdlib>
#if defined(__linux__)
#include <sys/mman.h>
#endif

void *resnetc::allocateMaybeHuge(size_t bytes, size_t alignment) {
  if (bytes < kHugePageBytes)
    return std::aligned_alloc(alignment, (bytes + alignment - 1) & ~(alignment - 1));
  size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  void *block = std::aligned_alloc(kHugePageBytes, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: where huge pages are off or exhausted the block still works
  // on small pages, so a failure is not an error.
  if (block)
    madvise(block, rounded, MADV_HUGEPAGE);
#endif
  return block;
}
