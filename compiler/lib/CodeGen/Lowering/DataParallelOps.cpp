//===- DataParallelOps.cpp - Averaging over the ranks, in the plan --------===//
//
// KernelOpInterface for rn.mean_over_ranks (rn-data-parallel): no kernel,
// but a step that starts the bucket's allreduce where the op stands; the
// plan finishes it before the first reader of a result. The averages are
// written in place.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"

using namespace mlir;
using namespace resnetc;
using namespace resnetc::codegen;

namespace {

struct MeanOverRanksSteps
    : KernelOpInterface::ExternalModel<MeanOverRanksSteps, rn::MeanOverRanksOp> {
  LogicalResult planKernels(Operation *op, KernelPlanBuilder &plan) const {
    auto mean = cast<rn::MeanOverRanksOp>(op);
    std::vector<BufferRef> args;
    for (Value input : mean.getInputs()) {
      FailureOr<BufferRef> ref = plan.read(op, input);
      if (failed(ref))
        return failure();
      args.push_back(*ref);
    }
    return plan.startMeanOverRanks(op, mean.getBucket(), std::move(args), mean.getResults());
  }
};

} // namespace

void codegen::attachDataParallelSteps(MLIRContext *context) {
  rn::MeanOverRanksOp::attachInterface<MeanOverRanksSteps>(*context);
}
