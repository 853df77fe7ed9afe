//===- SyncBatchNormOps.cpp - Kernels of batch norm in stages -------------===//
//
// KernelOpInterface for the staged batch norm of rn-sync-batch-norm: the
// local statistics, the normalisation with given statistics, the gradient's
// sums and the input gradient with given sums. Between the stages, the
// rn.mean_over_ranks steps average over the ranks.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

/// A kernel over one NHWC activation whose results are per-channel vectors.
LogicalResult emitPerChannel(Operation *op, KernelPlanBuilder &plan, KernelKind kind,
                             std::initializer_list<Value> inputs, ValueRange results,
                             bool relu = false) {
  KernelStep step(plan, op);
  if (failed(step.read(inputs)))
    return failure();
  Dims shape = shapeOf(*inputs.begin()); // the activation comes first
  for (Value result : results)
    step.write(result, shapeOf(result).size() == 4 ? nhwc(Space::Arena, shape)
                                                   : vector(Space::Arena, shape[1]));
  KernelSpec spec = specOf(kind, shape);
  spec.relu = relu;
  return step.emit(spec);
}

struct ChannelMeanKernel : KernelOpInterface::ExternalModel<ChannelMeanKernel, rn::ChannelMeanOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto mean = cast<rn::ChannelMeanOp>(op);
    return emitPerChannel(op, plan, KernelKind::ChannelMean, {mean.getInput()}, op->getResults());
  }
};

struct ChannelVarianceKernel
    : KernelOpInterface::ExternalModel<ChannelVarianceKernel, rn::ChannelVarianceOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto variance = cast<rn::ChannelVarianceOp>(op);
    return emitPerChannel(op, plan, KernelKind::ChannelVariance,
                          {variance.getInput(), variance.getMean()}, op->getResults());
  }
};

struct BatchNormNormalizeKernel
    : KernelOpInterface::ExternalModel<BatchNormNormalizeKernel, rn::BatchNormNormalizeOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto bn = cast<rn::BatchNormNormalizeOp>(op);
    KernelStep step(plan, op);
    if (failed(step.read(
            {bn.getInput(), bn.getGamma(), bn.getBeta(), bn.getMean(), bn.getVariance()})))
      return failure();
    Dims shape = shapeOf(bn.getInput());
    step.write(bn.getOutput(), nhwc(Space::Arena, shape));
    step.write(bn.getInvStd(), vector(Space::Arena, shape[1]));
    KernelSpec spec = withEpsilon(specOf(KernelKind::BatchNormNormalize, shape), bn.getEpsilon());
    spec.relu = bn.getRelu();
    return step.emit(spec);
  }
};

struct BatchNormGradSumsKernel
    : KernelOpInterface::ExternalModel<BatchNormGradSumsKernel, rn::BatchNormGradSumsOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto sums = cast<rn::BatchNormGradSumsOp>(op);
    return emitPerChannel(op, plan, KernelKind::BatchNormGradSums,
                          {sums.getOutputGrad(), sums.getInput(), sums.getMean(), sums.getInvStd(),
                           sums.getReluOutput()},
                          op->getResults(), bool(sums.getReluOutput()));
  }
};

struct BatchNormGradInputKernel
    : KernelOpInterface::ExternalModel<BatchNormGradInputKernel, rn::BatchNormGradInputOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::BatchNormGradInputOp>(op);
    return emitPerChannel(op, plan, KernelKind::BatchNormGradInput,
                          {grad.getOutputGrad(), grad.getInput(), grad.getGamma(), grad.getMean(),
                           grad.getInvStd(), grad.getGammaGrad(), grad.getBetaGrad(),
                           grad.getReluOutput()},
                          op->getResults(), bool(grad.getReluOutput()));
  }
};

} // namespace

void codegen::attachSyncBatchNormKernels(MLIRContext *context) {
  rn::ChannelMeanOp::attachInterface<ChannelMeanKernel>(*context);
  rn::ChannelVarianceOp::attachInterface<ChannelVarianceKernel>(*context);
  rn::BatchNormNormalizeOp::attachInterface<BatchNormNormalizeKernel>(*context);
  rn::BatchNormGradSumsOp::attachInterface<BatchNormGradSumsKernel>(*context);
  rn::BatchNormGradInputOp::attachInterface<BatchNormGradInputKernel>(*context);
}
