//===- BatchNormTrainingOps.cpp - Kernels of batch norm in training -------===//
//
// KernelOpInterface for batch norm in a training step: the fused
// rn.batch_norm_train and its gradient, and the stages rn-sync-batch-norm
// splits them into (the local statistics, the normalisation with given
// statistics, the gradient's sums, the input gradient with given sums),
// between which rn.mean_over_ranks steps average over the ranks. Each is one
// kernel over an NHWC activation and per-channel vectors.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

/// The kernel `kind` over the NHWC activation `inputs[0]`: reads `inputs`
/// (null ones skipped), writes `results` (activations in NHWC, vectors), with
/// the spec's relu and residual and, where given, epsilon.
LogicalResult emitBatchNormKernel(Operation *op, KernelPlanBuilder &plan, KernelKind kind,
                                  std::initializer_list<Value> inputs, ValueRange results,
                                  bool relu = false, std::optional<APFloat> epsilon = std::nullopt,
                                  bool residual = false) {
  KernelStep step(plan, op);
  if (failed(step.read(inputs)))
    return failure();
  Dims shape = shapeOf(*inputs.begin());
  for (Value result : results)
    step.write(result, shapeOf(result).size() == 4 ? nhwc(Space::Arena, shape)
                                                   : vector(Space::Arena, shape[1]));
  KernelSpec spec = specOf(kind, shape);
  if (epsilon)
    spec = withEpsilon(spec, *epsilon);
  spec.relu = relu;
  spec.residual = residual;
  return step.emit(spec);
}

struct BatchNormTrainKernel
    : KernelOpInterface::ExternalModel<BatchNormTrainKernel, rn::BatchNormTrainOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto bn = cast<rn::BatchNormTrainOp>(op);
    return emitBatchNormKernel(op, plan, KernelKind::BatchNormTrain,
                               {bn.getInput(), bn.getGamma(), bn.getBeta(), bn.getResidual()},
                               op->getResults(), bn.getRelu(), bn.getEpsilon(),
                               bool(bn.getResidual()));
  }
};

struct BatchNormTrainGradKernel
    : KernelOpInterface::ExternalModel<BatchNormTrainGradKernel, rn::BatchNormTrainGradOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::BatchNormTrainGradOp>(op);
    return emitBatchNormKernel(op, plan, KernelKind::BatchNormTrainGrad,
                               {grad.getOutputGrad(), grad.getInput(), grad.getGamma(),
                                grad.getMean(), grad.getInvStd(), grad.getReluOutput()},
                               op->getResults(), bool(grad.getReluOutput()));
  }
};

struct ChannelMeanKernel : KernelOpInterface::ExternalModel<ChannelMeanKernel, rn::ChannelMeanOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto mean = cast<rn::ChannelMeanOp>(op);
    return emitBatchNormKernel(op, plan, KernelKind::ChannelMean, {mean.getInput()},
                               op->getResults());
  }
};

struct ChannelVarianceKernel
    : KernelOpInterface::ExternalModel<ChannelVarianceKernel, rn::ChannelVarianceOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto variance = cast<rn::ChannelVarianceOp>(op);
    return emitBatchNormKernel(op, plan, KernelKind::ChannelVariance,
                               {variance.getInput(), variance.getMean()}, op->getResults(),
                               /*relu=*/false);
  }
};

struct BatchNormNormalizeKernel
    : KernelOpInterface::ExternalModel<BatchNormNormalizeKernel, rn::BatchNormNormalizeOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto bn = cast<rn::BatchNormNormalizeOp>(op);
    return emitBatchNormKernel(
        op, plan, KernelKind::BatchNormNormalize,
        {bn.getInput(), bn.getGamma(), bn.getBeta(), bn.getMean(), bn.getVariance()},
        op->getResults(), bn.getRelu(), bn.getEpsilon());
  }
};

struct BatchNormGradSumsKernel
    : KernelOpInterface::ExternalModel<BatchNormGradSumsKernel, rn::BatchNormGradSumsOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto sums = cast<rn::BatchNormGradSumsOp>(op);
    return emitBatchNormKernel(op, plan, KernelKind::BatchNormGradSums,
                               {sums.getOutputGrad(), sums.getInput(), sums.getMean(),
                                sums.getInvStd(), sums.getReluOutput()},
                               op->getResults(), bool(sums.getReluOutput()));
  }
};

struct BatchNormGradInputKernel
    : KernelOpInterface::ExternalModel<BatchNormGradInputKernel, rn::BatchNormGradInputOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto grad = cast<rn::BatchNormGradInputOp>(op);
    return emitBatchNormKernel(op, plan, KernelKind::BatchNormGradInput,
                               {grad.getOutputGrad(), grad.getInput(), grad.getGamma(),
                                grad.getMean(), grad.getInvStd(), grad.getGammaGrad(),
                                grad.getBetaGrad(), grad.getReluOutput()},
                               op->getResults(), bool(grad.getReluOutput()));
  }
};

} // namespace

void codegen::attachBatchNormTrainingKernels(MLIRContext *context) {
  rn::BatchNormTrainOp::attachInterface<BatchNormTrainKernel>(*context);
  rn::BatchNormTrainGradOp::attachInterface<BatchNormTrainGradKernel>(*context);
  rn::ChannelMeanOp::attachInterface<ChannelMeanKernel>(*context);
  rn::ChannelVarianceOp::attachInterface<ChannelVarianceKernel>(*context);
  rn::BatchNormNormalizeOp::attachInterface<BatchNormNormalizeKernel>(*context);
  rn::BatchNormGradSumsOp::attachInterface<BatchNormGradSumsKernel>(*context);
  rn::BatchNormGradInputOp::attachInterface<BatchNormGradInputKernel>(*context);
}
