//===- FoldBatchNorm.cpp - Inference-mode batch norm into convs -----------===//

#include "resnetc/Dialect/Rn/LayerBuilder.h"
#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

/// Folds `bn` into the conv that feeds it when nothing else reads the conv.
bool fold(BatchNormOp bn) {
  auto conv = bn.getInput().getDefiningOp<Conv2DOp>();
  if (!conv || !conv.getResult().hasOneUse())
    return false;
  OpBuilder builder(bn);
  auto folded =
      FoldBatchNormOp::create(builder, FusedLoc::get(bn.getContext(), {conv.getLoc(), bn.getLoc()}),
                              conv.getWeight(), conv.getBias(), bn.getGamma(), bn.getBeta(),
                              bn.getMean(), bn.getVariance(), bn.getEpsilonAttr());
  auto fused =
      Conv2DOp::create(builder, conv.getLoc(), conv.getInput(), folded.getFoldedWeight(),
                       folded.getFoldedBias(), conv.getStridesAttr(), conv.getPaddingAttr(),
                       conv.getGroups(), conv.getDilationsAttr(), conv.getShortcut());
  bn.getResult().replaceAllUsesWith(fused.getResult());
  bn.erase();
  conv.erase();
  return true;
}

struct FoldBatchNormPass : resnetc::impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    SmallVector<BatchNormOp> norms;
    getOperation().walk([&](BatchNormOp op) { norms.push_back(op); });
    for (BatchNormOp bn : norms)
      fold(bn);
  }
};

} // namespace
