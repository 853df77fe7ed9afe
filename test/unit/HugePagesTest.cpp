//===- HugePagesTest.cpp - Large blocks on transparent huge pages ---------===//

#include "resnetc/runtime/HugePages.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>

using namespace resnetc;

namespace {

bool aligned(void *p, uintptr_t to) { return reinterpret_cast<uintptr_t>(p) % to == 0; }

TEST(HugePages, SmallBlocksKeepTheirAlignment) {
  for (size_t bytes : {size_t(1), size_t(100), size_t(1) << 20}) {
    void *block = allocateMaybeHuge(bytes, 64);
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(aligned(block, 64));
    std::memset(block, 1, bytes);
    std::free(block);
  }
}

TEST(HugePages, LargeBlocksStartOnAHugePage) {
  // Sizes around and far beyond the threshold, and one not a multiple of it.
  for (size_t bytes : {kHugePageBytes, kHugePageBytes * 3 + 7, size_t(300) << 20}) {
    char *block = static_cast<char *>(allocateMaybeHuge(bytes, 64));
    ASSERT_NE(block, nullptr);
    EXPECT_TRUE(aligned(block, kHugePageBytes)) << bytes;
    block[0] = 1;
    block[bytes - 1] = 2; // the last byte is in the block
    std::free(block);
  }
}

} // namespace
