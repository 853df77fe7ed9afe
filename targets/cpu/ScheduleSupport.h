//===- ScheduleSupport.h - What the CPU schedules share -----------*- C++ -*-===//
//
// Work thresholds, parallel-loop helpers and tile choices used by the
// inference schedules (Schedules.cpp) and the training ones
// (TrainingSchedules.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TARGETS_CPU_SCHEDULESUPPORT_H
#define RESNETC_TARGETS_CPU_SCHEDULESUPPORT_H

#include "Schedules.h"

#include <algorithm>
#include <limits>

namespace resnetc::kernelgen::cpu {

using namespace Halide;

// Below this much work (elements, or multiply-adds for convolutions) a
// kernel runs on one thread; a parallel task gets at least kMinTaskWork
// (tasks of a few microseconds lose their time to the thread pool's lock).
inline constexpr int64_t kMinParallelWork = int64_t(1) << 15;
inline constexpr int64_t kMinTaskWork = int64_t(1) << 16;
// A parallel task of a reduction kernel does at least this many
// multiply-adds.
inline constexpr int64_t kMinTaskMacs = int64_t(1) << 16;
// A parallel task of a convolution does at least this many multiply-adds
// (about 10 us), while there are at least kMinConvTasks tasks: Halide's
// thread pool hands out one task at a time under a lock, and with one-row
// tasks of ResNet-20's convs (about 1 us) two threads ran only 1.2x as fast
// as one.
inline constexpr int64_t kMinConvTaskMacs = int64_t(1) << 20;
inline constexpr int64_t kMinConvTasks = 32;
// conv2d_grad_weight sums chunks of images apart, in parallel, when each
// chunk is at least kMinGradWeightChunkMacs multiply-adds: parallel tasks over
// the tiles of one block at a time were a few microseconds, with a barrier
// after each block, and two threads ran ResNet-20's 16-channel layer only
// 1.19x as fast as one.
inline constexpr int64_t kMinGradWeightChunkMacs = int64_t(1) << 22;
inline constexpr int kMaxGradWeightChunks = 16;
// Each chunk's sums are zeroed, written at every block and added up at the
// end: beyond two chunks, at most this many bytes of them. With 16 chunks
// of ResNet-50's 512-channel 3x3 layer (151 MB of sums) its backward-weights
// at batch 32 took 70.7 ms on two threads against 38.4 with two chunks, the
// 2048 -> 512 1x1 35.7 against 21.6 (one thread: 115 -> 77, 61 -> 43 ms);
// one chunk, the tiles of each block in parallel, ran slower at two threads
// (25 against 20 ms). ResNet-20's 64-channel layer at F(4x4) (590 KB of sums
// a chunk): 2.13-2.25 -> 1.91-1.96 ms on one thread with two chunks, not four.
inline constexpr int64_t kMaxGradWeightChunkBytes = int64_t(2) << 20;
// Independent accumulator chains a backward-weights register tile needs to
// keep two FMA pipes of latency 4 busy.
inline constexpr int kMinGradWeightAccumulators = 8;
// Strided backward-data computes its phases one image at a time, images in
// parallel, from this many images.
inline constexpr int kMinPhasedImages = 16;

/// Fuses y (inner) and n (outer) of `stage` into `fused` and runs chunks of
/// rows in parallel. Chunks are guarded, which is safe on update stages.
template <typename StageT>
inline void parallelRows(StageT &&stage, const Var &y, const Var &n, int rows, int64_t workPerRow,
                         const Var &fused) {
  if (rows < 2 || rows * workPerRow < kMinParallelWork)
    return;
  stage.fuse(y, n, fused);
  int64_t perTask = (kMinTaskWork + workPerRow - 1) / workPerRow;
  perTask = std::min<int64_t>(perTask, rows / 2);
  if (perTask > 1)
    stage.parallel(fused, int(perTask), TailStrategy::GuardWithIf);
  else
    stage.parallel(fused);
}

/// Runs the fused loop `tasks` of `stage` in parallel, each task covering
/// several iterations of `iterationMacs` multiply-adds when they are small
/// (see kMinConvTaskMacs). Tails are guarded, which is safe on pure stages.
template <typename StageT>
inline void parallelConvTasks(StageT &&stage, const Var &tasks, int64_t iterations,
                              int64_t iterationMacs) {
  int64_t perTask = (kMinConvTaskMacs + iterationMacs - 1) / iterationMacs;
  perTask = std::min(perTask, iterations / kMinConvTasks);
  if (perTask > 1)
    stage.parallel(tasks, int(perTask), TailStrategy::GuardWithIf);
  else
    stage.parallel(tasks);
}

struct ConvTile {
  int vectors, x, y;
};

/// Picks the conv register tile: `vectors` vectors of output channels x `x`
/// pixels x `y` rows of accumulators. A small model of the inner loop (one
/// step of the input-channel reduction: `vectors` weight loads, x*y
/// broadcasts, vectors*x*y FMAs; two FMAs and two loads per cycle, 8
/// accumulators in flight to hide the FMA latency, a little loop overhead)
/// is traded against the outputs recomputed when a tile does not divide an
/// extent. Accumulators plus weight vectors plus two (broadcasts, spare)
/// must fit the vector register file. At most `maxPixels` pixels a tile.
/// `reduction` is the number of channels summed (C, or K for the
/// transposed convolution).
/// Deep layers on small images (more weights than activations): the conv
/// takes one block of output channels at a time over the whole image.
inline bool blocksOuterLoop(int K, int Q, int P) { return K >= 256 && P * Q <= 196; }

/// Strided convs over more than 64 input channels sum them in groups of 64
/// (outermost), so that the weights of a channel block stay in cache.
inline bool blocksConvReduction(const Conv2DStages &st) {
  const bool strided = st.strideH > 1 || st.strideW > 1;
  return strided && st.C > 64 && st.C % 64 == 0;
}

/// The most pixels of a conv register tile summing C channels: from C = 1024
/// (4 KiB, a multiple of the L1 way size) the tile's pixels, C floats apart
/// in the input, all land in one L1 set, and more than 8 evict each other.
inline int maxConvTilePixels(int C) { return C >= 1024 ? 8 : std::numeric_limits<int>::max(); }

inline ConvTile chooseConvTile(int K, int Q, int P, int lanes, int registers, int reduction,
                               int maxPixels = std::numeric_limits<int>::max()) {
  auto waste = [](int extent, int tile) {
    return double((extent + tile - 1) / tile * tile) / extent;
  };
  ConvTile best{1, 1, 1};
  if (K < 2 * lanes && reduction > 4) {
    // One vector of channels (16 on AVX-512): one row of pixels that divides
    // the width. Measured against the model's pick (8x3 on 32x32, 7x4 on
    // 28x28), a 16->16 3x3 conv at batch 128 runs 12-16% faster; the model's
    // load/FMA balance does not see what costs the taller tiles here. Not
    // for the 1- and 3-channel stems, which the model's taller tiles serve
    // better (25% faster).
    best.x = std::max(1, std::min({Q, 8, maxPixels}));
    for (int x = best.x - 1; x >= 1; --x) // the widest of the least wasteful
      if (waste(Q, x) < waste(Q, best.x) - 1e-9)
        best.x = x;
    return best;
  }
  double bestCost = std::numeric_limits<double>::infinity();
  for (int vectors : {2, 1}) {
    if (vectors > 1 && K < vectors * lanes)
      continue;
    for (int y = 1; y <= std::min(P, 4); ++y)
      for (int x = 1; x <= std::min(Q, 8); ++x) {
        int acc = vectors * x * y;
        if (acc + vectors + 2 > registers || x * y > maxPixels)
          continue;
        double fmaCycles = acc / 2.0, loadCycles = (vectors + x * y) / 2.0;
        double efficiency =
            fmaCycles / (std::max(fmaCycles, loadCycles) + 0.5) * std::min(1.0, acc / 8.0);
        double cost = waste(K, vectors * lanes) * waste(Q, x) * waste(P, y) / efficiency;
        if (cost < bestCost - 1e-9) {
          bestCost = cost;
          best = {vectors, x, y};
        }
      }
  }
  return best;
}

} // namespace resnetc::kernelgen::cpu

#endif // RESNETC_TARGETS_CPU_SCHEDULESUPPORT_H
