//===- WinogradSchedule.cpp - CPU schedule of Winograd 3x3 convolutions --===//
//
// When a 3x3 conv at stride 1 (conv2d, conv2d_grad_input) takes the Winograd
// algorithm (WinogradStages), and how it runs: per block of tiles (an image,
// or a row of tiles), the data transform, then for each of the alpha x alpha
// points a small matrix product (result channels x tiles, summed over the
// source's channels) in register tiles like the direct conv's, then the
// output transform with the epilogue, a vector of channels at a time. Also
// which tile conv2d_grad_weight takes (its schedule is the direct one's, in
// TrainingSchedules.cpp, with the points in the place of the taps).
//
//===----------------------------------------------------------------------===//

#include "Schedules.h"

#include <algorithm>

namespace resnetc::kernelgen {

using namespace Halide;

namespace {

// Blocks of tiles: rows of tiles, or whole images where a row has fewer
// than kMinWinogradRowTiles tiles (too few for the matrix products'
// register tiles: ResNet-20's 64-channel backward-data at F(4x4), 2 tiles a
// row, ran 1.5x as fast by images) and an image's transformed data and
// products fit kWinogradBlockBytes. (Images of 5 tiles a row and more were
// as fast by rows at one thread on a Zen 5 VM, and up to 2x as fast at
// two. Rows of 4 tiles were slow on a Xeon VM, at batch 128 and two
// threads: the 64-channel 7x7 conv at F(2x2) 1.98 -> 1.31 ms by images, the
// 32-channel 14x14 one at F(4x4) 1.51 -> 1.11 ms, its backward-data 1.64 ->
// 1.10 ms.)
constexpr int kMinWinogradRowTiles = 5;
constexpr int64_t kWinogradBlockBytes = int64_t(256) << 10;
constexpr int kMinWinogradImageBlocks = 8;
// The transformed filter (alpha^2 x Co x Ci) is read once per block: from
// L2 when it fits, else streamed, which takes this many tiles a block to
// keep up with the FMAs (at F(2x2), ResNet-50's 128-channel layer, 14 tiles
// a row: 1.6x the direct conv's speed; 256 channels, 7 tiles: as fast at
// one thread, slower at two).
constexpr int64_t kWinogradCachedFilterBytes = int64_t(1) << 20;
constexpr int kMinWinogradStreamingTiles = 8;
// Parallel tasks (see scheduleWinograd).
constexpr int64_t kMinWinogradParallelMacs = int64_t(1) << 15;
constexpr int64_t kMinWinogradTaskMacs = int64_t(1) << 21;
constexpr int kMinWinogradTasks = 32;
// Chunks of output channels a filter-stationary image's output transform is
// split into: at most 8, of 64 channels at least. (They also split the
// matrix products until those took the points in parallel.)
constexpr int kFilterStationaryTasks = 8;
constexpr int kMinFilterStationaryChunk = 64;

/// Whether the blocks of tiles are whole images (else rows of tiles).
bool blocksAreImages(const WinogradStages &st) {
  const int64_t rowBytes = int64_t(st.Ci + st.Co) * st.alpha * st.alpha * st.tilesX * 4;
  return st.tilesX < kMinWinogradRowTiles && st.N >= kMinWinogradImageBlocks &&
         rowBytes * st.tilesY <= kWinogradBlockBytes;
}

struct GemmTile {
  int vectors, x, y;
};

/// The register tile of the per-point matrix product: `vectors` vectors of
/// channels (dividing C / lanes) x x * y tiles of accumulators, the most
/// accumulators that fit beside the filter vectors and a broadcast, and as
/// few loads per multiply-add as possible, preferring tiles that divide
/// the block.
GemmTile chooseGemmTile(int C, int lanes, int tilesX, int tilesY, int registers) {
  GemmTile best{1, 1, 1};
  double bestCost = 1e30;
  for (int vectors = 1; vectors <= 4; ++vectors) {
    if ((C / lanes) % vectors)
      continue;
    for (int y = 1; y <= tilesY; ++y)
      for (int x = 1; x <= tilesX; ++x) {
        const int acc = vectors * x * y;
        if (acc + vectors + 1 > registers)
          continue;
        // Two FMAs and two loads a cycle; 8 chains hide the FMA latency.
        const double fma = acc / 2.0, loads = (vectors + x * y) / 2.0;
        const double efficiency = fma / (std::max(fma, loads) + 0.5) * std::min(1.0, acc / 8.0);
        const double waste =
            double((tilesX + x - 1) / x * x) / tilesX * (double((tilesY + y - 1) / y * y) / tilesY);
        const double cost = waste / efficiency;
        if (cost < bestCost - 1e-9) {
          bestCost = cost;
          best = {vectors, x, y};
        }
      }
  }
  return best;
}

/// Where the filter, transformed at load time, is too large for the cache,
/// the chunk of output channels of a parallel task of the output transform
/// (0: rows of tiles, or images, in parallel as usual): whole vectors,
/// kFilterStationaryTasks chunks at most.
int filterStationaryChunk(const WinogradStages &st, int lanes) {
  const int64_t filterBytes = int64_t(st.Co) * st.Ci * st.alpha * st.alpha * 4;
  if (st.filterRows.defined() || filterBytes <= kWinogradCachedFilterBytes)
    return 0;
  int tasks = 1;
  while (tasks < kFilterStationaryTasks && st.Co / (2 * tasks) >= kMinFilterStationaryChunk &&
         st.Co % (2 * tasks * lanes) == 0)
    tasks *= 2;
  return st.Co / tasks;
}

/// The padded source and the data transform of a block of tiles at `at`, a
/// vector of source channels of one tile at a time: its rows (u unrolled)
/// over the window's rows, then the columns (v unrolled).
void scheduleDataTransform(WinogradStages &st, const LoopLevel &at, int ciLanes) {
  const Var &ci = st.ci, &n = st.n, &u = st.u, &v = st.v, &tx = st.tx, &ty = st.ty;
  st.sourceTile.compute_at(at).vectorize(st.sourceTile.args()[0], ciLanes);
  Var outer("dco"), inner("dci");
  st.data.compute_at(at)
      .split(ci, outer, inner, ciLanes)
      .reorder(inner, v, u, outer, tx, ty, n)
      .vectorize(inner)
      .unroll(v);
  const std::vector<Var> args = st.dataRows.args();
  st.dataRows.compute_at(st.data, outer)
      .reorder(args[0], args[1], args[2])
      .vectorize(args[0], ciLanes)
      .unroll(args[1]);
}

/// The matrix products of `channels` output channels over a block of
/// blockX x blockY tiles at `at`, one point (u, v) at a time, in register
/// tiles.
void scheduleProducts(WinogradStages &st, const LoopLevel &at, int channels, int blockX, int blockY,
                      int lanes, int registers) {
  const Var &co = st.co, &n = st.n, &u = st.u, &v = st.v, &tx = st.tx, &ty = st.ty;
  GemmTile tile = chooseGemmTile(channels, lanes, blockX, blockY, registers);
  Var pco("pco"), pci("pci"), txo("txo"), txi("txi"), tyo("tyo"), tyi("tyi");
  st.product.compute_at(at)
      .split(co, pco, pci, tile.vectors * lanes, TailStrategy::ShiftInwards)
      .split(tx, txo, txi, tile.x, TailStrategy::ShiftInwards)
      .split(ty, tyo, tyi, tile.y, TailStrategy::ShiftInwards)
      .reorder(pci, txi, tyi, pco, txo, tyo, u, v, n)
      .vectorize(pci, lanes)
      .unroll(pci)
      .unroll(txi)
      .unroll(tyi);
  st.acc.compute_at(st.product, pco).vectorize(co, lanes).unroll(co).unroll(tx).unroll(ty);
  st.acc.update()
      .reorder(co, tx, ty, st.rci.x, u, v, n)
      .vectorize(co, lanes)
      .unroll(co)
      .unroll(tx)
      .unroll(ty);
}

} // namespace

int CpuScheduler::winogradFilterBlock(int K) const {
  // Two vectors of channels: the products' register tiles read one or two
  // blocks' rows, each a contiguous run the prefetchers follow. With k
  // innermost over all K, a tile read 128 bytes of every 1 KiB row of
  // ResNet-50's 256-channel filter, and its loads waited on memory: the
  // 14x14 conv at F(4x4) took 2.2 ms inside the network (the caches cold)
  // against 0.9 ms warm on a Xeon (Sapphire Rapids) VM.
  const int lanes = lanesFor(K);
  if (lanes && K % (2 * lanes) == 0)
    return 2 * lanes;
  return lanes && K % lanes == 0 ? lanes : K;
}

int CpuScheduler::winogradGradWeightTile(const ConvGradWeightStages &st) const {
  // Whole vectors of both channel counts, and each point's sums (K x C, all
  // alpha^2 points) within kWinogradCachedFilterBytes: every block of tiles
  // adds its register tiles to all of them.
  const int lanes = lanesFor(st.K);
  if (!lanes || st.K % lanes || st.C % lanes || st.K < 16 || st.C < 16 || st.Q < 4 || st.P < 4)
    return 0;
  for (int m = 4; m >= 2; m -= 2)
    if (int64_t(st.K) * st.C * (m + 2) * (m + 2) * 4 <= kWinogradCachedFilterBytes)
      return m;
  return 0;
}

int CpuScheduler::winogradTile(const WinogradStages &shape) const {
  // Whole vectors of both channel counts and images of a tile at least.
  const int lanes = lanesFor(shape.Co);
  if (!lanes || shape.Co % lanes || shape.Ci % lanes || shape.Co < 16 || shape.Ci < 16 ||
      shape.W < 4 || shape.H < 4)
    return 0;
  const WinogradStages &st = shape; // extents and tiles at the largest m
  const int64_t filterBytes = int64_t(st.Co) * st.Ci * st.alpha * st.alpha * 4;
  const int blockTiles = blocksAreImages(st) ? st.tilesX * st.tilesY : st.tilesX;
  if (filterBytes > kWinogradCachedFilterBytes && blockTiles < kMinWinogradStreamingTiles)
    return 0;
  return st.m;
}

void CpuScheduler::scheduleWinograd(WinogradStages &st) const {
  const int lanes = lanesFor(st.Co), ciLanes = lanesFor(st.Ci);
  // co: the result's channels; ci: the source's (summed).
  const Var &co = st.co, &ci = st.ci, &x = st.x, &y = st.y, &n = st.n, &u = st.u, &v = st.v,
            &ty = st.ty;
  const int m = st.m;
  Func &out = st.output;

  // The filter transform, once per call, a vector of channels at a time
  // (rows of the transform unrolled so that their selects fold); none
  // where it was made when the weights loaded (read in place).
  if (st.filterRows.defined()) {
    Var outer("fco"), inner("fci");
    st.filter.compute_root()
        .split(co, outer, inner, lanes)
        .reorder(inner, u, outer, v, ci)
        .vectorize(inner)
        .unroll(v);
    if (int64_t(st.Ci) * st.Co * st.alpha * st.alpha >= kMinWinogradParallelMacs)
      st.filter.parallel(ci);
    const std::vector<Var> args = st.filterRows.args();
    st.filterRows.compute_at(st.filter, outer).vectorize(args[0], lanes).unroll(args[2]);
  }

  // The output: a vector of channels of one tile at a time.
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), oco("oco"), oci("oci"), cot("cot"), coi("coi");
  out.split(x, xo, xi, m, TailStrategy::GuardWithIf).split(y, yo, yi, m, TailStrategy::GuardWithIf);
  // A large filter transformed at load time stays put: whole images, the
  // filter read once per image, the output transform in parallel chunks of
  // output channels.
  const int chunk = filterStationaryChunk(st, lanes);
  if (chunk) {
    out.split(co, cot, coi, chunk)
        .split(coi, oco, oci, lanes)
        .reorder(oci, xi, yi, oco, xo, yo, cot, n);
  } else {
    out.split(co, oco, oci, lanes).reorder(oci, xi, yi, oco, xo, yo, n);
  }
  out.vectorize(oci).unroll(xi).unroll(yi);
  {
    const std::vector<Var> args = st.tileRows.args();
    st.tileRows.compute_at(out, oco).vectorize(args[0], lanes).unroll(args[1]);
  }
  if (chunk) {
    // The data transform once per image (its rows of tiles in parallel),
    // then the products over all of the image's tiles, the points (u, v) in
    // parallel: each point's part of the filter (Co x Ci) is one contiguous
    // run, read once, in the order it is stored. (A chunk of output
    // channels across all points, as before, read 256 bytes of every 1 KiB
    // row of the filter, which the prefetchers did not follow: 1.17 -> 0.87
    // ms warm, with winogradFilterBlock, for ResNet-50's 256-channel 14x14
    // conv at F(4x4) on a Xeon VM.)
    if (st.Co > chunk)
      out.parallel(cot);
    scheduleDataTransform(st, LoopLevel(out, n), ciLanes);
    if (st.tilesY > 1)
      st.data.parallel(ty);
    scheduleProducts(st, LoopLevel(out, n), st.Co, st.tilesX, st.tilesY, lanes, vectorRegisters);
    Var uv("uv");
    st.product.fuse(u, v, uv).parallel(uv);
    return;
  }

  // Blocks of tiles, in parallel tasks of whole blocks: at least
  // kMinWinogradTaskMacs multiply-adds a task while there are
  // kMinWinogradTasks tasks (a row of ResNet-20's 16-channel tiles is about
  // a microsecond: one a task, two threads ran 1.2-1.3x as fast as one).
  const bool perImage = blocksAreImages(st);
  const int blocks = perImage ? st.N : st.N * st.tilesY;
  const int64_t blockMacs =
      int64_t(st.Co) * st.Ci * st.alpha * st.alpha * st.tilesX * (perImage ? st.tilesY : 1);
  Var blockVar = perImage ? n : Var("yn");
  if (!perImage)
    out.fuse(yo, n, blockVar);
  LoopLevel block(out, blockVar);
  if (blocks > 1 && blockMacs * blocks >= kMinWinogradParallelMacs) {
    int64_t perTask = (kMinWinogradTaskMacs + blockMacs - 1) / blockMacs;
    perTask = std::max<int64_t>(1, std::min<int64_t>(perTask, blocks / kMinWinogradTasks));
    if (perTask > 1) {
      Var task("task"), inTask("in_task");
      out.split(blockVar, task, inTask, int(perTask), TailStrategy::GuardWithIf).parallel(task);
      block = LoopLevel(out, inTask);
    } else {
      out.parallel(blockVar);
    }
  }
  scheduleDataTransform(st, block, ciLanes);
  scheduleProducts(st, block, st.Co, st.tilesX, perImage ? st.tilesY : 1, lanes, vectorRegisters);
}

} // namespace resnetc::kernelgen
