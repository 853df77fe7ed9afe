//===- Schedules.cpp - GPU (CUDA) schedules for the kernel generator ------===//

#include "Schedules.h"

namespace resnetc::kernelgen {

using namespace Halide;

namespace {

constexpr int kThreadsPerBlock = 256;

/// Fuses the pure variables `vars` (innermost first) of `stage` into one and
/// tiles it into blocks of threads; returns the thread variable, at which
/// per-element producers are computed. Tails are guarded: every element is
/// computed once (in-place updates rely on it).
template <typename StageT> Var gpuFlat(StageT &&stage, std::vector<Var> vars) {
  Var fused = vars.front();
  for (size_t i = 1; i < vars.size(); ++i) {
    Var next(fused.name() + "_" + vars[i].name());
    stage.fuse(fused, vars[i], next);
    fused = next;
  }
  Var block(fused.name() + "_block"), thread(fused.name() + "_thread");
  stage.gpu_tile(fused, block, thread, kThreadsPerBlock, TailStrategy::GuardWithIf);
  return thread;
}

std::vector<Var> argsOf(const Func &f) { return f.args(); }

/// A Func of its own (compute_root) on the device: its pure stage and each
/// update over the same pure variables.
void onDevice(Func f) {
  f.compute_root();
  gpuFlat(f, argsOf(f));
  for (int u = 0; u < f.num_update_definitions(); ++u)
    gpuFlat(f.update(u), argsOf(f));
}

/// Scalar sums (extent 1): one device thread adds in order.
void singleThread(Func f) {
  f.compute_root().gpu_single_thread();
  for (int u = 0; u < f.num_update_definitions(); ++u)
    f.update(u).gpu_single_thread();
}

} // namespace

void GpuScheduler::scheduleLayout(LayoutStages &st) const {
  if (st.toNchw)
    gpuFlat(st.output, {st.x, st.y, st.c, st.n});
  else
    gpuFlat(st.output, {st.c, st.x, st.y, st.n});
}

void GpuScheduler::scheduleElementwise(ElementwiseStages &st) const {
  for (Func &f : st.perChannel)
    onDevice(f);
  gpuFlat(st.output, {st.c, st.x, st.y, st.n});
}

void GpuScheduler::scheduleConv2D(Conv2DStages &st) const {
  // One output per thread: the whole reduction in a register.
  Var thread = gpuFlat(st.output, {st.k, st.x, st.y, st.n});
  st.conv.compute_at(st.output, thread);
}

void GpuScheduler::scheduleMaxPool(MaxPoolStages &st) const {
  Var thread = gpuFlat(st.output, {st.c, st.x, st.y, st.n});
  st.pool.compute_at(st.output, thread);
}

void GpuScheduler::scheduleGlobalAvgPool(GlobalAvgPoolStages &st) const {
  Var thread = gpuFlat(st.output, {st.c, st.n});
  st.sum.compute_at(st.output, thread);
}

void GpuScheduler::scheduleDense(DenseStages &st) const {
  gpuFlat(st.output, {st.k, st.n});
  gpuFlat(st.output.update(), {st.k, st.n});
}

void GpuScheduler::schedulePack(PackStages &st) const {
  if (st.unpacked.defined()) {
    gpuFlat(st.unpacked, {st.s, st.r, st.c, st.k});
    return;
  }
  if (st.scale.defined())
    onDevice(st.scale);
  if (st.winograd.defined()) {
    // (GPU targets take no prepared filters; this keeps the kernel whole.)
    gpuFlat(st.winograd.compute_root(), st.winograd.args()); // packed and the rows inlined
    gpuFlat(st.winogradBlocks, st.winogradBlocks.args());
  } else if (st.blocked.defined())
    gpuFlat(st.blocked, st.blocked.args()); // packed is inlined into it
  else
    gpuFlat(st.packed, {st.k, st.c, st.s, st.r});
  if (st.foldedBias.defined())
    gpuFlat(st.foldedBias, {st.k});
}

void GpuScheduler::scheduleChannelReduction(ChannelReductionStages &st) const {
  // Each level adds in index order inside one thread per output element, as
  // on the CPU: the sums do not depend on the launch configuration.
  onDevice(st.rows);
  onDevice(st.images);
  onDevice(st.total);
  for (Func f : st.results)
    onDevice(f);
}

void GpuScheduler::scheduleChannelMoments(ChannelMomentsStages &st) const {
  // One thread per row, image or channel, adding in index order as on the
  // CPU; the rows' sums are a stage of their own.
  for (Func f : {st.rowSum, st.rows, st.sumImages, st.sumTotal, st.devImages, st.devTotal})
    if (f.defined())
      onDevice(f);
  for (Func f : st.results)
    onDevice(f);
}

void GpuScheduler::scheduleConvGradInput(ConvGradInputStages &st) const {
  onDevice(st.weightT);
  Var thread;
  if (st.phases > 1) {
    st.phased.compute_root();
    thread = gpuFlat(st.phased, {st.c, st.xq, st.yq, st.n, st.ph});
    gpuFlat(st.output, {st.c, st.x, st.y, st.n});
    st.acc.compute_at(st.phased, thread);
  } else {
    thread = gpuFlat(st.output, {st.c, st.x, st.y, st.n});
    st.acc.compute_at(st.output, thread);
  }
}

void GpuScheduler::scheduleConvGradWeight(ConvGradWeightStages &st) const {
  onDevice(st.partial);
  gpuFlat(st.output, {st.k, st.c, st.s, st.r});
  gpuFlat(st.output.update(), {st.k, st.c, st.s, st.r});
  if (st.padded)
    onDevice(st.inputTile);
}

void GpuScheduler::scheduleDenseGrad(DenseGradStages &st) const {
  gpuFlat(st.output, {st.i, st.j});
  gpuFlat(st.output.update(), {st.i, st.j});
}

void GpuScheduler::scheduleMaxPoolGrad(MaxPoolGradStages &st) const {
  onDevice(st.best);
  gpuFlat(st.output, {st.c, st.x, st.y, st.n});
}

void GpuScheduler::scheduleSoftmax(SoftmaxStages &st) const {
  for (Func f : {st.rowMax, st.rowSum, st.best, st.expv})
    onDevice(f);
  for (Func f : {st.lossSum, st.correctSum, st.loss})
    singleThread(f);
  gpuFlat(st.grad, {st.k, st.n});
}

void GpuScheduler::scheduleVectorUpdate(VectorUpdateStages &st) const {
  gpuFlat(st.output, {st.i});
}

void GpuScheduler::scheduleGroupedConv(GroupedConvStages &st) const {
  // One output per thread, as for the plain conv.
  if (st.weightT.defined())
    onDevice(st.weightT);
  Var thread = gpuFlat(st.output, st.output.args());
  st.acc.compute_at(st.output, thread);
}

} // namespace resnetc::kernelgen
