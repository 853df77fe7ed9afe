//===- WinogradSchedule.cpp - CPU schedule of Winograd 3x3 convolutions --===//
//
// When a 3x3 conv at stride 1 (conv2d, conv2d_grad_input) takes the Winograd
// algorithm (WinogradStages), and how it runs: per block of tiles (an image,
// or a row of tiles), the data transform, then for each of the alpha x alpha
// points a small matrix product (result channels x tiles, summed over the
// source's channels) in register tiles like the direct conv's, then the
// output transform with the epilogue, a vector of channels at a time.
//
//===----------------------------------------------------------------------===//

#include "Schedules.h"

#include <algorithm>

namespace resnetc::kernelgen {

using namespace Halide;

namespace {

// A block's transformed data and products stay within about a quarter of
// a 1 MiB L2: a whole image when it fits (and there are images enough for
// the threads), else one row of tiles.
constexpr int64_t kWinogradBlockBytes = int64_t(256) << 10;
constexpr int kMinWinogradImageBlocks = 8;
// The transformed filter (alpha^2 x C x K) is read once per block: from L2
// when it fits, else streamed, which needs this many tiles a block to keep
// up with the FMAs (ResNet-50's 128-channel layer, 7 tiles a row: 2.1x the
// direct conv's speed; 256 channels, 4 tiles: 0.93x).
constexpr int64_t kWinogradCachedFilterBytes = int64_t(1) << 20;
constexpr int kMinWinogradStreamingTiles = 7;

/// Whether the blocks of tiles are whole images (else rows of tiles).
bool blocksAreImages(const WinogradStages &st) {
  const int64_t rowBytes = int64_t(st.Ci + st.Co) * st.alpha * st.alpha * st.tilesX * 4;
  return st.N >= kMinWinogradImageBlocks && rowBytes * st.tilesY <= kWinogradBlockBytes;
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

} // namespace

int CpuScheduler::winogradTile(const WinogradStages &shape) const {
  // Whole vectors of both channel counts and images of a tile at least.
  const int lanes = lanesFor(shape.Co);
  if (!lanes || shape.Co % lanes || shape.Ci % lanes || shape.Co < 16 || shape.Ci < 16 ||
      shape.W < 4 || shape.H < 4)
    return 0;
  WinogradStages st = shape; // with the largest m
  st.tilesX = (shape.W + st.m - 1) / st.m;
  st.tilesY = (shape.H + st.m - 1) / st.m;
  const int64_t filterBytes = int64_t(st.Co) * st.Ci * st.alpha * st.alpha * 4;
  const int blockTiles = blocksAreImages(st) ? st.tilesX * st.tilesY : st.tilesX;
  if (filterBytes > kWinogradCachedFilterBytes && blockTiles < kMinWinogradStreamingTiles)
    return 0;
  return st.m;
}

void CpuScheduler::scheduleWinograd(WinogradStages &st) const {
  const int lanes = lanesFor(st.Co), kLanes = lanesFor(st.Ci);
  const Var &c = st.co, &x = st.x, &y = st.y, &n = st.n, &k = st.ci, &u = st.u, &v = st.v,
            &tx = st.tx, &ty = st.ty;
  const int m = st.m;
  Func &out = st.output;

  // The filter transform, once per call, a vector of channels at a time
  // (rows of the transform unrolled so that their selects fold).
  {
    Var co("fco"), ci("fci");
    st.filter.compute_root()
        .split(c, co, ci, lanes)
        .reorder(ci, u, co, v, k)
        .vectorize(ci)
        .unroll(v);
    if (int64_t(st.Ci) * st.Co * st.alpha * st.alpha >= (int64_t(1) << 15))
      st.filter.parallel(k);
    const std::vector<Var> args = st.filterRows.args();
    st.filterRows.compute_at(st.filter, co).vectorize(args[0], lanes).unroll(args[2]);
  }

  // The output: a vector of channels of one tile at a time.
  Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), co("co"), ci("ci");
  out.split(x, xo, xi, m, TailStrategy::GuardWithIf)
      .split(y, yo, yi, m, TailStrategy::GuardWithIf)
      .split(c, co, ci, lanes)
      .reorder(ci, xi, yi, co, xo, yo, n)
      .vectorize(ci)
      .unroll(xi)
      .unroll(yi);
  {
    const std::vector<Var> args = st.tileRows.args();
    st.tileRows.compute_at(out, co).vectorize(args[0], lanes).unroll(args[1]);
  }

  // Blocks of tiles.
  const bool perImage = blocksAreImages(st);
  const int64_t macs = int64_t(st.Co) * st.Ci * st.alpha * st.alpha * st.tilesX * st.tilesY * st.N;
  const bool parallel = macs >= (int64_t(1) << 15);
  LoopLevel block;
  if (perImage) {
    block = LoopLevel(out, n);
    if (parallel && st.N > 1)
      out.parallel(n);
  } else {
    Var yn("yn");
    out.fuse(yo, n, yn);
    block = LoopLevel(out, yn);
    if (parallel)
      out.parallel(yn);
  }
  const int blockX = st.tilesX, blockY = perImage ? st.tilesY : 1;

  st.sourceTile.compute_at(block).vectorize(st.sourceTile.args()[0], kLanes);
  {
    // The data transform, a vector of source channels of one tile at a
    // time: its rows (u unrolled) over the window's rows, then the columns
    // (v unrolled).
    Var ko("dko"), ki("dki");
    st.data.compute_at(block)
        .split(k, ko, ki, kLanes)
        .reorder(ki, v, u, ko, tx, ty, n)
        .vectorize(ki)
        .unroll(v);
    const std::vector<Var> args = st.dataRows.args();
    st.dataRows.compute_at(st.data, ko)
        .reorder(args[0], args[1], args[2])
        .vectorize(args[0], kLanes)
        .unroll(args[1]);
  }

  // The matrix products, one point (u, v) at a time, in register tiles.
  GemmTile tile = chooseGemmTile(st.Co, lanes, blockX, blockY, vectorRegisters);
  Var pco("pco"), pci("pci"), txo("txo"), txi("txi"), tyo("tyo"), tyi("tyi");
  st.product.compute_at(block)
      .split(c, pco, pci, tile.vectors * lanes, TailStrategy::ShiftInwards)
      .split(tx, txo, txi, tile.x, TailStrategy::ShiftInwards)
      .split(ty, tyo, tyi, tile.y, TailStrategy::ShiftInwards)
      .reorder(pci, txi, tyi, pco, txo, tyo, u, v, n)
      .vectorize(pci, lanes)
      .unroll(pci)
      .unroll(txi)
      .unroll(tyi);
  st.acc.compute_at(st.product, pco).vectorize(c, lanes).unroll(c).unroll(tx).unroll(ty);
  st.acc.update()
      .reorder(c, tx, ty, st.rci.x, u, v, n)
      .vectorize(c, lanes)
      .unroll(c)
      .unroll(tx)
      .unroll(ty);
}

} // namespace resnetc::kernelgen
