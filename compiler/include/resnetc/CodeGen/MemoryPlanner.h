//===- MemoryPlanner.h - Arena offsets from liveness ------------*- C++ -*-===//

#ifndef RESNETC_CODEGEN_MEMORYPLANNER_H
#define RESNETC_CODEGEN_MEMORYPLANNER_H

#include <cstdint>
#include <vector>

namespace resnetc::codegen {

/// A buffer that lives from the step that writes it to the last step that
/// reads it (both inclusive).
struct LiveRange {
  int64_t bytes = 0;
  int firstStep = 0;
  int lastStep = 0;
};

/// Where buffers start in the arena and the weights: a cache line.
inline constexpr int64_t kBufferAlignment = 64;

/// Places every buffer in one arena so that buffers alive at the same step
/// never overlap, reusing the memory of dead ones: largest first, each at the
/// lowest offset, a multiple of `alignment`, that fits. Returns the offsets;
/// `arenaBytes` gets the arena's size. Deterministic.
std::vector<int64_t> planArena(const std::vector<LiveRange> &buffers, int64_t &arenaBytes,
                               int64_t alignment = kBufferAlignment);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_MEMORYPLANNER_H
