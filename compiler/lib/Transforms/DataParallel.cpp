//===- DataParallel.cpp - Average over the ranks, in buckets ---------------===//
//
// rn-data-parallel: the gradients of @train_step are averaged over the
// ranks of a data-parallel run before the SGD updates read them. The pass
// knows what a runtime cannot: the order in which the backward pass writes
// the gradients. It fills buckets in that order and places each bucket's
// rn.mean_over_ranks right after its last gradient, so that the allreduce
// runs while the rest of the backward pass computes.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_DATAPARALLEL
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

int64_t bytesOf(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
}

/// Whether `a` is written before `b` in the step's block.
bool writtenBefore(Value a, Value b) {
  Operation *opA = a.getDefiningOp(), *opB = b.getDefiningOp();
  if (opA == opB)
    return cast<OpResult>(a).getResultNumber() < cast<OpResult>(b).getResultNumber();
  return opA->isBeforeInBlock(opB);
}

struct DataParallelPass : resnetc::impl::DataParallelBase<DataParallelPass> {
  using DataParallelBase::DataParallelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>(kTrainStepFunction);
    if (!step) {
      module.emitError("rn-data-parallel needs @")
          << kTrainStepFunction << " (run rn-autodiff, then rn-append-optimizer)";
      return signalPassFailure();
    }
    if (bucketBytes <= 0) {
      module.emitError("rn-data-parallel: bucket-bytes must be positive, got ")
          << int64_t(bucketBytes);
      return signalPassFailure();
    }
    Block &body = step.getBody().front();
    int64_t bucket = 0;
    for (auto mean : body.getOps<MeanOverRanksOp>())
      bucket = std::max(bucket, int64_t(mean.getBucket()) + 1);
    auto averaged = [](Value value) { return bool(value.getDefiningOp<MeanOverRanksOp>()); };

    // The updates by the order of their gradients' writes: the backward
    // order. Gradients averaged already (rn-sync-batch-norm's) are left alone.
    auto updates = llvm::to_vector(
        llvm::make_filter_range(body.getOps<SgdUpdateOp>(),
                                [&](SgdUpdateOp update) { return !averaged(update.getGrad()); }));
    for (SgdUpdateOp update : updates)
      if (!update.getGrad().getDefiningOp()) {
        update.emitOpError("reads a gradient that no op of the step writes");
        return signalPassFailure();
      }
    llvm::stable_sort(updates, [](SgdUpdateOp a, SgdUpdateOp b) {
      return writtenBefore(a.getGrad(), b.getGrad());
    });

    OpBuilder builder(module.getContext());
    auto average = [&](llvm::ArrayRef<Value> values, Operation *after) {
      builder.setInsertionPointAfter(after);
      return MeanOverRanksOp::create(builder, after->getLoc(), values, bucket++);
    };
    for (size_t first = 0; first < updates.size();) {
      // Fill the bucket; a gradient larger than a bucket has one of its own.
      size_t end = first;
      int64_t bytes = 0;
      while (end < updates.size() &&
             (end == first || bytes + bytesOf(updates[end].getGrad()) <= bucketBytes))
        bytes += bytesOf(updates[end++].getGrad());
      llvm::SmallVector<Value> grads;
      for (size_t i = first; i < end; ++i)
        grads.push_back(updates[i].getGrad());
      MeanOverRanksOp mean = average(grads, grads.back().getDefiningOp());
      for (size_t i = first; i < end; ++i)
        updates[i].getGradMutable().assign(mean.getResult(i - first));
      first = end;
    }

    // The running statistics, after their last update: what the step
    // returns as the next state is the mean over the ranks (unless they come
    // from averaged batch statistics, the same on every rank).
    auto statistics = llvm::to_vector(llvm::make_filter_range(
        body.getOps<RunningStatsUpdateOp>(),
        [&](RunningStatsUpdateOp update) { return !averaged(update.getMean()); }));
    if (statistics.empty())
      return;
    llvm::SmallVector<Value> values;
    for (RunningStatsUpdateOp update : statistics)
      values.append({update.getNewRunningMean(), update.getNewRunningVar()});
    MeanOverRanksOp mean = average(values, statistics.back());
    auto terminator = cast<func::ReturnOp>(body.getTerminator());
    for (auto [value, averaged] : llvm::zip(values, mean.getResults()))
      value.replaceUsesWithIf(averaged,
                              [&](OpOperand &use) { return use.getOwner() == terminator; });
  }
};

} // namespace
