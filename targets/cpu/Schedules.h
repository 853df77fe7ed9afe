//===- Schedules.h - CPU schedules for the kernel generator ----*- C++ -*-===//
//
// Hand-written schedules for CPUs (x86-64 SSE/AVX2/AVX-512, AArch64 NEON).
// The vector width is the target's natural width for float32; splits either
// divide the static extents or shift inwards on pure stages, so no kernel
// reads or writes outside its buffers.
//
//===----------------------------------------------------------------------===//
#ifndef RESNETC_TARGETS_CPU_SCHEDULES_H
#define RESNETC_TARGETS_CPU_SCHEDULES_H

#include "../kernelgen/Kernels.h"

namespace resnetc::kernelgen {

class CpuScheduler : public Scheduler {
public:
  explicit CpuScheduler(const Halide::Target &target);

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
  int groupedConvBlock(int G, int Cg, int Kg) const override; // GroupedConvSchedule.cpp
  void scheduleGroupedConvBlock(GroupedConvBlockStages &stages) const override;
  bool skipsConvPaddingTaps(const Conv2DStages &stages) const override;
  int convWeightBlock(int K, int C, int Q, int P) const override;
  int convGradWeightChunks(const ConvGradWeightStages &stages, int imageBlocks) const override;
  bool skipsConvGradInputPaddingTaps(const ConvGradInputStages &stages) const override;
  int winogradTile(const WinogradStages &shape) const override; // WinogradSchedule.cpp
  int winogradFilterBlock(int K) const override;                // WinogradSchedule.cpp
  int winogradGradWeightTile(
      const ConvGradWeightStages &stages) const override; // WinogradSchedule.cpp
  bool takesWinogradWeights() const override { return true; }
  void scheduleWinograd(WinogradStages &stages) const override;

  /// Vector lanes used for a dimension of static extent `extent`: the
  /// natural width when the extent reaches it, 4 when that fits, else 0
  /// (not vectorised).
  int lanesFor(int extent) const;

private:
  /// Input channels a chunk where a conv sums each block of output channels
  /// chunk by chunk over the whole image; 0 where it does not.
  int weightStreamChunk(const Conv2DStages &stages) const;

  Halide::Target target;
  int naturalLanes;
  int vectorRegisters;
};

} // namespace resnetc::kernelgen

#endif // RESNETC_TARGETS_CPU_SCHEDULES_H
