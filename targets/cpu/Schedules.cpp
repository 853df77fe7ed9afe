//===- Schedules.cpp - CPU schedules for the kernel generator -------------===//

#include "Schedules.h"

#include <algorithm>
#include <limits>

namespace resnetc::kernelgen {

using namespace Halide;

namespace {

// Below this much work (elements, or multiply-adds for convolutions) a
// kernel runs on one thread; a parallel task gets at least kMinTaskWork.
constexpr int64_t kMinParallelWork = int64_t(1) << 15;
constexpr int64_t kMinTaskWork = int64_t(1) << 13;

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
/// must fit the vector register file.
ConvTile chooseConvTile(int K, int Q, int P, int lanes, int registers) {
  auto waste = [](int extent, int tile) {
    return double((extent + tile - 1) / tile * tile) / extent;
  };
  ConvTile best{1, 1, 1};
  double bestCost = std::numeric_limits<double>::infinity();
  for (int vectors : {2, 1}) {
    if (vectors > 1 && K < vectors * lanes)
      continue;
    for (int y = 1; y <= std::min(P, 4); ++y)
      for (int x = 1; x <= std::min(Q, 8); ++x) {
        int acc = vectors * x * y;
        if (acc + vectors + 2 > registers)
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
  ConvTile tile = chooseConvTile(st.K, st.Q, st.P, lanes, vectorRegisters);
  const int kTile = tile.vectors * lanes, xTile = tile.x, yTile = tile.y;

  // Loop order. Usually each parallel task is a band of rows and walks the
  // channel blocks inside it, reading the packed weights in place. Deep
  // layers with small images on 16-register targets (small register tiles,
  // so little reuse of each weight load) instead take one channel block at a
  // time over the whole image and copy its weights into a contiguous buffer
  // first: the packed layout puts consecutive input channels K floats apart,
  // a large power-of-two stride that thrashes a few L1 sets.
  const bool weightBlocks = vectorRegisters <= 16 && st.K >= 256 && st.P * st.Q <= 196;
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
  if (!weightBlocks) {
    out.reorder(ki, xi, yi, xo, ko, yo, n);
    if (parallel) {
      Var t("t"), tn("tn");
      out.fuse(ko, yo, t).fuse(t, n, tn).parallel(tn);
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
  const bool strided = st.strideH > 1 || st.strideW > 1;
  if (strided && st.C > 64 && st.C % 64 == 0) {
    // Block the reduction in groups of 64 input channels (outermost) so the
    // weights of a channel block stay in cache.
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
    weightTile.compute_at(conv, r.x);
    if (st.C <= 4)
      update.unroll(r.x); // a handful of input channels (RGB stem)
  }
  // The weights of one input channel and tap, for the whole channel tile.
  weightTile.vectorize(weightTile.args()[0], lanes).unroll(weightTile.args()[0]);

  if (st.padH || st.padW) {
    // Copy the zero-padded input window of the tile once, so the inner loop
    // loads plain broadcasts instead of evaluating the boundary condition.
    Func &window = st.inputTile;
    window.compute_at(out, xo);
    if (int cLanes = lanesFor(st.C))
      window.vectorize(window.args()[0], cLanes);
  }
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
}

} // namespace resnetc::kernelgen
