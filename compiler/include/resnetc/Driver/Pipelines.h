//===- Pipelines.h - The pass pipelines of the resnetc driver ---*- C++ -*-===//

#ifndef RESNETC_DRIVER_PIPELINES_H
#define RESNETC_DRIVER_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"

namespace resnetc {

/// Shortcut expansion, then canonicalisation: the form statistics,
/// initialisation and the reference executor work on.
mlir::LogicalResult expandModel(mlir::ModuleOp module);

/// expandModel, then inference-mode batch-norm folding and canonicalisation.
mlir::LogicalResult prepareForInference(mlir::ModuleOp module);

/// prepareForInference, then epilogue fusion: one op per kernel.
mlir::LogicalResult prepareForCodegen(mlir::ModuleOp module);

/// The optimizer a training library compiles in.
struct OptimizerOptions {
  double momentum = 0.9;     ///< SGD momentum.
  double weightDecay = 1e-4; ///< L2 weight decay.
};

/// For a training library: expansion, rn-autodiff (@train_grads), training
/// epilogue fusion, rn-append-optimizer (@train_step), and epilogue fusion
/// of @forward without batch-norm folding (evaluation).
mlir::LogicalResult prepareForTraining(mlir::ModuleOp module,
                                       const OptimizerOptions &optimizer = {});

} // namespace resnetc

#endif // RESNETC_DRIVER_PIPELINES_H
