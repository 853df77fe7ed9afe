//===- ScratchCacheTest.cpp - Reuse of the kernels' scratch memory --------===//

#include "resnetc/runtime/ScratchCache.h"

#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

using namespace resnetc;

namespace {

bool aligned(void *p, uintptr_t to) { return reinterpret_cast<uintptr_t>(p) % to == 0; }

/// Allocates `count` blocks of `bytes`, then frees them all.
void allocateThenFree(int count, size_t bytes) {
  std::vector<void *> blocks;
  for (int i = 0; i < count; ++i)
    blocks.push_back(scratchMalloc(nullptr, bytes));
  for (void *b : blocks)
    scratchFree(nullptr, b);
}

TEST(ScratchCache, ReusesAFreedBlockOfTheSameSize) {
  const size_t held = scratchCachedBytes();
  void *a = scratchMalloc(nullptr, 600 << 10);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(aligned(a, 128));
  std::memset(a, 1, 600 << 10); // the whole block is writable
  scratchFree(nullptr, a);
  EXPECT_GT(scratchCachedBytes(), held);
  void *other = scratchMalloc(nullptr, 300 << 10); // another size: a new block
  void *b = scratchMalloc(nullptr, 600 << 10);
  EXPECT_EQ(b, a);
  EXPECT_NE(other, a);
  EXPECT_EQ(scratchCachedBytes(), held);
  scratchFree(nullptr, b);
  scratchFree(nullptr, other);
}

TEST(ScratchCache, PrefersABlockThisThreadFreed) {
  // This thread frees `mine`, then another thread frees `theirs`, the most
  // recent block of the size: this thread gets its own back, and the other
  // thread's block is still there for anyone.
  const size_t bytes = 500 << 10;
  void *mine = scratchMalloc(nullptr, bytes);
  void *theirs = scratchMalloc(nullptr, bytes);
  scratchFree(nullptr, mine);
  std::thread([theirs] { scratchFree(nullptr, theirs); }).join();
  void *first = scratchMalloc(nullptr, bytes);
  void *second = scratchMalloc(nullptr, bytes);
  EXPECT_EQ(first, mine);
  EXPECT_EQ(second, theirs);
  scratchFree(nullptr, first);
  scratchFree(nullptr, second);
}

TEST(ScratchCache, SmallBlocksAreNotHeld) {
  const size_t held = scratchCachedBytes();
  void *a = scratchMalloc(nullptr, 1000);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(aligned(a, 128));
  scratchFree(nullptr, a);
  EXPECT_EQ(scratchCachedBytes(), held);
  scratchFree(nullptr, nullptr); // like free(nullptr)
}

TEST(ScratchCache, HoldsABoundedAmount) {
  // 80 blocks of 4 MiB freed at once: at most 64 blocks and 256 MiB are kept.
  allocateThenFree(80, size_t(4) << 20);
  EXPECT_LE(scratchCachedBytes(), size_t(256) << 20);
}

TEST(ScratchCache, TellsItsBlocksFromOthers) {
  void *mine = scratchMalloc(nullptr, 100 << 10);
  EXPECT_TRUE(scratchOwns(mine));
  // Another allocator's block, with a word of its own before it.
  std::vector<uint64_t> other(4, 0);
  EXPECT_FALSE(scratchOwns(&other[1]));
  EXPECT_FALSE(scratchOwns(nullptr));
  scratchFree(nullptr, mine);
}

TEST(ScratchCache, MakesRoomForNewSizes) {
  // The cache full of one size; a block of another size still gets held.
  allocateThenFree(64, size_t(2) << 20);
  void *other = scratchMalloc(nullptr, size_t(3) << 20);
  scratchFree(nullptr, other);
  EXPECT_EQ(scratchMalloc(nullptr, size_t(3) << 20), other);
  scratchFree(nullptr, other);
}

TEST(ScratchCache, TrimGivesEverythingBack) {
  allocateThenFree(3, size_t(1) << 20);
  EXPECT_GT(scratchCachedBytes(), 0u);
  void *inUse = scratchMalloc(nullptr, size_t(1) << 20); // not held: untouched
  std::memset(inUse, 1, size_t(1) << 20);
  scratchTrim();
  EXPECT_EQ(scratchCachedBytes(), 0u);
  std::memset(inUse, 2, size_t(1) << 20);
  scratchFree(nullptr, inUse);
  EXPECT_GT(scratchCachedBytes(), size_t(1) << 20); // held again after the trim
  scratchTrim();
}

} // namespace
