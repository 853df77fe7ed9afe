//===- HugePages.h - Large blocks on transparent huge pages ------*- C++ -*-===//
//
// A model's weights and arena live as long as its context, and at batch 1 the
// kernels stream the weights from memory: on 4 KiB pages a TLB miss every 4
// KiB, each a two-level page walk in a VM. One core of a Xeon (Sapphire
// Rapids) VM read 64 MB at 25 GB/s on 2 MiB pages and at 11 GB/s on 4 KiB
// pages. Blocks of 2 MiB and more are therefore aligned to 2 MiB and marked
// MADV_HUGEPAGE, so that a kernel with transparent huge pages in "madvise"
// mode (Debian's default) backs them with huge pages.
//
// Not the kernels' scratch: the blocks too large for the scratch cache come
// back from the system on every call, and clearing a whole 2 MiB page at
// each fault made ResNet-50's training step 5-8% slower than faulting 4 KiB
// pages as they are first written.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_RUNTIME_HUGEPAGES_H
#define RESNETC_RUNTIME_HUGEPAGES_H

#include <cstddef>

namespace resnetc {

/// Blocks this large and larger go on huge pages.
constexpr size_t kHugePageBytes = size_t(2) << 20;

/// `bytes` aligned to `alignment` (a power of two, at most kHugePageBytes),
/// from std::aligned_alloc, so std::free releases it. Blocks of
/// kHugePageBytes and more are aligned to it, rounded up to a multiple of it,
/// and marked for huge pages where the system has them. Null when out of
/// memory.
void *allocateMaybeHuge(size_t bytes, size_t alignment);

} // namespace resnetc

#endif // RESNETC_RUNTIME_HUGEPAGES_H
