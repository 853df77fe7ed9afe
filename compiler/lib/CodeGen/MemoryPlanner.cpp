//===- MemoryPlanner.cpp - Arena offsets from liveness --------------------===//

#include "resnetc/CodeGen/MemoryPlanner.h"

#include <algorithm>
#include <numeric>

using namespace resnetc::codegen;

namespace {
bool overlapInTime(const LiveRange &a, const LiveRange &b) {
  return a.firstStep <= b.lastStep && b.firstStep <= a.lastStep;
}
} // namespace

std::vector<int64_t> resnetc::codegen::planArena(const std::vector<LiveRange> &buffers,
                                                 int64_t &arenaBytes, int64_t alignment) {
  auto alignUp = [alignment](int64_t value) {
    return (value + alignment - 1) / alignment * alignment;
  };
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties broken by index so the result never depends on sort stability.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes)
      return buffers[a].bytes > buffers[b].bytes;
    return a < b;
  });
  std::vector<int64_t> offsets(buffers.size(), 0);
  std::vector<size_t> placed;
  arenaBytes = 0;
  for (size_t index : order) {
    const LiveRange &buffer = buffers[index];
    // Intervals of the arena taken by buffers alive at the same time.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t other : placed)
      if (overlapInTime(buffer, buffers[other]))
        taken.emplace_back(offsets[other], offsets[other] + buffers[other].bytes);
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (auto [begin, end] : taken) {
      if (offset + buffer.bytes <= begin)
        break;
      offset = std::max(offset, alignUp(end));
    }
    offsets[index] = offset;
    placed.push_back(index);
    arenaBytes = std::max(arenaBytes, alignUp(offset + buffer.bytes));
  }
  return offsets;
}
