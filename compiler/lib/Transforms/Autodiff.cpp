//===- Autodiff.cpp - The backward graph of a residual network ------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace resnetc {
#define GEN_PASS_DEF_AUTODIFF
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

class BackwardBuilder {
public:
  BackwardBuilder(OpBuilder &builder) : builder(builder) {}

  /// Adds `delta` to the gradient of `value`.
  void accumulate(Value value, Value delta) {
    auto [it, inserted] = grads.try_emplace(value, delta);
    if (!inserted)
      it->second = AddOp::create(builder, delta.getLoc(), it->second, delta).getResult();
  }
  Value gradOf(Value value) const { return grads.lookup(value); }

  /// Emits the gradient ops of `op`, given the gradient of its first result.
  LogicalResult differentiate(Operation *op, Value dy);

private:
  OpBuilder &builder;
  llvm::DenseMap<Value, Value> grads;
};

LogicalResult BackwardBuilder::differentiate(Operation *op, Value dy) {
  if (op->getNumOperands() == 0)
    return success(); // a weight: its gradient is the result
  auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
  if (!differentiable)
    return op->emitOpError("cannot be differentiated (run rn-expand-shortcuts first; "
                           "batch norm must not be folded)");
  return differentiable.buildGradients(
      builder, dy, [&](Value operand, Value grad) { accumulate(operand, grad); });
}

struct AutodiffPass : resnetc::impl::AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(kForwardFunction);
    if (!forward || forward.getNumArguments() != 1 || forward.getNumResults() < 1) {
      module.emitError("rn-autodiff needs func.func @forward with one input and a result");
      return signalPassFailure();
    }
    // A classifier (one N x classes result) is trained on labels through
    // softmax cross-entropy; a backbone (named feature maps) on the
    // gradients of its outputs, which the caller computes.
    bool backbone = module->hasAttr(kOutputNamesAttr);
    if (!backbone && forward.getNumResults() != 1) {
      module.emitError("rn-autodiff: @forward returns several values but the module names no "
                       "outputs (")
          << kOutputNamesAttr << ")";
      return signalPassFailure();
    }
    if (module.lookupSymbol(kTrainGradsFunction)) {
      module.emitError("the module already has @") << kTrainGradsFunction;
      return signalPassFailure();
    }
    OpBuilder builder(module.getContext());
    builder.setInsertionPointAfter(forward);
    auto images = cast<RankedTensorType>(forward.getArgumentTypes()[0]);
    llvm::SmallVector<Type> arguments{images};
    if (backbone)
      llvm::append_range(arguments, forward.getResultTypes());
    else
      arguments.push_back(RankedTensorType::get({images.getDimSize(0)}, builder.getI32Type()));
    auto function = func::FuncOp::create(builder, forward.getLoc(), kTrainGradsFunction,
                                         builder.getFunctionType(arguments, {}));
    Block *body = function.addEntryBlock();
    builder.setInsertionPointToStart(body);

    // Forward, with batch norm on the batch's statistics.
    IRMapping mapping;
    mapping.map(forward.getArgument(0), body->getArgument(0));
    std::vector<Operation *> trained;
    std::vector<WeightOp> weights;
    for (Operation &op : forward.getBody().front().without_terminator()) {
      Operation *copy;
      if (auto bn = dyn_cast<BatchNormOp>(op)) {
        copy = BatchNormTrainOp::create(
            builder, bn.getLoc(), bn.getType(), bn.getGamma().getType(), bn.getGamma().getType(),
            mapping.lookup(bn.getInput()), mapping.lookup(bn.getGamma()),
            mapping.lookup(bn.getBeta()), mapping.lookup(bn.getMean()),
            mapping.lookup(bn.getVariance()), /*residual=*/Value(), bn.getEpsilonAttr(),
            bn.getMomentumAttr(), /*relu=*/UnitAttr());
        mapping.map(bn.getResult(), copy->getResult(0));
      } else {
        copy = builder.clone(op, mapping);
      }
      if (auto weight = dyn_cast<WeightOp>(copy); weight && !weight.getState())
        weights.push_back(weight);
      trained.push_back(copy);
    }
    llvm::SmallVector<Value> results;
    BackwardBuilder backward(builder);
    Operation *returned = forward.getBody().front().getTerminator();
    if (backbone) {
      // The outputs, and backward from the caller's gradients of them.
      for (auto [i, output] : llvm::enumerate(returned->getOperands())) {
        results.push_back(mapping.lookup(output));
        backward.accumulate(results.back(), body->getArgument(1 + i));
      }
    } else {
      // The loss, and backward from its gradient (its mean over the batch included).
      Value logits = mapping.lookup(returned->getOperand(0));
      Location lossLoc = forward.getLoc();
      results.push_back(
          SoftmaxCrossEntropyOp::create(builder, lossLoc, logits, body->getArgument(1)));
      backward.accumulate(logits, SoftmaxCrossEntropyGradOp::create(builder, lossLoc, logits,
                                                                    body->getArgument(1)));
    }
    for (Operation *op : llvm::reverse(trained)) {
      if (op->getNumResults() == 0)
        continue;
      Value dy = backward.gradOf(op->getResult(0));
      if (!dy)
        continue;
      if (failed(backward.differentiate(op, dy)))
        return signalPassFailure();
    }

    llvm::SmallVector<Attribute> names;
    for (WeightOp weight : weights) {
      Value grad = backward.gradOf(weight.getResult());
      if (!grad) {
        weight.emitOpError(backbone ? "does not influence the outputs: it has no gradient"
                                    : "does not influence the loss: it has no gradient");
        return signalPassFailure();
      }
      results.push_back(grad);
      names.push_back(weight.getNameAttr());
    }
    func::ReturnOp::create(builder, forward.getLoc(), results);
    function.setType(
        builder.getFunctionType(function.getArgumentTypes(), ValueRange(results).getTypes()));
    function->setAttr(kGradientNamesAttr, builder.getArrayAttr(names));
  }
};

} // namespace
