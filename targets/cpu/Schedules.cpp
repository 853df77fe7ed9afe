//===- Schedules.cpp - CPU schedules for the kernel generator -------------===//

#include "Schedules.h"

#include <algorithm>
#include <limits>

namespace resnetc::kernelgen {

using namespace Halide;

namespace {

// Below this much work (elements, or multiply-adds for convolutions) a
// kernel runs on one thread; a parallel task gets at least kMinTaskWork
// (tasks of a few microseconds lose their time to the thread pool's lock).
constexpr int64_t kMinParallelWork = int64_t(1) << 15;
constexpr int64_t kMinTaskWork = int64_t(1) << 16;
// A parallel task of a reduction kernel does at least this many
// multiply-adds.
constexpr int64_t kMinTaskMacs = int64_t(1) << 16;
// A parallel task of a convolution does at least this many multiply-adds
// (about 10 us), while there are at least kMinConvTasks tasks: Halide's
// thread pool hands out one task at a time under a lock, and with one-row
// tasks of ResNet-20's convs (about 1 us) two threads ran only 1.2x as fast
// as one.
constexpr int64_t kMinConvTaskMacs = int64_t(1) << 20;
constexpr int64_t kMinConvTasks = 32;
// conv2d_grad_weight sums chunks of images apart, in parallel, when each
// chunk is at least kMinGradWeightChunkMacs multiply-adds: parallel tasks over
// the tiles of one block at a time were a few microseconds, with a barrier
// after each block, and two threads ran ResNet-20's 16-channel layer only
// 1.19x as fast as one.
constexpr int64_t kMinGradWeightChunkMacs = int64_t(1) << 22;
constexpr int kMaxGradWeightChunks = 16;
// Independent accumulator chains a backward-weights register tile needs to
// keep two FMA pipes of latency 4 busy.
constexpr int kMinGradWeightAccumulators = 8;
// Strided backward-data computes its phases one image at a time, images in
// parallel, from this many images.
constexpr int kMinPhasedImages = 16;

/// Fuses y (inner) and n (outer) of `stage` into `fused` and runs chunks of
/// rows in parallel. Chunks are guarded, which is safe on update stages.
template <typename StageT>
void parallelRows(StageT &&stage, const Var &y, const Var &n, int rows, int64_t workPerRow,
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
void parallelConvTasks(StageT &&stage, const Var &tasks, int64_t iterations,
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
bool blocksOuterLoop(int K, int Q, int P) { return K >= 256 && P * Q <= 196; }

/// Strided convs over more than 64 input channels sum them in groups of 64
/// (outermost), so that the weights of a channel block stay in cache.
bool blocksConvReduction(const Conv2DStages &st) {
  const bool strided = st.strideH > 1 || st.strideW > 1;
  return strided && st.C > 64 && st.C % 64 == 0;
}

/// The most pixels of a conv register tile summing C channels: from C = 1024
/// (4 KiB, a multiple of the L1 way size) the tile's pixels, C floats apart
/// in the input, all land in one L1 set, and more than 8 evict each other.
int maxConvTilePixels(int C) { return C >= 1024 ? 8 : std::numeric_limits<int>::max(); }

ConvTile chooseConvTile(int K, int Q, int P, int lanes, int registers, int reduction,
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

} // namespace

CpuScheduler::CpuScheduler(const Target &target)
    : target(target), naturalLanes(target.natural_vector_size<float>()) {
  // AVX-512 and AArch64 have 32 vector registers; AVX2/SSE and 32-bit ARM 16.
  const bool wide =
      target.has_feature(Target::AVX512) || (target.arch == Target::ARM && target.bits == 64);
  vectorRegisters = wide ? 32 : 16;
}

int CpuScheduler::lanesFor(int extent) const {
  if (extent >= naturalLanes)
    return naturalLanes;
  if (naturalLanes > 4 && extent >= 4)
    return 4;
  return 0;
}

void CpuScheduler::scheduleLayout(LayoutStages &st) const {
  Func &out = st.output;
  if (int lanes = lanesFor(st.C)) {
    out.vectorize(st.c, lanes);
  } else {
    // Few channels (RGB): unroll them and vectorise over x; the unrolled
    // stores become interleaving vector stores.
    out.bound(st.c, 0, st.C).unroll(st.c);
    if (int xLanes = lanesFor(st.W))
      out.vectorize(st.x, xLanes);
  }
  parallelRows(out, st.y, st.n, st.H * st.N, int64_t(st.C) * st.W, Var("yn"));
}

void CpuScheduler::scheduleElementwise(ElementwiseStages &st) const {
  int lanes = lanesFor(st.C);
  for (Func &f : st.perChannel) {
    f.compute_root();
    if (lanes)
      f.vectorize(f.args()[0], lanes);
  }
  Func &out = st.output;
  if (lanes)
    out.vectorize(st.c, lanes); // shifts inwards when C % lanes != 0
  parallelRows(out, st.y, st.n, st.H * st.N, int64_t(st.C) * st.W, Var("yn"));
}

void CpuScheduler::scheduleConv2D(Conv2DStages &st) const {
  Func &out = st.output, &conv = st.conv;
  const Var &k = st.k, &x = st.x, &y = st.y, &n = st.n;
  const RDom &r = st.r;
  const int64_t macsPerRow = int64_t(st.K) * st.Q * st.C * st.R * st.S;
  const int lanes = lanesFor(st.K);

  if (!lanes) {
    // Very few output channels: scalar, one pixel at a time.
    conv.compute_at(out, x);
    parallelRows(out, y, n, st.P * st.N, macsPerRow, Var("yn"));
    return;
  }

  // Register tile of output channels x pixels in x x rows (see
  // chooseConvTile). Tiles divide the extents where that is cheap; otherwise
  // the output's pure splits shift inwards (a few outputs are computed
  // twice), which keeps the conv stage's region fixed and in bounds.
  // The tile's pixels are C floats apart in the input. From C = 1024 (4 KiB,
  // a multiple of the L1 way size) they all land in one L1 set: more than 8
  // evict each other (a 1x1 1024->256 conv on 14x14 runs 15% faster with a
  // 7x1 tile than with 7x2, and than with a 7x2 tile over a copied window).
  ConvTile tile =
      chooseConvTile(st.K, st.Q, st.P, lanes, vectorRegisters, st.C, maxConvTilePixels(st.C));
  const int kTile = tile.vectors * lanes, xTile = tile.x, yTile = tile.y;

  // Loop order. Usually each parallel task is a band of rows and walks the
  // channel blocks inside it, reading the packed weights in place. Deep
  // layers with small images (more weights than activations) instead take
  // one channel block at a time over the whole image (blockOuter), so each
  // weight is read from memory once, not once per band of rows: at batch 1
  // the weights come from DRAM. Where the image is tiny, or on 16-register
  // targets (small register tiles, so little reuse of each weight load),
  // the block's weights are first copied into a contiguous buffer: the
  // packed layout puts consecutive input channels K floats apart, a large
  // power-of-two stride that thrashes a few L1 sets and defeats the
  // prefetchers (a 3x3 512->512 conv on 7x7 runs 20% faster from DRAM).
  const bool blockOuter = blocksOuterLoop(st.K, st.Q, st.P);
  // (A blocked layout with blocks smaller than K has them contiguous already.)
  const bool contiguousBlocks = st.weightBlock && st.weightBlock < st.K;
  const bool weightBlocks =
      blockOuter && !contiguousBlocks && (vectorRegisters <= 16 || st.P * st.Q <= 64);
  Var ko("ko"), ki("ki"), xo("xo"), xi("xi"), yo("yo"), yi("yi");
  out.split(k, ko, ki, kTile, TailStrategy::ShiftInwards)
      .split(x, xo, xi, xTile, TailStrategy::ShiftInwards)
      .split(y, yo, yi, yTile, TailStrategy::ShiftInwards)
      .vectorize(ki, lanes)
      .unroll(ki)
      .unroll(xi)
      .unroll(yi);
  const bool parallel = macsPerRow * st.P * st.N >= kMinParallelWork;
  LoopLevel block = LoopLevel(out, ko);
  if (!blockOuter) {
    out.reorder(ki, xi, yi, xo, ko, yo, n);
    if (parallel) {
      Var t("t"), tn("tn");
      const int kBlocks = (st.K + kTile - 1) / kTile, rowTiles = (st.P + yTile - 1) / yTile;
      out.fuse(ko, yo, t).fuse(t, n, tn);
      parallelConvTasks(out, tn, int64_t(kBlocks) * rowTiles * st.N, macsPerRow / kBlocks * yTile);
      block = LoopLevel(out, tn);
    }
  } else {
    // K >= 256 and at most 16 channels per block: 16 or more blocks.
    out.reorder(ki, xi, yi, xo, yo, ko, n);
    if (parallel) {
      Var kn("kn");
      out.fuse(ko, n, kn).parallel(kn);
      block = LoopLevel(out, kn);
    }
  }

  conv.compute_at(out, xo).vectorize(k, lanes).unroll(k).unroll(x).unroll(y);
  Stage update = conv.update();
  Func weightTile;
  if (!weightBlocks) {
    weightTile = st.weight.in();
  } else {
    Func weightBlock = st.weight.in();
    weightBlock.compute_at(block).vectorize(weightBlock.args()[0], lanes);
    weightTile = weightBlock.in();
  }
  if (blocksConvReduction(st)) {
    RVar rco("rco"), rci("rci");
    update.split(r.x, rco, rci, 64)
        .reorder(k, x, y, rci, r.y, r.z, rco, n)
        .vectorize(k, lanes)
        .unroll(k)
        .unroll(x)
        .unroll(y);
    weightTile.compute_at(conv, rci);
  } else {
    update.reorder(k, x, y, r.x, r.y, r.z, n).vectorize(k, lanes).unroll(k).unroll(x).unroll(y);
    if (st.skipPaddingTaps)
      update.unroll(r.y); // with x unrolled too, the predicate on x folds away
    weightTile.compute_at(conv, r.x);
    if (st.C <= 4)
      update.unroll(r.x); // a handful of input channels (RGB stem)
  }
  // The weights of one input channel and tap, for the whole channel tile.
  weightTile.vectorize(weightTile.args()[0], lanes).unroll(weightTile.args()[0]);

  if ((st.padH || st.padW) && !st.skipPaddingTaps) {
    Func &window = st.inputTile;
    if (st.C <= 4) {
      // A few input channels (the stems): pad the whole input once. A
      // per-tile window of 1-3 channels is a scalar copy, made again for each
      // block of output channels; once per call, the 7x7/2 stem runs 10-25%
      // faster, ResNet-20's stems at batch 128 1.3-1.8x.
      std::vector<Var> args = window.args();
      const Var wc = args[0], wy = args[2], wn = args[3];
      window.compute_root().bound(wc, 0, st.C).unroll(wc);
      parallelRows(window, wy, wn, (st.H + 2 * st.padH) * st.N,
                   int64_t(st.C) * (st.W + 2 * st.padW), Var("yn"));
    } else {
      // Copy the zero-padded input window of the tile once, so the inner
      // loop loads plain broadcasts instead of evaluating the boundary
      // condition. (Where the padding taps are skipped, the input is read in
      // place: no copy at all, 5-20% faster on ResNet-20's and ResNet-50's
      // 3x3 convs.) On the stack: Halide's bound on the window's size is
      // loose (it sees no correlation between the trimmed rows' ends), so it
      // would otherwise call halide_malloc and halide_free once a tile.
      window.compute_at(out, xo).store_in(MemoryType::Stack);
      if (int cLanes = lanesFor(st.C))
        window.vectorize(window.args()[0], cLanes);
    }
  }
}

bool CpuScheduler::skipsConvPaddingTaps(const Conv2DStages &st) const {
  // Not where the reduction is blocked (strided convs over more than 64
  // channels): the predicate would stay in its inner loop. Vectorised output
  // channels, more than a handful of input channels (not the 7x7/2 stem,
  // 2.4x slower with it): the shape of schedule whose x and kx loops unroll.
  return !blocksConvReduction(st) && st.C > 4 && lanesFor(st.K) != 0;
}

bool CpuScheduler::skipsConvGradInputPaddingTaps(const ConvGradInputStages &st) const {
  // The transposed convolution: output channels K are reduced, input
  // channels C vectorised.
  return st.phases == 1 && st.K > 4 && lanesFor(st.C) != 0;
}

void CpuScheduler::scheduleMaxPool(MaxPoolStages &st) const {
  Func &out = st.output, &pool = st.pool;
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  pool.compute_at(out, x);
  if (int lanes = lanesFor(st.C)) {
    // pool covers all channels of one pixel; guard the tail when the
    // channels do not fill whole vectors (the input has no channel padding).
    TailStrategy tail = st.C % lanes == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    out.vectorize(c, lanes);
    pool.vectorize(c, lanes, tail);
    pool.update().reorder(c, st.r.x, st.r.y, x, y, n).vectorize(c, lanes, tail);
  } else {
    pool.update().reorder(c, st.r.x, st.r.y, x, y, n);
  }
  parallelRows(out, y, n, st.P * st.N, int64_t(st.C) * st.Q * st.R * st.S, Var("yn"));
}

void CpuScheduler::scheduleGlobalAvgPool(GlobalAvgPoolStages &st) const {
  Func &out = st.output, &sum = st.sum;
  const Var &c = st.c, &n = st.n;
  sum.compute_at(out, n);
  if (int lanes = lanesFor(st.C)) {
    TailStrategy tail = st.C % lanes == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    out.vectorize(c, lanes);
    sum.vectorize(c, lanes, tail);
    sum.update().reorder(c, st.r.x, st.r.y, n).vectorize(c, lanes, tail);
  } else {
    sum.update().reorder(c, st.r.x, st.r.y, n);
  }
  if (st.N > 1 && int64_t(st.C) * st.W * st.H * st.N >= kMinParallelWork)
    out.parallel(n);
}

void CpuScheduler::scheduleDense(DenseStages &st) const {
  Func &out = st.output;
  int lanes = lanesFor(st.C);
  if (lanes && st.C % lanes == 0) {
    // Vector partial sums over the input features (contiguous in both the
    // input and the weight row), reduced across lanes at the end.
    RVar ro("ro"), ri("ri");
    Var u("u");
    Func partial = out.update().split(st.r.x, ro, ri, lanes).rfactor(ri, u);
    partial.compute_at(out, st.k).vectorize(u);
    partial.update().reorder(u, ro).vectorize(u);
  }
}

void CpuScheduler::schedulePack(PackStages &st) const {
  if (st.unpacked.defined()) {
    // Back to OIHW (weight export, not on a hot path): each output channel's
    // C*R*S block is a strided gather; output channels in parallel.
    if (int64_t(st.K) * st.C * st.S * st.R >= kMinParallelWork && st.K >= 2)
      st.unpacked.parallel(st.k);
    return;
  }
  int lanes = lanesFor(st.K);
  if (st.scale.defined()) {
    st.scale.compute_root();
    if (lanes)
      st.scale.vectorize(st.k, lanes);
  }
  if (lanes) {
    st.packed.vectorize(st.k, lanes);
    if (st.foldedBias.defined())
      st.foldedBias.vectorize(st.k, lanes);
  }
  // A transpose (the reads are strided gathers): spread it over the threads.
  const int64_t columns = int64_t(st.C) * st.S * st.R;
  if (int64_t(st.K) * columns >= kMinParallelWork && columns >= 2) {
    Var cs("cs"), csr("csr");
    int64_t perTask = std::max<int64_t>(1, kMinTaskWork / st.K);
    st.packed.fuse(st.c, st.s, cs).fuse(cs, st.r, csr);
    st.packed.parallel(csr, int(std::min<int64_t>(perTask, columns / 2)),
                       TailStrategy::GuardWithIf);
  }
  if (st.blocked.defined()) {
    // Pack, then reorder into blocks (once, when the weights load).
    st.packed.compute_root();
    Var i = st.blocked.args()[0], io("io"), ii("ii");
    st.blocked.split(i, io, ii, int(kMinTaskWork), TailStrategy::GuardWithIf).parallel(io);
  }
}

int CpuScheduler::convWeightBlock(int K, int C, int Q, int P) const {
  // The schedule's block of output channels, when it divides K, for the
  // layers that stream each block's weights once (blocksOuterLoop). Elsewhere
  // the weights stay in cache across rows and the packed layout is as fast
  // (ResNet-20's 3x3 64-channel conv at batch 128: 4% faster).
  const int lanes = lanesFor(K);
  if (!lanes || !blocksOuterLoop(K, Q, P))
    return K;
  ConvTile tile = chooseConvTile(K, Q, P, lanes, vectorRegisters, C, maxConvTilePixels(C));
  const int block = tile.vectors * lanes;
  return K % block == 0 ? block : K;
}

// ---------------------------------------------------------------------------
// The kernels of a training step. Reductions run serially along their
// reduction variables; parallel loops only ever cover pure variables (each
// output element is written by one task), so results do not depend on the
// thread count.

void CpuScheduler::scheduleChannelReduction(ChannelReductionStages &st) const {
  Func &rows = st.rows, &images = st.images, &total = st.total;
  const Var &c = st.c, &y = st.y, &n = st.n;
  rows.compute_root();
  images.compute_root();
  total.compute_root();
  Stage rowsUpdate = rows.update(), imagesUpdate = images.update(), totalUpdate = total.update();
  // Channels innermost: each step adds one pixel's (row's, image's) channel
  // vector.
  rowsUpdate.reorder(c, st.rx.x, y, n);
  imagesUpdate.reorder(c, st.ry.x, n);
  totalUpdate.reorder(c, st.rn.x);
  if (int lanes = lanesFor(st.C)) {
    // The inputs have no channel padding: guard the tail.
    TailStrategy tail = st.C % lanes == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    for (Func f : {rows, images, total}) {
      f.vectorize(c, lanes, tail);
      f.update().vectorize(c, lanes, tail);
    }
  }
  parallelRows(rowsUpdate, y, n, st.H * st.N, int64_t(st.C) * st.W, Var("yn"));
}

void CpuScheduler::scheduleConvGradInput(ConvGradInputStages &st) const {
  const bool phased = st.phases > 1;
  Func &out = st.output, &acc = st.acc;
  // The stage whose tiles compute the convolution: the output itself at
  // stride 1, else the phase-major result (then copied into the output).
  Func &tiled = phased ? st.phased : st.output;
  const Var &c = st.c, &n = st.n, &ph = st.ph, &xq = st.xq, &yq = st.yq;
  const Var &tx = phased ? st.xq : st.x, &ty = phased ? st.yq : st.y;
  const RDom &r = st.r;
  const int Sj = (st.S + st.strideW - 1) / st.strideW, Rj = (st.R + st.strideH - 1) / st.strideH;
  const int rows = st.PY * st.N * st.phases;
  const int64_t macsPerRow = int64_t(st.C) * st.QX * st.K * Sj * Rj;
  const int lanes = lanesFor(st.C);

  st.weightT.compute_root();
  if (lanes)
    st.weightT.vectorize(st.weightT.args()[0], lanes);
  // Strided: the phases of one image at a time, then interleaved into its
  // output while they are in cache, images in parallel, when there are
  // enough images for the threads. (All images' phases first, then the
  // interleave, was a round trip through memory: 8-10% of ResNet-20's
  // strided layers at batch 128.)
  const bool perImage = phased && st.N >= kMinPhasedImages;
  if (phased) {
    if (lanes)
      out.vectorize(st.c, lanes);
    if (perImage) {
      tiled.compute_at(out, n);
      if (macsPerRow * rows >= kMinParallelWork)
        out.parallel(n);
    } else {
      tiled.compute_root();
      parallelRows(out, st.y, n, st.H * st.N, int64_t(st.C) * st.W, Var("yn"));
    }
    Var nph("nph");
    tiled.fuse(n, ph, nph); // (c, xq, yq, n, ph): images and phases as rows
  }
  const Var rowVar = phased ? Var("nph") : n;

  if (!lanes) {
    // Very few input channels: scalar, one pixel at a time.
    acc.compute_at(tiled, tx);
    if (!perImage)
      parallelRows(tiled, ty, rowVar, rows, macsPerRow, Var("yn"));
    return;
  }

  // The register tile of the forward convolution, over input channels.
  ConvTile tile = chooseConvTile(st.C, st.QX, st.PY, lanes, vectorRegisters, st.K);
  if (phased && tile.vectors == 1 && tile.y == 1) {
    // One vector of channels: a phase sums few taps, so the wider the row,
    // the less each tile's setup costs: the widest (least wasteful) row
    // that fits the registers (ResNet-20's 16-channel layer, 8 -> 16 pixels:
    // 5-8% faster).
    auto covered = [&](int x) { return (st.QX + x - 1) / x * x; };
    const int widest = std::min(st.QX, vectorRegisters - 3);
    tile.x = widest;
    for (int x = widest - 1; x >= 1; --x)
      if (covered(x) < covered(tile.x))
        tile.x = x;
  }
  const int cTile = tile.vectors * lanes, xTile = tile.x, yTile = tile.y;
  // As in the forward convolution: deep layers with small images on
  // 16-register targets take one channel block at a time over all images
  // and copy its transposed weights into a contiguous buffer first
  // (consecutive output channels are C floats apart in weightT, a large
  // power-of-two stride that thrashes a few L1 sets).
  const bool weightBlocks = vectorRegisters <= 16 && st.C >= 256 && st.QX * st.PY <= 196;
  const bool parallel = !perImage && macsPerRow * rows >= kMinParallelWork;
  Var co("co"), ci("ci"), xo("xo"), xi("xi"), yo("yo"), yi("yi");
  tiled.split(c, co, ci, cTile, TailStrategy::ShiftInwards)
      .split(tx, xo, xi, xTile, TailStrategy::ShiftInwards)
      .split(ty, yo, yi, yTile, TailStrategy::ShiftInwards)
      .vectorize(ci, lanes)
      .unroll(ci)
      .unroll(xi)
      .unroll(yi);
  if (!weightBlocks) {
    tiled.reorder(ci, xi, yi, xo, co, yo, rowVar);
    if (parallel) {
      Var t("t"), tn("tn");
      const int cBlocks = (st.C + cTile - 1) / cTile, rowTiles = (st.PY + yTile - 1) / yTile;
      tiled.fuse(co, yo, t).fuse(t, rowVar, tn);
      parallelConvTasks(tiled, tn, int64_t(cBlocks) * rowTiles * (rows / st.PY),
                        macsPerRow / cBlocks * yTile);
    }
  } else {
    // C >= 256 and at most 16 channels per block: 16 or more blocks.
    tiled.reorder(ci, xi, yi, xo, yo, rowVar, co);
    if (parallel)
      tiled.parallel(co);
  }

  acc.compute_at(tiled, xo).vectorize(c, lanes).unroll(c).unroll(xq).unroll(yq);
  Stage update = acc.update();
  if (phased)
    update.reorder(c, xq, yq, r.x, r.y, r.z, n, ph);
  else
    update.reorder(c, xq, yq, r.x, r.y, r.z, n);
  update.vectorize(c, lanes).unroll(c).unroll(xq).unroll(yq);
  if (st.skipPaddingTaps)
    update.unroll(r.y); // with xq unrolled too, the predicate on xq folds away
  // The weights of one output channel and tap for the whole channel tile.
  Func weightTile;
  if (!weightBlocks) {
    weightTile = st.weightT.in();
  } else {
    Func weightBlock = st.weightT.in();
    weightBlock.compute_at(tiled, co).vectorize(weightBlock.args()[0], lanes);
    weightTile = weightBlock.in();
  }
  weightTile.compute_at(acc, r.x)
      .vectorize(weightTile.args()[0], lanes)
      .unroll(weightTile.args()[0]);
  if (phased) {
    // One tap per step. Halide's bounds of the phase's clamped tap are a
    // symbolic range (one tap at run time), which made the wrapper a loop
    // through a stack buffer at every step: 17-24% of ResNet-20's strided
    // backward-data. (Halide checks the extent at run time.)
    std::vector<Var> args = weightTile.args();
    weightTile.bound_extent(args[2], 1).bound_extent(args[3], 1);
  }
  if (st.skipPaddingTaps)
    return; // output_grad read in place (see scheduleConv2D)
  // The zero-padded window of output_grad the tile reads, copied once.
  // (With the phases per image, the image's whole window, once for all
  // phases and rows: 3-6% faster on ResNet-20's strided layers.)
  if (perImage)
    st.gradTile.compute_at(out, n);
  else
    st.gradTile.compute_at(tiled, xo).store_in(MemoryType::Stack);
  if (int kLanes = lanesFor(st.K))
    st.gradTile.vectorize(st.gradTile.args()[0], kLanes);
}

int CpuScheduler::convGradWeightChunks(const ConvGradWeightStages &st, int imageBlocks) const {
  // The most chunks (up to kMaxGradWeightChunks) that keep a chunk at least
  // kMinGradWeightChunkMacs multiply-adds.
  const int64_t totalMacs = int64_t(st.K) * st.C * st.S * st.R * st.Q * st.P * st.N;
  int chunks = 1;
  for (int d = 2; d <= std::min(imageBlocks, kMaxGradWeightChunks); ++d)
    if (imageBlocks % d == 0 && totalMacs / d >= kMinGradWeightChunkMacs)
      chunks = d;
  return chunks;
}

void CpuScheduler::scheduleConvGradWeight(ConvGradWeightStages &st) const {
  Func &out = st.output, &partial = st.partial;
  // With chunks, each parallel task sums one chunk's blocks (chunkSum), and
  // the output then adds the chunks up in order. Without, the tiles of each
  // block run in parallel, one block after the other.
  const bool chunked = st.chunks > 1;
  Func &acc = chunked ? st.chunkSum : out;
  const Var &k = st.k, &c = st.c, &s = st.s, &r = st.r;
  const RDom &red = st.red, &rb = st.rb;

  // Register tile: kVectors vectors of output channels (which must divide K;
  // otherwise scalar) x cTile input channels of accumulators. Each reduction
  // step loads kVectors vectors of output_grad and broadcasts cTile input
  // values.
  int kLanes = 0, kVectors = 1;
  if (st.K % naturalLanes == 0) {
    kLanes = naturalLanes;
    kVectors = st.K % (2 * naturalLanes) == 0 ? 2 : 1;
  } else if (naturalLanes > 4 && st.K % 4 == 0) {
    kLanes = 4;
  }
  // Broadcasts per step: cTile input channels (a divisor of C), as many as
  // fit next to the accumulators, up to 16 (16 rather than 8 took ResNet-20's
  // 16-channel layer from 1.08x to 0.95x oneDNN's time). (Tiling taps as
  // well, x(q + s) for several s, was slower with many channels: LLVM reuses
  // the broadcasts across unrolled steps and spills.)
  const int maxBroadcasts = kLanes ? std::min(16, (vectorRegisters - 2 - kVectors) / kVectors) : 4;
  int cTile = 1;
  for (int d = std::min(maxBroadcasts, st.C); d >= 1; --d)
    if (st.C % d == 0) {
      cTile = d;
      break;
    }
  // With few input channels (the stems), kVectors x cTile accumulators are
  // fewer than the FMA latency x throughput needs (3 chains ran at 36% of
  // peak): the taps join the register tile then, a row of them and then the
  // whole window, as far as the accumulators fit next to the output_grad
  // vectors (the broadcasts are FMA memory operands), with one output_grad
  // vector if two leave no room for a row.
  bool tileS = false, tileR = false;
  if (kLanes && cTile == st.C && kVectors * cTile < kMinGradWeightAccumulators) {
    auto fits = [&](int vectors, int taps) {
      return vectors * cTile * taps <= vectorRegisters - vectors - 2;
    };
    if (!fits(kVectors, st.S) && fits(1, st.S))
      kVectors = 1;
    tileS = fits(kVectors, st.S);
    tileR = tileS && fits(kVectors, st.S * st.R);
  }
  const int kTile = kLanes ? kLanes * kVectors : st.K;
  const int sTile = tileS ? st.S : 1, rTile = tileR ? st.R : 1;

  const int64_t blockSteps = int64_t(st.Q) * st.blockRows * st.blockImages;
  const int64_t tiles = int64_t(st.K / kTile) * (st.C / cTile) * (st.S / sTile) * (st.R / rTile);
  const int64_t tileMacs = int64_t(kTile) * cTile * sTile * rTile * blockSteps;
  const int64_t totalMacs = int64_t(st.K) * st.C * st.S * st.R * st.Q * st.P * st.N;

  if (kLanes)
    out.vectorize(k, kLanes);
  if (chunked) {
    acc.compute_root();
    if (kLanes) {
      acc.vectorize(k, kLanes);
      out.update().vectorize(k, kLanes);
    }
  }
  // Per block of rows (serial, rb), all tiles: the tile's partial sum over
  // the block in registers, then added to the output (or the chunk's sum).
  // The input channels of a tile vary fastest, so consecutive tiles reuse
  // the same output_grad slice.
  Stage update = acc.update();
  Var ko("ko"), ki("ki"), co("co"), ci("ci"), t1("t1"), t2("t2"), t("t");
  update
      .split(k, ko, ki, kTile, TailStrategy::GuardWithIf)  // divides K: no tail
      .split(c, co, ci, cTile, TailStrategy::GuardWithIf); // divides C: no tail
  if (tileR) {
    update.reorder(ki, ci, s, r, co, ko, rb.x, rb.y).fuse(co, ko, t).unroll(s).unroll(r);
  } else if (tileS) {
    update.reorder(ki, ci, s, co, r, ko, rb.x, rb.y).fuse(co, r, t2).fuse(t2, ko, t).unroll(s);
  } else {
    update.reorder(ki, ci, co, s, r, ko, rb.x, rb.y)
        .fuse(co, s, t1)
        .fuse(t1, r, t2)
        .fuse(t2, ko, t);
  }
  update.unroll(ci);
  if (kLanes)
    update.vectorize(ki, kLanes).unroll(ki);
  LoopLevel tileLevel(acc, t);
  if (chunked) {
    update.parallel(st.ch); // outermost
  } else if (tiles >= 2 && totalMacs >= kMinParallelWork) {
    int64_t perTask = (kMinTaskMacs + tileMacs - 1) / tileMacs;
    perTask = std::max<int64_t>(1, std::min<int64_t>(perTask, tiles / 2));
    // A divisor of the tile count: with a tail, the guarded last task makes
    // the partial sums' extent symbolic, and they could not be unrolled.
    while (tiles % perTask != 0)
      --perTask;
    Var to("to"), ti("ti");
    update.split(t, to, ti, int(perTask), TailStrategy::GuardWithIf).parallel(to);
    tileLevel = LoopLevel(acc, ti);
  }

  partial.compute_at(tileLevel).unroll(c);
  Stage partialUpdate = partial.update();
  partialUpdate.reorder(k, c, s, r, red.x, red.y, red.z).unroll(c);
  if (tileS) {
    partial.unroll(s);
    partialUpdate.unroll(s);
  }
  if (tileR) {
    partial.unroll(r);
    partialUpdate.unroll(r);
  }
  if (kLanes) {
    partial.vectorize(k, kLanes).unroll(k);
    partialUpdate.vectorize(k, kLanes).unroll(k);
  }
  if (st.padded) {
    // The zero-padded rows of the block, copied once per block.
    Func &tile = st.inputTile;
    tile.compute_at(LoopLevel(acc, rb.x));
    if (int cLanes = lanesFor(st.C))
      tile.vectorize(tile.args()[0], cLanes);
    // Without chunks, in parallel too (rows of the block's images), or it
    // limits the speed-up of small layers.
    const int tileRows = (st.blockRows * st.strideH + st.R) * st.blockImages;
    if (!chunked)
      parallelRows(tile, tile.args()[2], tile.args()[3], tileRows,
                   int64_t(st.C) * (st.W + 2 * st.padW), Var("yn"));
  }
}

void CpuScheduler::scheduleDenseGrad(DenseGradStages &st) const {
  Func &out = st.output;
  Stage update = out.update();
  update.reorder(st.i, st.r.x, st.j);
  if (int lanes = lanesFor(st.I)) {
    TailStrategy tail = st.I % lanes == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    out.vectorize(st.i, lanes, tail);
    update.vectorize(st.i, lanes, tail);
  }
  if (st.J >= 2 && int64_t(st.I) * st.J * st.Rn >= kMinParallelWork) {
    out.parallel(st.j);
    update.parallel(st.j);
  }
}

void CpuScheduler::scheduleMaxPoolGrad(MaxPoolGradStages &st) const {
  Func &out = st.output, &best = st.best;
  const Var &c = st.c, &x = st.x, &y = st.y, &n = st.n;
  // Bands of input rows (in parallel); each band first finds the maxima of
  // the windows covering it (a window row on a band's edge is found twice),
  // which stay in cache.
  const int band = std::min(st.H, 8);
  Var yo("yo"), yi("yi"), t("t");
  out.split(y, yo, yi, band, TailStrategy::ShiftInwards);
  LoopLevel bandLevel(out, yo);
  const int bands = (st.H + band - 1) / band * st.N;
  if (bands >= 2 && int64_t(st.C) * st.W * st.H * st.N * 4 >= kMinParallelWork) {
    out.fuse(yo, n, t).parallel(t);
    bandLevel = LoopLevel(out, t);
  }
  best.compute_at(bandLevel);
  Stage bestUpdate = best.update();
  if (int lanes = lanesFor(st.C)) {
    // One channel vector at a time walks its whole window (in registers).
    TailStrategy tail = st.C % lanes == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    Var co("co"), ci("ci");
    best.vectorize(c, lanes, tail);
    bestUpdate.split(c, co, ci, lanes, tail).vectorize(ci).reorder(ci, st.r.x, st.r.y, co, x, y, n);
    out.vectorize(c, lanes);
  } else {
    bestUpdate.reorder(st.r.x, st.r.y, c, x, y, n);
  }
}

void CpuScheduler::scheduleSoftmax(SoftmaxStages &st) const {
  const Var &k = st.k, &n = st.n;
  const bool parallel = st.N >= 2 && int64_t(st.K) * st.N >= kMinParallelWork;
  for (Func f : {st.rowMax, st.rowSum, st.best}) {
    f.compute_root();
    if (parallel)
      f.update().parallel(n);
  }
  st.lossSum.compute_root();
  st.expv.compute_root();
  if (int lanes = lanesFor(st.K)) {
    st.expv.vectorize(k, lanes);
    st.grad.vectorize(k, lanes);
  }
  if (parallel) {
    st.expv.parallel(n);
    st.grad.parallel(n);
  }
}

void CpuScheduler::scheduleVectorUpdate(VectorUpdateStages &st) const {
  // In place: every element is computed exactly once, so tails are guarded
  // (never shifted inwards, which would recompute elements already updated).
  Func &out = st.output;
  const int lanes = lanesFor(st.size);
  Var inner = st.i;
  if (st.size >= kMinParallelWork) {
    Var io("io"), ii("ii");
    out.split(st.i, io, ii, int(kMinTaskWork), TailStrategy::GuardWithIf).parallel(io);
    inner = ii;
  }
  if (lanes)
    out.vectorize(inner, lanes, TailStrategy::GuardWithIf);
}

} // namespace resnetc::kernelgen
