//===- Autodiff.cpp - The backward graph of a residual network ------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

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
  Location loc = op->getLoc();
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](Conv2DOp conv) {
        accumulate(conv.getInput(),
                   Conv2DGradInputOp::create(builder, loc, conv.getInput().getType(), dy,
                                             conv.getWeight(), /*addend=*/Value(),
                                             /*relu_output=*/Value(), conv.getStridesAttr(),
                                             conv.getPaddingAttr()));
        accumulate(conv.getWeight(),
                   Conv2DGradWeightOp::create(builder, loc, conv.getWeight().getType(), dy,
                                              conv.getInput(), conv.getStridesAttr(),
                                              conv.getPaddingAttr()));
        if (conv.getBias())
          accumulate(conv.getBias(), ChannelSumOp::create(builder, loc, dy));
        return success();
      })
      .Case([&](BatchNormTrainOp bn) {
        auto grad = BatchNormTrainGradOp::create(
            builder, loc, bn.getInput().getType(), bn.getGamma().getType(), bn.getGamma().getType(),
            dy, bn.getInput(), bn.getGamma(), bn.getMean(), bn.getInvStd(),
            bn.getRelu() ? bn.getOutput() : Value()); // a fused relu masks dy
        accumulate(bn.getInput(), grad.getInputGrad());
        accumulate(bn.getGamma(), grad.getGammaGrad());
        accumulate(bn.getBeta(), grad.getBetaGrad());
        return success();
      })
      .Case([&](ReluOp relu) {
        accumulate(relu.getInput(), ReluGradOp::create(builder, loc, dy, relu.getResult()));
        return success();
      })
      .Case([&](AddOp add) {
        accumulate(add.getLhs(), dy);
        accumulate(add.getRhs(), dy);
        return success();
      })
      .Case([&](MaxPool2DOp pool) {
        accumulate(pool.getInput(),
                   MaxPool2DGradOp::create(builder, loc, pool.getInput().getType(), dy,
                                           pool.getInput(), pool.getKernelAttr(),
                                           pool.getStridesAttr(), pool.getPaddingAttr()));
        return success();
      })
      .Case([&](GlobalAvgPoolOp pool) {
        accumulate(pool.getInput(),
                   GlobalAvgPoolGradOp::create(builder, loc, pool.getInput().getType(), dy));
        return success();
      })
      .Case([&](DenseOp dense) {
        accumulate(dense.getInput(), DenseGradInputOp::create(builder, loc, dy, dense.getWeight()));
        accumulate(dense.getWeight(),
                   DenseGradWeightOp::create(builder, loc, dy, dense.getInput()));
        if (dense.getBias())
          accumulate(dense.getBias(), ChannelSumOp::create(builder, loc, dy));
        return success();
      })
      .Case([&](ZeroPadShortcutOp pad) {
        accumulate(pad.getInput(),
                   ZeroPadShortcutGradOp::create(builder, loc, pad.getInput().getType(), dy,
                                                 pad.getStrideAttr()));
        return success();
      })
      .Case([&](WeightOp) { return success(); })
      .Default([&](Operation *other) {
        return other->emitOpError("cannot be differentiated (run rn-expand-shortcuts first; "
                                  "batch norm must not be folded)");
      });
}

/// The name of the weight a value reads, for the running-statistics update.
StringAttr nameOf(Value value) {
  auto weight = value.getDefiningOp<WeightOp>();
  return weight ? weight.getNameAttr() : StringAttr();
}

struct AutodiffPass : resnetc::impl::AutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(kForwardFunction);
    if (!forward || forward.getNumArguments() != 1 || forward.getNumResults() != 1) {
      module.emitError("rn-autodiff needs func.func @forward with one input and one result");
      return signalPassFailure();
    }
    if (module.lookupSymbol(kTrainGradsFunction)) {
      module.emitError("the module already has @") << kTrainGradsFunction;
      return signalPassFailure();
    }
    OpBuilder builder(module.getContext());
    builder.setInsertionPointAfter(forward);
    auto images = cast<RankedTensorType>(forward.getArgumentTypes()[0]);
    auto labels = RankedTensorType::get({images.getDimSize(0)}, builder.getI32Type());
    auto function = func::FuncOp::create(builder, forward.getLoc(), kTrainGradsFunction,
                                         builder.getFunctionType({images, labels}, {}));
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
        copy = BatchNormTrainOp::create(builder, bn.getLoc(), bn.getType(), bn.getGamma().getType(),
                                        bn.getGamma().getType(), mapping.lookup(bn.getInput()),
                                        mapping.lookup(bn.getGamma()), mapping.lookup(bn.getBeta()),
                                        bn.getEpsilonAttr(), bn.getMomentumAttr(),
                                        nameOf(bn.getMean()), nameOf(bn.getVariance()),
                                        /*relu=*/UnitAttr());
        mapping.map(bn.getResult(), copy->getResult(0));
      } else {
        copy = builder.clone(op, mapping);
      }
      if (auto weight = dyn_cast<WeightOp>(copy); weight && !weight.getState())
        weights.push_back(weight);
      trained.push_back(copy);
    }
    Value logits = mapping.lookup(forward.getBody().front().getTerminator()->getOperand(0));
    Location lossLoc = forward.getLoc();
    Value loss = SoftmaxCrossEntropyOp::create(builder, lossLoc, logits, body->getArgument(1));

    // Backward, from the loss's gradient (its mean over the batch included).
    BackwardBuilder backward(builder);
    backward.accumulate(
        logits, SoftmaxCrossEntropyGradOp::create(builder, lossLoc, logits, body->getArgument(1)));
    for (Operation *op : llvm::reverse(trained)) {
      if (op->getNumResults() == 0)
        continue;
      Value dy = backward.gradOf(op->getResult(0));
      if (!dy)
        continue;
      if (failed(backward.differentiate(op, dy)))
        return signalPassFailure();
    }

    llvm::SmallVector<Value> results{loss};
    llvm::SmallVector<Attribute> names;
    for (WeightOp weight : weights) {
      Value grad = backward.gradOf(weight.getResult());
      if (!grad) {
        weight.emitOpError("does not influence the loss: it has no gradient");
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
