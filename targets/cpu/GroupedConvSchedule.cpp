//===- GroupedConvSchedule.cpp - CPU schedule of grouped/dilated convs ----===//
//
// GroupedConvStages (Kernels.h): acc(i, g, a, b, n) summed over r, i the
// channel within a group. The sum is vectorised over i, in register tiles
// of i x a (pixels of a row, or input channels for the weight gradient)
// with the reduction inside, so that each weight or gradient vector loaded
// serves a row of broadcasts.
//
//===----------------------------------------------------------------------===//

#include "ScheduleSupport.h"

namespace resnetc::kernelgen {

using namespace Halide;
using namespace cpu;

namespace {

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

} // namespace resnetc::kernelgen
