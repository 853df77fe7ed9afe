//===- Schedules.h - GPU (CUDA) schedules for the kernel generator -*- C++ -*-===//
//
// Every stage a kernel computes runs on the device, so buffers can stay there
// between kernels: pure stages are flattened into one index and tiled into
// blocks of threads; reductions run serially inside one thread (per output
// element), or in a single thread for the scalar sums of the loss. These are
// correct, simple schedules, not tuned ones: one output element per thread,
// no shared memory.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_TARGETS_GPU_SCHEDULES_H
#define RESNETC_TARGETS_GPU_SCHEDULES_H

#include "../kernelgen/Kernels.h"

namespace resnetc::kernelgen {

class GpuScheduler : public Scheduler {
public:
  explicit GpuScheduler(const Halide::Target &) {}

  void scheduleLayout(LayoutStages &stages) const override;
  void scheduleElementwise(ElementwiseStages &stages) const override;
  void scheduleConv2D(Conv2DStages &stages) const override;
  void scheduleMaxPool(MaxPoolStages &stages) const override;
  void scheduleGlobalAvgPool(GlobalAvgPoolStages &stages) const override;
  void scheduleDense(DenseStages &stages) const override;
  void schedulePack(PackStages &stages) const override;
  void scheduleChannelReduction(ChannelReductionStages &stages) const override;
  void scheduleChannelMoments(ChannelMomentsStages &stages) const override;
  void scheduleConvGradInput(ConvGradInputStages &stages) const override;
  void scheduleConvGradWeight(ConvGradWeightStages &stages) const override;
  void scheduleDenseGrad(DenseGradStages &stages) const override;
  void scheduleMaxPoolGrad(MaxPoolGradStages &stages) const override;
  void scheduleSoftmax(SoftmaxStages &stages) const override;
  void scheduleVectorUpdate(VectorUpdateStages &stages) const override;
  void scheduleGroupedConv(GroupedConvStages &stages) const override;
};

} // namespace resnetc::kernelgen

#endif // RESNETC_TARGETS_GPU_SCHEDULES_H
