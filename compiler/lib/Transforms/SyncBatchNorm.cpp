//===- SyncBatchNorm.cpp - Batch norm over the whole batch of N ranks -----===//
//
// rn-sync-batch-norm: batch norm in stages, with its statistics and its
// gradient's sums averaged over the ranks in between (rn.mean_over_ranks).
// With equal shares, the average of the ranks' means is the batch's mean,
// the average of their mean squared deviations about it is the batch's
// variance, and the average of the gradient's sums divided by a rank's
// count gives the batch's means of the gradient: each rank computes its
// share of the one-process gradient, times N, which the data-parallel
// average of the weights' gradients divides by N again.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_SYNCBATCHNORM
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

struct SyncBatchNormPass : resnetc::impl::SyncBatchNormBase<SyncBatchNormPass> {
  using SyncBatchNormBase::SyncBatchNormBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>(kTrainStepFunction);
    if (!step) {
      module.emitError("rn-sync-batch-norm needs @")
          << kTrainStepFunction << " (run rn-autodiff, then rn-append-optimizer)";
      return signalPassFailure();
    }
    if (ranks < 1) {
      module.emitError("rn-sync-batch-norm: ranks must be at least 1, got ") << int64_t(ranks);
      return signalPassFailure();
    }
    Block &body = step.getBody().front();
    OpBuilder builder(module.getContext());
    int64_t bucket = 0;
    for (auto mean : body.getOps<MeanOverRanksOp>())
      bucket = std::max(bucket, int64_t(mean.getBucket()) + 1);
    auto average = [&](Location loc, ValueRange values) {
      return MeanOverRanksOp::create(builder, loc, values, bucket++).getResults();
    };

    for (auto bn : llvm::to_vector(body.getOps<BatchNormTrainOp>())) {
      builder.setInsertionPoint(bn);
      Location loc = bn.getLoc();
      Type vector = bn.getMean().getType();
      Value input = bn.getInput();
      Value mean = average(loc, ChannelMeanOp::create(builder, loc, vector, input).getResult())[0];
      Value variance =
          average(loc, ChannelVarianceOp::create(builder, loc, vector, input, mean).getResult())[0];
      // A fused residual add (and its relu) follows the normalisation apart.
      Value residual = bn.getResidual();
      auto normalize = BatchNormNormalizeOp::create(
          builder, loc, input.getType(), vector, input, bn.getGamma(), bn.getBeta(), mean, variance,
          bn.getEpsilonAttr(), residual ? UnitAttr() : bn.getReluAttr());
      Value output = normalize.getOutput();
      if (residual)
        output = FusedEltwiseOp::create(builder, loc, output.getType(), output, Value(), Value(),
                                        Value(), Value(), residual, FloatAttr(), bn.getReluAttr())
                     .getResult();
      bn.getOutput().replaceAllUsesWith(output);
      bn.getMean().replaceAllUsesWith(mean);
      bn.getInvStd().replaceAllUsesWith(normalize.getInvStd());
      bn.erase();
    }

    for (auto grad : llvm::to_vector(body.getOps<BatchNormTrainGradOp>())) {
      builder.setInsertionPoint(grad);
      Location loc = grad.getLoc();
      Type vector = grad.getGamma().getType();
      auto sums = BatchNormGradSumsOp::create(builder, loc, vector, vector, grad.getOutputGrad(),
                                              grad.getInput(), grad.getMean(), grad.getInvStd(),
                                              grad.getReluOutput());
      ValueRange averaged = average(loc, sums.getResults());
      auto input = BatchNormGradInputOp::create(builder, loc, grad.getInput().getType(),
                                                grad.getOutputGrad(), grad.getInput(),
                                                grad.getGamma(), grad.getMean(), grad.getInvStd(),
                                                averaged[0], averaged[1], grad.getReluOutput());
      grad.getInputGrad().replaceAllUsesWith(input.getInputGrad());
      grad.getGammaGrad().replaceAllUsesWith(averaged[0]);
      grad.getBetaGrad().replaceAllUsesWith(averaged[1]);
      grad.erase();
    }

    // The running variance's unbiased correction counts the whole batch.
    for (auto update : body.getOps<RunningStatsUpdateOp>())
      update.setCount(update.getCount() * ranks);
  }
};

} // namespace
