//===- TrainingSchedules.cpp - CPU schedules of the training kernels -------===//
//
// The schedules of the training step's kernels: reductions over channels,
// the convolution's input and weight gradients, dense gradients, max-pool
// gradient, the loss and the SGD and running-statistics updates.
//
//===----------------------------------------------------------------------===//

#include "ScheduleSupport.h"

#include <algorithm>

namespace resnetc::kernelgen {

using namespace Halide;
using namespace resnetc::kernelgen::cpu;

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

void CpuScheduler::scheduleChannelMoments(ChannelMomentsStages &st) const {
  const Var &c = st.c, &y = st.y, &n = st.n;
  std::vector<Func> levels = {st.rows, st.devImages, st.devTotal};
  if (st.sumTotal.defined()) {
    levels.push_back(st.sumImages);
    levels.push_back(st.sumTotal);
  }
  for (Func f : levels)
    f.compute_root();
  st.rowSum.update().reorder(c, st.rx.x);
  Stage rows = st.rows.update();
  rows.reorder(c, st.rx.x, y, n);
  st.devImages.update().reorder(c, st.ry.x, n);
  st.devTotal.update().reorder(c, st.rn.x);
  if (st.sumTotal.defined()) {
    st.sumImages.update().reorder(c, st.ry.x, n);
    st.sumTotal.update().reorder(c, st.rn.x);
  }
  for (Func f : st.results)
    f.compute_root();
  if (int lanes = lanesFor(st.C)) {
    TailStrategy tail = st.C % lanes == 0 ? TailStrategy::RoundUp : TailStrategy::GuardWithIf;
    levels.push_back(st.rowSum);
    for (Func f : levels) {
      f.vectorize(c, lanes, tail);
      f.update().vectorize(c, lanes, tail);
    }
    for (Func f : st.results)
      f.vectorize(f.args()[0], lanes, tail);
  }
  // Rows in parallel tasks; each row's sum computed just before its
  // deviations, so that the second pass over the row reads it from cache.
  const int rowCount = st.H * st.N;
  const int64_t workPerRow = int64_t(st.C) * st.W;
  if (rowCount < 2 || rowCount * workPerRow < kMinParallelWork) {
    st.rowSum.compute_at(st.rows, y);
    return;
  }
  Var yn("yn"), task("task"), row("row");
  const int64_t perTask =
      std::clamp<int64_t>((kMinTaskWork + workPerRow - 1) / workPerRow, 1, rowCount / 2);
  rows.fuse(y, n, yn).split(yn, task, row, int(perTask), TailStrategy::GuardWithIf).parallel(task);
  st.rowSum.compute_at(st.rows, row);
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

namespace {

/// A Winograd transform of the tiles of a block at `at` (ConvGradWeightStages):
/// the zero-extended source copied, then each tile's rows (u unrolled) and
/// columns (v unrolled), a vector of channels at a time; stored point by
/// point, the tiles of a point contiguous.
void scheduleWinogradGradWeightTransform(Func tile, Func rows, Func full, const LoopLevel &at,
                                         int lanes, int tilesX) {
  const std::vector<Var> args = full.args(); // (channel, u, v, tx, ty, n)
  tile.compute_at(at);
  full.compute_at(at).reorder_storage(args[0], args[3], args[4], args[5], args[1], args[2]);
  // A spare tile a row: with 2^k tiles of a vector of channels, the 16-36
  // planes the transform writes at once would be a multiple of 4 KiB apart
  // (one L1 set): ResNet-20's 32-channel 14x14 layer at F(4x4), 4 x 4 tiles,
  // 2.55 -> 2.17 ms at batch 128 on one thread; the others level.
  full.bound_storage(args[3], tilesX + 1);
  // (Winograd is chosen with whole vectors of channels only.)
  Var outer("wco"), inner("wci");
  tile.vectorize(tile.args()[0], lanes);
  full.split(args[0], outer, inner, lanes)
      .reorder(inner, args[2], args[1], outer, args[3], args[4], args[5])
      .vectorize(inner)
      .unroll(args[2]);
  const std::vector<Var> rowArgs = rows.args();
  rows.compute_at(full, outer)
      .reorder(rowArgs[0], rowArgs[1], rowArgs[2])
      .vectorize(rowArgs[0], lanes)
      .unroll(rowArgs[1]);
}

/// G^T sums G once the sums are done, a vector of output channels at a time.
void scheduleWinogradGradWeightOutput(ConvGradWeightStages &st, int kLanes) {
  st.sums.compute_root();
  st.outputRows.compute_root().unroll(st.outputRows.args()[2]);
  st.output.unroll(st.r);
  if (kLanes) {
    st.outputRows.vectorize(st.k, kLanes);
    st.output.vectorize(st.k, kLanes);
  }
}

} // namespace

int CpuScheduler::convGradWeightChunks(const ConvGradWeightStages &st, int imageBlocks) const {
  // The most chunks (up to kMaxGradWeightChunks) that keep a chunk at least
  // kMinGradWeightChunkMacs multiply-adds, and their sums within
  // kMaxGradWeightChunkBytes unless that leaves fewer than two.
  const int64_t totalMacs = int64_t(st.K) * st.C * st.sumS * st.sumR * st.stepsX * st.rowsY * st.N;
  int chunks = 1;
  const int64_t chunkBytes = int64_t(st.K) * st.C * st.sumS * st.sumR * 4;
  const int64_t mostChunks = std::max<int64_t>(2, kMaxGradWeightChunkBytes / chunkBytes);
  for (int d = 2; d <= std::min(imageBlocks, kMaxGradWeightChunks); ++d)
    if (imageBlocks % d == 0 && totalMacs / d >= kMinGradWeightChunkMacs && d <= mostChunks)
      chunks = d;
  return chunks;
}

void CpuScheduler::scheduleConvGradWeight(ConvGradWeightStages &st) const {
  Func &out = st.sums, &partial = st.partial;
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
  if (kLanes && cTile == st.C && kVectors * cTile < kMinGradWeightAccumulators && !st.winograd) {
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

  // (With Winograd, s and r are the points (u, v), and a step is a tile.)
  const int64_t blockSteps = int64_t(st.stepsX) * st.blockRows * st.blockImages;
  const int64_t tiles =
      int64_t(st.K / kTile) * (st.C / cTile) * (st.sumS / sTile) * (st.sumR / rTile);
  const int64_t tileMacs = int64_t(kTile) * cTile * sTile * rTile * blockSteps;
  const int64_t totalMacs = int64_t(st.K) * st.C * st.sumS * st.sumR * st.stepsX * st.rowsY * st.N;

  if (kLanes)
    out.vectorize(k, kLanes);
  if (st.winograd)
    scheduleWinogradGradWeightOutput(st, kLanes);
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
  if (st.winograd) {
    // The block's tiles transformed once, each point's values over all the
    // block's tiles contiguous (the products read them in that order).
    LoopLevel block(acc, rb.x);
    scheduleWinogradGradWeightTransform(st.gradTile, st.gradRows, st.gradT, block, kLanes,
                                        st.stepsX);
    scheduleWinogradGradWeightTransform(st.inputTile, st.dataRows, st.data, block, lanesFor(st.C),
                                        st.stepsX);
  } else if (st.padded) {
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
