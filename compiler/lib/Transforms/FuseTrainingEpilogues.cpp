//===- FuseTrainingEpilogues.cpp - Relus into their neighbours, training --===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

namespace resnetc {
#define GEN_PASS_DEF_FUSETRAININGEPILOGUES
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

/// relu(batch_norm_train(x)) -> batch_norm_train {relu}, when the relu is the
/// batch norm output's only reader. The relu's readers (the next conv, the
/// relu's gradient) then read the batch norm's output, which is the same
/// tensor.
bool fuseIntoBatchNorm(ReluOp relu) {
  auto bn = relu.getInput().getDefiningOp<BatchNormTrainOp>();
  if (!bn || relu.getInput() != bn.getOutput() || bn.getRelu() || !bn.getOutput().hasOneUse())
    return false; // (a relu of the statistics is not this pattern)
  bn.setRelu(true);
  bn->setLoc(FusedLoc::get(relu.getContext(), {bn.getLoc(), relu.getLoc()}));
  relu.getResult().replaceAllUsesWith(bn.getOutput());
  relu.erase();
  return true;
}

/// relu(add(a, b)) -> fused_eltwise a add b {relu}, when the relu is the sum's
/// only reader.
bool fuseIntoAdd(ReluOp relu) {
  auto add = relu.getInput().getDefiningOp<AddOp>();
  if (!add || !add.getResult().hasOneUse() || !isa<RankedTensorType>(add.getType()) ||
      cast<RankedTensorType>(add.getType()).getRank() != 4)
    return false;
  OpBuilder builder(relu);
  Location loc = FusedLoc::get(builder.getContext(), {add.getLoc(), relu.getLoc()});
  Value fused = FusedEltwiseOp::create(builder, loc, relu.getType(), add.getLhs(), Value(), Value(),
                                       Value(), Value(), add.getRhs(), FloatAttr(),
                                       /*relu=*/true)
                    .getResult();
  relu.getResult().replaceAllUsesWith(fused);
  relu.erase();
  add.erase();
  return true;
}

/// relu?(batch_norm_train(x) + r) -> batch_norm_train(x) {add r, relu?}, when
/// the sum is the batch norm output's only reader (a block's last batch norm
/// and its shortcut): one pass over the activations instead of two, and no
/// buffer for the batch norm's own output. Built at the sum, where r is
/// defined; the statistics' readers all follow it.
bool fuseAddIntoBatchNorm(Operation *sum, Value lhs, Value rhs, bool relu) {
  for (auto [mine, other] : {std::pair(lhs, rhs), std::pair(rhs, lhs)}) {
    auto bn = mine.getDefiningOp<BatchNormTrainOp>();
    if (!bn || mine != bn.getOutput() || bn.getRelu() || bn.getResidual() || !mine.hasOneUse() ||
        other.getType() != mine.getType() || bn->getBlock() != sum->getBlock())
      continue;
    auto beforeSum = [&](OpOperand &use) {
      Operation *user = sum->getBlock()->findAncestorOpInBlock(*use.getOwner());
      return !user || user->isBeforeInBlock(sum);
    };
    if (llvm::any_of(bn.getMean().getUses(), beforeSum) ||
        llvm::any_of(bn.getInvStd().getUses(), beforeSum))
      continue;
    OpBuilder builder(sum);
    Location loc = FusedLoc::get(builder.getContext(), {bn.getLoc(), sum->getLoc()});
    auto fused = BatchNormTrainOp::create(
        builder, loc, bn->getResultTypes(), bn.getInput(), bn.getGamma(), bn.getBeta(),
        bn.getRunningMean(), bn.getRunningVar(), other, bn.getEpsilonAttr(), bn.getMomentumAttr(),
        relu ? builder.getUnitAttr() : UnitAttr());
    sum->getResult(0).replaceAllUsesWith(fused.getOutput());
    sum->erase();
    bn->replaceAllUsesWith(fused->getResults());
    bn.erase();
    return true;
  }
  return false;
}

/// batch_norm_train_grad(relu_grad(dy, y), ...) -> batch_norm_train_grad(dy,
/// ... relu y), when the batch norm's gradient is the masked gradient's only
/// reader.
void fuseIntoBatchNormGrad(BatchNormTrainGradOp grad) {
  auto reluGrad = grad.getOutputGrad().getDefiningOp<ReluGradOp>();
  if (grad.getReluOutput() || !reluGrad || !reluGrad.getInputGrad().hasOneUse())
    return;
  OpBuilder builder(grad);
  Location loc = FusedLoc::get(builder.getContext(), {grad.getLoc(), reluGrad.getLoc()});
  auto fused = BatchNormTrainGradOp::create(
      builder, loc, grad.getResultTypes(), reluGrad.getOutputGrad(), grad.getInput(),
      grad.getGamma(), grad.getMean(), grad.getInvStd(), reluGrad.getOutput());
  grad->replaceAllUsesWith(fused->getResults());
  grad.erase();
  reluGrad.erase();
}

/// A copy of `grad` before `before` with the given epilogue operands.
Conv2DGradInputOp rebuildConvGradInput(Conv2DGradInputOp grad, Operation *before, Value addend,
                                       Value reluOutput) {
  OpBuilder builder(before);
  Location loc = FusedLoc::get(builder.getContext(), {grad.getLoc(), before->getLoc()});
  return Conv2DGradInputOp::create(
      builder, loc, grad.getType(), grad.getOutputGrad(), grad.getWeight(), addend, reluOutput,
      grad.getStridesAttr(), grad.getPaddingAttr(), grad.getGroupsAttr(), grad.getDilationsAttr());
}

/// add(conv2d_grad_input(dy, w), g) -> conv2d_grad_input(dy, w add g), when
/// the transposed conv's result is the sum's only reader: two gradients of
/// one value (a block's input: its first conv's and its shortcut's) summed in
/// the conv's epilogue. Built at the add, where g is defined.
void fuseAddIntoConvGradInput(AddOp add) {
  for (auto [mine, other] :
       {std::pair(add.getLhs(), add.getRhs()), std::pair(add.getRhs(), add.getLhs())}) {
    auto grad = mine.getDefiningOp<Conv2DGradInputOp>();
    if (!grad || grad.getAddend() || grad.getReluOutput() || !mine.hasOneUse() ||
        mine.getType() != other.getType())
      continue;
    Value fused = rebuildConvGradInput(grad, add, other, Value()).getInputGrad();
    add.getResult().replaceAllUsesWith(fused);
    add.erase();
    grad.erase();
    return;
  }
}

/// relu_grad(conv2d_grad_input(...), y) -> conv2d_grad_input(... relu y), when
/// the relu's gradient is the conv result's only reader.
void fuseReluGradIntoConvGradInput(ReluGradOp reluGrad) {
  auto grad = reluGrad.getOutputGrad().getDefiningOp<Conv2DGradInputOp>();
  if (!grad || grad.getReluOutput() || !grad.getInputGrad().hasOneUse())
    return;
  Value fused =
      rebuildConvGradInput(grad, reluGrad, grad.getAddend(), reluGrad.getOutput()).getInputGrad();
  reluGrad.getInputGrad().replaceAllUsesWith(fused);
  reluGrad.erase();
  grad.erase();
}

struct FuseTrainingEpiloguesPass
    : resnetc::impl::FuseTrainingEpiloguesBase<FuseTrainingEpiloguesPass> {
  using FuseTrainingEpiloguesBase::FuseTrainingEpiloguesBase;
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!functions.empty() && !llvm::is_contained(functions, function.getSymName()))
      return;
    for (ReluOp relu : llvm::to_vector(function.getOps<ReluOp>()))
      if (!fuseIntoBatchNorm(relu))
        fuseIntoAdd(relu);
    // The forward sums left: add and relu(add) of a batch norm's output.
    for (FusedEltwiseOp sum : llvm::to_vector(function.getOps<FusedEltwiseOp>()))
      if (!sum.getGamma() && sum.getAddend())
        fuseAddIntoBatchNorm(sum, sum.getInput(), sum.getAddend(), sum.getRelu());
    for (AddOp add : llvm::to_vector(function.getOps<AddOp>()))
      if (isa<RankedTensorType>(add.getType()) &&
          cast<RankedTensorType>(add.getType()).getRank() == 4)
        fuseAddIntoBatchNorm(add, add.getLhs(), add.getRhs(), /*relu=*/false);
    for (BatchNormTrainGradOp grad : llvm::to_vector(function.getOps<BatchNormTrainGradOp>()))
      fuseIntoBatchNormGrad(grad);
    // The relu gradients left (a block's output feeds two readers) join the
    // transposed conv that produces their gradient, with its sum.
    for (AddOp add : llvm::to_vector(function.getOps<AddOp>()))
      fuseAddIntoConvGradInput(add);
    for (ReluGradOp reluGrad : llvm::to_vector(function.getOps<ReluGradOp>()))
      fuseReluGradIntoConvGradInput(reluGrad);
  }
};

} // namespace
