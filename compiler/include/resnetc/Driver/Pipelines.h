//===- Pipelines.h - The pass pipelines of the resnetc driver ---*- C++ -*-===//
//
// The named phases a module goes through, from the front end to code
// generation. `resnetc compile --emit=rn-...` stops after one; resnetc-opt
// runs the same registrations (`--rn-expanded`, `--rn-inference`,
// `--rn-codegen`, `--rn-training`), and --mlir-print-ir-after-all and the
// other pass-manager options apply to both.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DRIVER_PIPELINES_H
#define RESNETC_DRIVER_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace resnetc {

enum class Phase {
  /// Shortcut expansion and canonicalisation, then the architecture hash is
  /// recorded: the form statistics, initialisation and the reference
  /// executor work on.
  Expanded,
  /// Expanded, then inference-mode batch-norm folding.
  Inference,
  /// Inference, then epilogue fusion: one op per kernel.
  CodeGen,
  /// Expanded, then rn-autodiff, training epilogue fusion,
  /// rn-append-optimizer (@train_step), rn-sync-batch-norm when asked for and
  /// rn-data-parallel, and epilogue
  /// fusion of @forward without batch-norm folding (evaluation).
  Training,
};

/// The optimizer a training library compiles in, and how its gradients are
/// averaged over the ranks of a data-parallel run.
struct OptimizerOptions {
  double momentum = 0.9;                            ///< SGD momentum.
  double weightDecay = 1e-4;                        ///< L2 weight decay.
  int64_t allreduceBucketBytes = int64_t(25) << 20; ///< rn-data-parallel's buckets.
  /// More than 0: batch norm synchronised over that many ranks (rn-sync-batch-norm).
  int64_t syncBatchNormRanks = 0;
};

/// Adds the passes that take a module from the front end to `phase`.
void buildPipeline(mlir::OpPassManager &pm, Phase phase, const OptimizerOptions &optimizer = {});

/// Registers MLIR's pass-manager command-line options (--mlir-print-ir-*,
/// --mlir-pass-statistics, ...) for runPipeline to apply: a tool calls it before
/// parsing its command line.
void registerPipelineCLOptions();

/// Runs buildPipeline's passes on `module`, with the pass-manager options of
/// the command line where the tool registered them.
mlir::LogicalResult runPipeline(mlir::ModuleOp module, Phase phase,
                                const OptimizerOptions &optimizer = {});

/// Registers the phases as pass pipelines (rn-expanded, rn-inference,
/// rn-codegen, rn-training) for resnetc-opt.
void registerPipelines();

inline mlir::LogicalResult expandModel(mlir::ModuleOp module) {
  return runPipeline(module, Phase::Expanded);
}
inline mlir::LogicalResult prepareForInference(mlir::ModuleOp module) {
  return runPipeline(module, Phase::Inference);
}
inline mlir::LogicalResult prepareForCodegen(mlir::ModuleOp module) {
  return runPipeline(module, Phase::CodeGen);
}
inline mlir::LogicalResult prepareForTraining(mlir::ModuleOp module,
                                              const OptimizerOptions &optimizer = {}) {
  return runPipeline(module, Phase::Training, optimizer);
}

} // namespace resnetc

#endif // RESNETC_DRIVER_PIPELINES_H
