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
