//===- Pipelines.cpp - The pass pipelines of the resnetc driver -----------===//

#include "resnetc/Driver/Pipelines.h"

#include "resnetc/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
enum class Stage { Expanded, Inference, CodeGen };

LogicalResult runPipeline(ModuleOp module, Stage stage) {
  PassManager pm(module.getContext());
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(resnetc::createExpandShortcuts());
  if (stage != Stage::Expanded)
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
