//===- GroupedConvSchedule.cpp - CPU schedule of grouped/dilated convs ----===//
//
// GroupedConvStages (Kernels.h): acc(i, g, a, b, n) summed over r, i the
// channel within a group. The sum is vectorised over i, in register tiles
// of i x a (pixels of a row, or input channels for the weight gradient)
// with the reduction inside, so that each weight or gradient vector loaded
// serves a row of broadcasts. The forward conv, where whole groups fill a
// vector or a group fills whole vectors, takes the blocked algorithm
// (GroupedConvBlockStages) instead.
//
//===----------------------------------------------------------------------===//

#include "ScheduleSupport.h"

namespace resnetc::kernelgen {

using namespace Halide;
using namespace cpu;

namespace {

// Rows of a band of the blocked grouped conv (its first rows are staged
// again by the band before it): at least 4, a halo of at most half.
constexpr int kMinBandRows = 4;

/// The widest power of two up to `natural` that divides `extent`.
int dividingLanes(int extent, int natural) {
  int lanes = 1;
  while (lanes * 2 <= natural && extent % (lanes * 2) == 0)
    lanes *= 2;
  return lanes;
}

/// The largest divisor of `extent` that is at most `limit`.
int largestDivisor(int extent, int limit) {
  for (int d = std::min(extent, limit); d > 1; --d)
    if (extent % d == 0)
      return d;
  return 1;
}

} // namespace

void CpuScheduler::scheduleGroupedConv(GroupedConvStages &st) const {
  Func &out = st.output, &acc = st.acc;
  const Var &i = st.i, &g = st.g, &a = st.a, &b = st.b, &n = st.n;
  const RDom &r = st.r;
  const int lanes = dividingLanes(st.per, naturalLanes);
  // Two vectors of channels where a group has them, and as many pixels (or
  // input channels) as the registers left over hold, dividing the extent.
  const int vectors = st.per % (2 * lanes) == 0 && lanes > 1 ? 2 : 1;
  const int across = largestDivisor(st.A, std::min(8, (vectorRegisters - 2) / vectors - 1));
  if (st.weightT.defined()) {
    st.weightT.compute_root();
    if (lanes > 1)
      st.weightT.vectorize(st.weightT.args()[0], lanes);
  }

  // The output reads acc at (ch % per, ch / per): split by `per`, so that
  // both indices are loop variables.
  std::vector<Var> args = out.args();
  Var group("group"), within("within");
  out.split(args[0], group, within, st.per);
  if (lanes > 1)
    out.vectorize(within, lanes);

  Var io("io"), ii("ii"), ao("ao"), ai("ai");
  Stage update = acc.update();
  update.split(i, io, ii, lanes * vectors)
      .split(a, ao, ai, across)
      .reorder({ii, ai, r.x, r.y, r.z, io, ao, g, b, n});
  if (lanes > 1)
    update.vectorize(ii, lanes);
  update.unroll(ii).unroll(ai);
  if (lanes > 1)
    acc.vectorize(i, lanes);

  if (st.kind == KernelKind::Conv2DGradWeight) {
    // The whole weight-sized sum at once, its taps and groups in parallel;
    // each element is summed by one task, so the order is fixed.
    acc.compute_root();
    Var taps("taps"), tasks("tasks");
    update.fuse(b, n, taps).fuse(g, taps, tasks);
    if (st.macs >= kMinParallelWork)
      update.parallel(tasks);
    return;
  }
  // conv2d and conv2d_grad_input: rows in parallel, each task summing acc
  // for its row.
  const int rows = st.B * st.Nn;
  const int64_t macsPerRow = st.macs / rows;
  Var yn("yn");
  parallelRows(out, args[2], args[3], rows, macsPerRow, yn);
  const bool fused = rows >= 2 && rows * macsPerRow >= kMinParallelWork;
  acc.compute_at(out, fused ? yn : args[2]);
}

int CpuScheduler::groupedConvBlock(int G, int Cg, int Kg) const {
  (void)Cg;
  const int lanes = naturalLanes;
  // Kg = 4 or 8 on AVX-512: the direct schedule fills a quarter or half of
  // each vector (15-31% of the peak). Up to four groups share one instead.
  // Depthwise convs (Kg = 1) keep the direct algorithm.
  if (Kg < lanes)
    return Kg > 1 && lanes % Kg == 0 && lanes / Kg <= 4 && G % (lanes / Kg) == 0 ? lanes : 0;
  // One or two vectors of a group's channels: the direct schedule's weights
  // (K apart) and input pixels (C apart) map to a few cache sets.
  if (Kg % (2 * lanes) == 0)
    return 2 * lanes;
  return Kg % lanes == 0 ? lanes : 0;
}

void CpuScheduler::scheduleGroupedConvBlock(GroupedConvBlockStages &st) const {
  const int lanes = naturalLanes;
  const int M = st.groupsPerBlock, I = st.perGroup;
  const int vectors = st.block / lanes;
  // Pixels of a row in the register tile, with `vectors` accumulators each:
  // at least 8 chains keep two FMA pipes of latency 4 busy.
  const int across = largestDivisor(st.Q, std::min(16, (vectorRegisters - 2) / vectors - 1));
  Func &out = st.output;
  std::vector<Var> args = out.args(); // k, x, y, n
  const Var &x = args[1], &y = args[2], &n = args[3];
  Var blk("blk"), within("within"), task("task"), band("band"), row("row"), blocks("blocks");
  // A task is one block of one image, or of a band of its rows where there
  // are few blocks: its packed weights stay in L1, and its staged input
  // slides down the rows, each row staged once (a band's first rows twice).
  const int64_t blockTasks = int64_t(st.blocks) * st.N;
  const int bands = int(std::min<int64_t>(std::max(1, st.P / kMinBandRows),
                                          (kMinConvTasks / 2 + blockTasks - 1) / blockTasks));
  int bandRows = largestDivisor(st.P, st.P / std::max(bands, 1));
  if (bandRows < kMinBandRows)
    bandRows = st.P; // no divisor makes bands of kMinBandRows rows or more
  out.split(args[0], blk, within, st.block)
      .split(y, band, row, bandRows)
      .reorder(within, x, row, band, blk, n)
      .fuse(band, blk, blocks)
      .fuse(blocks, n, task);
  if (M > 1) {
    // acc holds a block's groups side by side: read one group's channels
    // (M apart) per vector.
    Var hh("hh"), ii("ii");
    out.split(within, hh, ii, I).vectorize(ii).unroll(hh);
  } else {
    out.vectorize(within, lanes);
  }
  if (st.macs >= kMinParallelWork && blockTasks * (st.P / bandRows) >= 2)
    out.parallel(task);

  // h inside i: M > 1 makes one vector of both, the staged input a
  // broadcast of M values (the groups' channel j).
  auto vectorizeChannels = [&](auto &&stage, const VarOrRVar &h, const VarOrRVar &i) {
    if (M > 1)
      stage.vectorize(h).vectorize(i);
    else
      stage.vectorize(i, lanes);
  };
  st.packedWeight.compute_at(out, task);
  vectorizeChannels(st.packedWeight, st.h, st.i);
  st.staged.store_at(out, task).compute_at(out, row);
  // Each pixel's M x Cg values as vectors (M > 1: the groups' channels
  // interleaved, from one dense load), with no strided stores.
  const int stagedLanes = dividingLanes(st.Cg, lanes);
  auto vectorizeStaged = [&](auto &&stage) {
    if (M > 1 && M * st.Cg <= 2 * lanes)
      stage.vectorize(st.h).vectorize(st.j);
    else if (M == 1 && stagedLanes > 1)
      stage.vectorize(st.j, stagedLanes);
  };
  vectorizeStaged(st.staged);
  for (size_t u = 0; u < st.stagedPadding.size(); ++u)
    vectorizeStaged(st.staged.update(int(u)));
  st.acc.compute_at(out, row);
  vectorizeChannels(st.acc, st.h, st.i);
  const RDom &r = st.r;
  Var xi("xi"), xo("xo");
  Stage update = st.acc.update();
  update.split(st.x, xo, xi, across).reorder({st.h, st.i, xi, r.x, r.y, r.z, xo, st.y, st.b, st.n});
  vectorizeChannels(update, st.h, st.i);
  if (M == 1)
    update.unroll(st.i); // the vectors of a group's channels
  update.unroll(xi);
}

} // namespace resnetc::kernelgen
