//===- Pipelines.cpp - The pass pipelines of the resnetc driver -----------===//

#include "resnetc/Driver/Pipelines.h"

#include "resnetc/Analysis/ModelStats.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
enum class Stage { Expanded, Inference, CodeGen };

LogicalResult runPipeline(ModuleOp module, Stage stage) {
  PassManager expand(module.getContext());
  OpPassManager &expandFunction = expand.nest<func::FuncOp>();
  expandFunction.addPass(resnetc::createExpandShortcuts());
  expandFunction.addPass(createCanonicalizerPass());
  if (failed(expand.run(module)))
    return failure();
  // Weights files are tied to this form; later rewrites keep the identity.
  resnetc::recordArchitectureHash(module);
  if (stage == Stage::Expanded)
    return success();

  PassManager pm(module.getContext());
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(resnetc::createFoldBatchNorm());
  function.addPass(createCanonicalizerPass());
  if (stage == Stage::CodeGen) {
    function.addPass(resnetc::createFuseEpilogues());
    function.addPass(createCSEPass());
  }
  return pm.run(module);
}
} // namespace

LogicalResult resnetc::expandModel(ModuleOp module) { return runPipeline(module, Stage::Expanded); }

LogicalResult resnetc::prepareForInference(ModuleOp module) {
  return runPipeline(module, Stage::Inference);
}

LogicalResult resnetc::prepareForCodegen(ModuleOp module) {
  return runPipeline(module, Stage::CodeGen);
}

LogicalResult resnetc::prepareForTraining(ModuleOp module, const OptimizerOptions &optimizer) {
  if (failed(runPipeline(module, Stage::Expanded)))
    return failure();
  PassManager pm(module.getContext());
  pm.addPass(resnetc::createAutodiff());
  pm.nest<func::FuncOp>().addPass(createCanonicalizerPass());
  if (failed(pm.run(module)))
    return failure();
  auto trainGrads = module.lookupSymbol<func::FuncOp>(rn::kTrainGradsFunction);
  if (!trainGrads)
    return module.emitError("rn-autodiff left no @") << rn::kTrainGradsFunction;
  PassManager fuseTraining(module.getContext(), func::FuncOp::getOperationName());
  fuseTraining.addPass(resnetc::createFuseTrainingEpilogues());
  if (failed(fuseTraining.run(trainGrads)))
    return failure();
  PassManager appendOptimizer(module.getContext());
  AppendOptimizerOptions optimizerOptions;
  optimizerOptions.momentum = optimizer.momentum;
  optimizerOptions.weightDecay = optimizer.weightDecay;
  appendOptimizer.addPass(resnetc::createAppendOptimizer(optimizerOptions));
  if (failed(appendOptimizer.run(module)))
    return failure();
  // Evaluation runs @forward with the trained weights as they are: batch
  // norm stays a kernel of its own (folding would need re-preparing the
  // weights after every step).
  auto forward = module.lookupSymbol<func::FuncOp>(rn::kForwardFunction);
  PassManager fuse(module.getContext(), func::FuncOp::getOperationName());
  fuse.addPass(resnetc::createFuseEpilogues());
  fuse.addPass(createCSEPass());
  return fuse.run(forward);
}
