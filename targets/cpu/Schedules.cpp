//===- Schedules.cpp - CPU schedules for the kernel generator -------------===//

#include "Schedules.h"

#include <algorithm>
#include <limits>

#include "ScheduleSupport.h"

namespace resnetc::kernelgen {

using namespace Halide;
using namespace resnetc::kernelgen::cpu;

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
  if (st.toNchw) {
    // Rows of x, read with a stride of C: vectorise over x, one task a plane.
    if (int lanes = lanesFor(st.W))
      out.vectorize(st.x, lanes);
    Var plane("plane");
    out.fuse(st.c, st.n, plane).parallel(plane);
    return;
  }
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

  if (const int chunk = weightStreamChunk(st)) {
    // Each block's weights are read once, from memory at batch 1. Summing
    // the whole image a few input channels at a time (outermost) uses each
    // chunk's weights for every pixel tile while they are in L1, and spreads
    // the reads over the block's arithmetic, so the prefetchers keep up. A
    // tile's sums for one chunk stay in registers (partial, by rfactor); the
    // block's sums (conv) wait in L1 between chunks.
    RVar rco("rco"), rci("rci");
    Var u("u"), cxo("cxo"), cxi("cxi"), cyo("cyo"), cyi("cyi");
    Func partial = conv.update().split(r.x, rco, rci, chunk).rfactor(rco, u);
    conv.compute_at(block).vectorize(k, lanes);
    conv.update()
        .split(x, cxo, cxi, xTile)
        .split(y, cyo, cyi, yTile)
        .reorder(k, cxi, cyi, cxo, cyo, rco, n)
        .vectorize(k, lanes)
        .unroll(k)
        .unroll(cxi)
        .unroll(cyi);
    partial.compute_at(conv, cxo).vectorize(k, lanes).unroll(k).unroll(x).unroll(y);
    partial.update()
        .reorder(k, x, y, rci, r.y, r.z)
        .vectorize(k, lanes)
        .unroll(k)
        .unroll(x)
        .unroll(y)
        .unroll(r.y); // with x unrolled too, the padding predicate on x folds away
    Func weightTile = st.weight.in();
    weightTile.compute_at(partial, rci)
        .vectorize(weightTile.args()[0], lanes)
        .unroll(weightTile.args()[0]);
    return;
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

int CpuScheduler::weightStreamChunk(const Conv2DStages &st) const {
  // 3x3 convs that take one block of output channels at a time over a small
  // image (blocksOuterLoop), from contiguous weight blocks, with register
  // tiles that divide the image. Measured from DRAM on one thread: a 512->512
  // conv on 7x7 runs in 1.39 ms instead of 2.42 with two channels a chunk
  // (1.55-1.95 ms with 1, 4 or 8); a 128->256 conv at stride 2 onto 14x14 in
  // 0.78 ms instead of 1.01 with eight (1.30 with 2, 0.84-0.87 with 4, 16,
  // 32). Not the 1x1 convs: no faster at 8 to 64 channels, slower below.
  const int chunk = st.P * st.Q <= 49 ? 2 : 8;
  const int lanes = lanesFor(st.K);
  if (!lanes || st.R != 3 || st.S != 3 || !blocksOuterLoop(st.K, st.Q, st.P) || !st.weightBlock ||
      st.weightBlock >= st.K || st.C % chunk != 0 || st.C <= chunk)
    return 0;
  ConvTile tile =
      chooseConvTile(st.K, st.Q, st.P, lanes, vectorRegisters, st.C, maxConvTilePixels(st.C));
  if (tile.vectors * lanes != st.weightBlock || st.Q % tile.x != 0 || st.P % tile.y != 0)
    return 0;
  return chunk;
}

bool CpuScheduler::skipsConvPaddingTaps(const Conv2DStages &st) const {
  if (weightStreamChunk(st))
    return true; // the chunked sums read the input in place

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
  if (st.winograd.defined()) {
    // Fold and pack, then transform (once, when the weights load): a
    // vector of output channels at a time, the points (u, v) in parallel.
    st.packed.compute_root();
    st.winograd.compute_root();
    if (lanes)
      st.winograd.vectorize(st.k, lanes);
    st.winograd.parallel(st.v);
    Var i = st.winogradBlocks.args()[0], io("io"), ii("ii");
    st.winogradBlocks.split(i, io, ii, int(kMinTaskWork), TailStrategy::GuardWithIf).parallel(io);
    st.winogradRows.compute_at(st.winograd, st.c);
    if (lanes)
      st.winogradRows.vectorize(st.winogradRows.args()[0], lanes);
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

} // namespace resnetc::kernelgen
