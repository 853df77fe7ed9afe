//===- Pipelines.cpp - The pass pipelines of the resnetc driver -----------===//

#include "resnetc/Driver/Pipelines.h"

#include "resnetc/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
LogicalResult runPipeline(ModuleOp module, bool foldBatchNorm) {
  PassManager pm(module.getContext());
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(resnetc::createExpandShortcuts());
  if (foldBatchNorm)
    function.addPass(resnetc::createFoldBatchNorm());
  function.addPass(createCanonicalizerPass());
  return pm.run(module);
}
} // namespace

LogicalResult resnetc::expandModel(ModuleOp module) { return runPipeline(module, false); }

LogicalResult resnetc::prepareForInference(ModuleOp module) { return runPipeline(module, true); }
