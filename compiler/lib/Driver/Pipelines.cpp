//===- Pipelines.cpp - The pass pipelines of the resnetc driver -----------===//

#include "resnetc/Driver/Pipelines.h"

#include "resnetc/Dialect/Rn/RnDialect.h"
#include "resnetc/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void resnetc::buildPipeline(OpPassManager &pm, Phase phase, const OptimizerOptions &optimizer) {
  OpPassManager &expand = pm.nest<func::FuncOp>();
  expand.addPass(createExpandShortcuts());
  expand.addPass(createCanonicalizerPass());
  // Weights files are tied to this form; later rewrites keep the identity.
  pm.addPass(createRecordArchitectureHash());
  if (phase == Phase::Expanded)
    return;

  if (phase == Phase::Training) {
    pm.addPass(createAutodiff());
    OpPassManager &training = pm.nest<func::FuncOp>();
    training.addPass(createCanonicalizerPass());
    FuseTrainingEpiloguesOptions fuseTraining;
    fuseTraining.functions = {rn::kTrainGradsFunction.str()};
    training.addPass(createFuseTrainingEpilogues(fuseTraining));
    AppendOptimizerOptions sgd;
    sgd.momentum = optimizer.momentum;
    sgd.weightDecay = optimizer.weightDecay;
    pm.addPass(createAppendOptimizer(sgd));
    if (optimizer.syncBatchNormRanks > 0) {
      SyncBatchNormOptions sync;
      sync.ranks = optimizer.syncBatchNormRanks;
      pm.addPass(createSyncBatchNorm(sync));
    }
    DataParallelOptions dataParallel;
    dataParallel.bucketBytes = optimizer.allreduceBucketBytes;
    pm.addPass(createDataParallel(dataParallel));
    // Evaluation runs @forward with the trained weights as they are: batch
    // norm stays a kernel of its own (folding would need re-preparing the
    // weights after every step).
    FuseEpiloguesOptions fuseForward;
    fuseForward.functions = {rn::kForwardFunction.str()};
    OpPassManager &forward = pm.nest<func::FuncOp>();
    StripDropoutOptions stripForward;
    stripForward.functions = fuseForward.functions;
    forward.addPass(createStripDropout(stripForward));
    forward.addPass(createFuseEpilogues(fuseForward));
    forward.addPass(createCSEPass());
    return;
  }

  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createStripDropout());
  function.addPass(createFoldBatchNorm());
  function.addPass(createCanonicalizerPass());
  if (phase == Phase::CodeGen) {
    function.addPass(createFuseEpilogues());
    function.addPass(createCSEPass());
  }
}

namespace {
/// applyPassManagerCLOptions fails where the options were never registered.
bool passManagerCLOptionsRegistered = false;
} // namespace

void resnetc::registerPipelineCLOptions() {
  registerPassManagerCLOptions();
  passManagerCLOptionsRegistered = true;
}

LogicalResult resnetc::runPipeline(ModuleOp module, Phase phase,
                                   const OptimizerOptions &optimizer) {
  PassManager pm(module.getContext());
  if (passManagerCLOptionsRegistered && failed(applyPassManagerCLOptions(pm)))
    return module.emitError("the MLIR pass-manager options cannot be applied");
  buildPipeline(pm, phase, optimizer);
  return pm.run(module);
}

namespace {
struct TrainingPipelineOptions : PassPipelineOptions<TrainingPipelineOptions> {
  Option<double> momentum{*this, "momentum", llvm::cl::desc("SGD momentum"), llvm::cl::init(0.9)};
  Option<double> weightDecay{*this, "weight-decay", llvm::cl::desc("L2 weight decay"),
                             llvm::cl::init(1e-4)};
  Option<int64_t> bucketBytes{*this, "bucket-bytes",
                              llvm::cl::desc("Gradient bytes per allreduce (rn-data-parallel)"),
                              llvm::cl::init(int64_t(25) << 20)};
  Option<int64_t> syncBatchNormRanks{
      *this, "sync-bn-ranks",
      llvm::cl::desc("Batch norm synchronised over this many ranks (0: per rank)"),
      llvm::cl::init(0)};
};
} // namespace

void resnetc::registerPipelines() {
  auto phase = [](const char *name, const char *what, Phase p) {
    PassPipelineRegistration<>(name, what, [p](OpPassManager &pm) { buildPipeline(pm, p); });
  };
  phase("rn-expanded", "resnetc's phases: shortcuts expanded, architecture hash recorded",
        Phase::Expanded);
  phase("rn-inference", "resnetc's phases: rn-expanded, then batch norm folded", Phase::Inference);
  phase("rn-codegen", "resnetc's phases: rn-inference, then epilogues fused (one op per kernel)",
        Phase::CodeGen);
  PassPipelineRegistration<TrainingPipelineOptions>(
      "rn-training",
      "resnetc's phases: rn-expanded, then @train_step (autodiff, training fusion, optimizer) "
      "and @forward fused for evaluation",
      [](OpPassManager &pm, const TrainingPipelineOptions &options) {
        buildPipeline(pm, Phase::Training,
                      {options.momentum, options.weightDecay, options.bucketBytes,
                       options.syncBatchNormRanks});
      });
}
