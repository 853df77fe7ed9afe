//===- FuseEpilogues.cpp - Convs with their epilogues, one op per kernel --===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

/// A conv whose only reader is the op being fused into it.
Conv2DOp soleConv(Value value) {
  auto conv = value.getDefiningOp<Conv2DOp>();
  return conv && conv.getResult().hasOneUse() ? conv : Conv2DOp();
}

Value fuseConv(OpBuilder &builder, Location loc, Conv2DOp conv, Value residual, bool relu) {
  // Named after the conv first, so statistics and errors name the layer.
  if (loc != conv.getLoc())
    loc = FusedLoc::get(builder.getContext(), {conv.getLoc(), loc});
  auto fused =
      FusedConv2DOp::create(builder, loc, conv.getInput(), conv.getWeight(), conv.getBias(),
                            residual, conv.getStridesAttr(), conv.getPaddingAttr(),
                            conv.getGroups(), conv.getDilationsAttr(), relu, conv.getShortcut());
  return fused.getResult();
}

/// Fuses `add` (and a relu after it, when `relu`) into one op.
Value fuseAdd(OpBuilder &builder, Location loc, AddOp add, bool relu) {
  // Prefer the residual branch's conv over a shortcut projection.
  Conv2DOp lhs = soleConv(add.getLhs()), rhs = soleConv(add.getRhs());
  if (lhs && (!rhs || !lhs.getShortcut()))
    return fuseConv(builder, loc, lhs, add.getRhs(), relu);
  if (rhs)
    return fuseConv(builder, loc, rhs, add.getLhs(), relu);
  return FusedEltwiseOp::create(builder, loc, add.getType(), add.getLhs(), Value(), Value(),
                                Value(), Value(), add.getRhs(), FloatAttr(), relu)
      .getResult();
}

Value fuseBatchNorm(OpBuilder &builder, Location loc, BatchNormOp bn, bool relu) {
  return FusedEltwiseOp::create(builder, loc, bn.getType(), bn.getInput(), bn.getGamma(),
                                bn.getBeta(), bn.getMean(), bn.getVariance(), Value(),
                                bn.getEpsilonAttr(), relu)
      .getResult();
}

/// Erases `op` once its result is replaced, and its producer if that was fused.
void replace(Operation *op, Value with, Operation *absorbed = nullptr) {
  op->getResult(0).replaceAllUsesWith(with);
  op->erase();
  if (absorbed && absorbed->use_empty())
    absorbed->erase();
}

struct FuseEpiloguesPass : resnetc::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  using FuseEpiloguesBase::FuseEpiloguesBase;
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!functions.empty() && !llvm::is_contained(functions, function.getSymName()))
      return;
    // 1. Activations absorb what produces them.
    for (ReluOp relu : llvm::to_vector(function.getOps<ReluOp>())) {
      // A relu of a pooled N x C value (a head, a squeeze-excitation gate)
      // stays: rn.fused_eltwise works on feature maps.
      if (cast<RankedTensorType>(relu.getType()).getRank() != 4)
        continue;
      OpBuilder builder(relu);
      Value input = relu.getInput();
      bool soleUse = input.hasOneUse();
      if (Conv2DOp conv = soleConv(input)) {
        replace(relu, fuseConv(builder, relu.getLoc(), conv, Value(), true), conv);
      } else if (auto add = input.getDefiningOp<AddOp>(); add && soleUse) {
        Operation *convs[2] = {add.getLhs().getDefiningOp(), add.getRhs().getDefiningOp()};
        replace(relu, fuseAdd(builder, relu.getLoc(), add, true), add);
        for (Operation *conv : convs)
          if (conv && isa<Conv2DOp>(conv) && conv->use_empty())
            conv->erase();
      } else if (auto bn = input.getDefiningOp<BatchNormOp>(); bn && soleUse) {
        replace(relu, fuseBatchNorm(builder, relu.getLoc(), bn, true), bn);
      } else {
        replace(relu, FusedEltwiseOp::create(builder, relu.getLoc(), relu.getType(), input, Value(),
                                             Value(), Value(), Value(), Value(), FloatAttr(), true)
                          .getResult());
      }
    }
    // 2. Additions without an activation (pre-activation units).
    for (AddOp add : llvm::to_vector(function.getOps<AddOp>())) {
      OpBuilder builder(add);
      Operation *convs[2] = {add.getLhs().getDefiningOp(), add.getRhs().getDefiningOp()};
      replace(add, fuseAdd(builder, add.getLoc(), add, false));
      for (Operation *conv : convs)
        if (conv && isa<Conv2DOp>(conv) && conv->use_empty())
          conv->erase();
    }
    // 3. What is left becomes one op per kernel too.
    for (BatchNormOp bn : llvm::to_vector(function.getOps<BatchNormOp>())) {
      OpBuilder builder(bn);
      replace(bn, fuseBatchNorm(builder, bn.getLoc(), bn, false));
    }
    for (Conv2DOp conv : llvm::to_vector(function.getOps<Conv2DOp>())) {
      OpBuilder builder(conv);
      replace(conv, fuseConv(builder, conv.getLoc(), conv, Value(), false));
    }
  }
};

} // namespace
