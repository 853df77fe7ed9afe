//===- AppendOptimizer.cpp - SGD and running statistics as IR -------------===//
//
// rn-append-optimizer: @train_grads (loss and gradients) becomes @train_step,
// the whole step, with the optimizer's state as explicit values. What used to
// be C++ steps of the kernel plan is now IR that resnetc-opt shows and lit
// tests check, and that a later pass can extend (an allreduce of the
// gradients before the updates, another optimizer).
//
//===----------------------------------------------------------------------===//

#include "resnetc/Dialect/Rn/RnOps.h"
#include "resnetc/Transforms/Passes.h"

#include "llvm/ADT/StringMap.h"

namespace resnetc {
#define GEN_PASS_DEF_APPENDOPTIMIZER
#include "resnetc/Transforms/Passes.h.inc"
} // namespace resnetc

using namespace mlir;
using namespace resnetc;
using namespace resnetc::rn;

namespace {

struct AppendOptimizerPass : resnetc::impl::AppendOptimizerBase<AppendOptimizerPass> {
  using AppendOptimizerBase::AppendOptimizerBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>(kTrainGradsFunction);
    auto names = step ? step->getAttrOfType<ArrayAttr>(kGradientNamesAttr) : ArrayAttr();
    if (!step || !names) {
      module.emitError("rn-append-optimizer needs @")
          << kTrainGradsFunction << " (run rn-autodiff)";
      return signalPassFailure();
    }
    if (module.lookupSymbol(kTrainStepFunction)) {
      module.emitError("the module already has @") << kTrainStepFunction;
      return signalPassFailure();
    }
    Block &body = step.getBody().front();
    auto terminator = cast<func::ReturnOp>(body.getTerminator());
    // The loss, or a backbone's outputs, come before the gradients.
    size_t leading = module->hasAttr(kOutputNamesAttr)
                         ? cast<ArrayAttr>(module->getAttr(kOutputNamesAttr)).size()
                         : 1;
    if (terminator.getNumOperands() != names.size() + leading) {
      step.emitOpError("returns ")
          << terminator.getNumOperands() << " values for " << names.size() << " gradient names and "
          << leading << (leading == 1 ? " loss or output" : " outputs");
      return signalPassFailure();
    }
    OpBuilder builder(terminator);
    Value lr = body.addArgument(RankedTensorType::get({}, builder.getF32Type()), step.getLoc());

    // The trained weights' values, by the gradients' names.
    llvm::StringMap<WeightOp> weights;
    for (auto weight : body.getOps<WeightOp>())
      weights.try_emplace(weight.getName(), weight);

    llvm::SmallVector<Value> nextWeights, nextMomenta, nextStatistics;
    llvm::SmallVector<Attribute> weightNames, momentumNames, statisticNames;
    for (auto [nameAttr, grad] : llvm::zip(names, terminator.getOperands().drop_front(leading))) {
      StringRef name = cast<StringAttr>(nameAttr).getValue();
      WeightOp weight = weights.lookup(name);
      if (!weight) {
        step.emitOpError("has a gradient of '") << name << "' but no rn.weight of that name";
        return signalPassFailure();
      }
      Location loc = grad.getLoc();
      Value momentumBuffer =
          OptimizerStateOp::create(builder, loc, weight.getType(), "momentum", name);
      auto update = SgdUpdateOp::create(
          builder, loc, weight.getType(), weight.getType(), weight.getResult(), momentumBuffer,
          grad, lr, builder.getF64FloatAttr(momentum), builder.getF64FloatAttr(weightDecay));
      nextWeights.push_back(update.getNewWeight());
      nextMomenta.push_back(update.getNewMomentumBuffer());
      weightNames.push_back(nameAttr);
      momentumNames.push_back(builder.getStringAttr("momentum of " + name));
    }
    // Running statistics: the values the batch norms carry, updated with the
    // batch statistics (the batch norm no longer needs them afterwards).
    for (auto bn : llvm::to_vector(body.getOps<BatchNormTrainOp>())) {
      Value runningMean = bn.getRunningMean(), runningVar = bn.getRunningVar();
      if (!runningMean || !runningVar)
        continue;
      auto meanWeight = runningMean.getDefiningOp<WeightOp>();
      auto varWeight = runningVar.getDefiningOp<WeightOp>();
      if (!meanWeight || !varWeight) {
        bn.emitOpError("has running statistics that are not rn.weight state");
        return signalPassFailure();
      }
      Type type = bn.getMean().getType();
      auto shape = cast<RankedTensorType>(bn.getInput().getType()).getShape();
      auto update = RunningStatsUpdateOp::create(
          builder, bn.getLoc(), type, type, runningMean, runningVar, bn.getMean(), bn.getInvStd(),
          bn.getMomentumAttr(), bn.getEpsilonAttr(),
          builder.getI64IntegerAttr(shape[0] * shape[2] * shape[3]));
      bn.getRunningMeanMutable().clear();
      bn.getRunningVarMutable().clear();
      nextStatistics.append({update.getNewRunningMean(), update.getNewRunningVar()});
      statisticNames.append({meanWeight.getNameAttr(), varWeight.getNameAttr()});
    }

    llvm::SmallVector<Value> results(terminator.getOperands().take_front(leading));
    llvm::SmallVector<Attribute> updates;
    for (auto [values, labels] :
         {std::pair{&nextWeights, &weightNames}, std::pair{&nextMomenta, &momentumNames},
          std::pair{&nextStatistics, &statisticNames}}) {
      results.append(values->begin(), values->end());
      updates.append(labels->begin(), labels->end());
    }
    func::ReturnOp::create(builder, terminator.getLoc(), results);
    terminator.erase();
    step.setType(builder.getFunctionType(body.getArgumentTypes(), ValueRange(results).getTypes()));
    step.setSymName(kTrainStepFunction);
    step->removeAttr(kGradientNamesAttr);
    step->setAttr(kStateUpdatesAttr, builder.getArrayAttr(updates));
  }
};

} // namespace
