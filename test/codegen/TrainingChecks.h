//===- TrainingChecks.h - Compiled training against the reference -*- C++ -*-===//

#ifndef RESNETC_TEST_CODEGEN_TRAININGCHECKS_H
#define RESNETC_TEST_CODEGEN_TRAININGCHECKS_H

#include "CompiledTraining.h"

#include "resnetc/Reference/ReferenceExecutor.h"
#include "resnetc/runtime/Random.h"
#include "resnetc/runtime/WeightsFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace resnetc::test {

/// The SGD settings every compiled training library of the tests has.
inline constexpr double kMomentum = 0.9, kWeightDecay = 1e-4, kLearningRate = 0.05;

/// Saves the compiled weights of `ctx` and compares them with the reference's:
/// trained tensors by their change since `initial` (within `tolerance`,
/// relative), the others (running statistics) within 1e-4 of their size.
void expectWeightsMatch(const TrainingModel &model, void *ctx, reference::WeightMap &reference,
                        reference::WeightMap &initial, const llvm::StringMap<bool> &trainable,
                        int step, double tolerance);

/// He-initialised weights with the batch norms' scales and shifts moved off
/// 1 and 0, so that their gradients matter.
WeightsFile perturbedWeights(mlir::ModuleOp module, const llvm::StringMap<bool> &trainable,
                             Random &rng);

} // namespace resnetc::test

#endif // RESNETC_TEST_CODEGEN_TRAININGCHECKS_H
