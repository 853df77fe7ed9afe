//===- ModelTestSupport.h - Building models in unit tests -------*- C++ -*-===//

#ifndef RESNETC_TEST_UNIT_MODELTESTSUPPORT_H
#define RESNETC_TEST_UNIT_MODELTESTSUPPORT_H

#include "resnetc/Reference/ReferenceExecutor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace resnetc::test {

/// A context with the rn and func dialects loaded.
std::unique_ptr<mlir::MLIRContext> makeContext();

/// Imports .rn source (shortcuts expanded); on error, the diagnostics go to
/// `diagnostics` and the result is null.
mlir::OwningOpRef<mlir::ModuleOp>
importSource(mlir::MLIRContext &context, const std::string &source, int64_t batch = 1,
             std::string *diagnostics = nullptr,
             llvm::ArrayRef<int64_t> inputOverride = llvm::ArrayRef<int64_t>());

/// Parses a module written in MLIR's textual form.
mlir::OwningOpRef<mlir::ModuleOp> parseMlir(mlir::MLIRContext &context, const std::string &text);

std::string readExample(const std::string &name);

mlir::func::FuncOp forwardOf(mlir::ModuleOp module);

/// Runs the first function of `module` and returns its first result.
reference::Tensor
runFirstFunction(mlir::ModuleOp module, const std::vector<reference::Tensor> &inputs,
                 reference::WeightMap &weights,
                 reference::BatchNormMode mode = reference::BatchNormMode::Inference);

/// One SGD step of the reference executor in double precision: forward
/// with batch statistics, mean softmax cross-entropy, backward, then
/// momentum and weight decay on the `trainable` tensors (PyTorch's SGD, as
/// compiled) and the running statistics. Returns the loss and the number
/// correct.
struct SgdSettings {
  double momentum = 0.9, weightDecay = 1e-4, learningRate = 0.1;
  /// Dropout's masks: a library's seed (0 unless set) and its steps taken.
  uint32_t dropoutSeed = 0, dropoutStep = 0;
};
std::pair<double, int> referenceSgdStep(mlir::func::FuncOp forward, const reference::Tensor &images,
                                        const std::vector<int32_t> &labels,
                                        reference::WeightMap &weights,
                                        reference::WeightMap &momentum,
                                        const llvm::StringMap<bool> &trainable,
                                        const SgdSettings &sgd);

/// The same step from given gradients of the function's results (a
/// backbone's outputs, whose loss is the caller's): returns the results of
/// the forward pass with batch statistics.
std::vector<reference::Tensor>
referenceSgdStepFromGradients(mlir::func::FuncOp forward, const reference::Tensor &images,
                              const std::vector<reference::Tensor> &outputGradients,
                              reference::WeightMap &weights, reference::WeightMap &momentum,
                              const llvm::StringMap<bool> &trainable, const SgdSettings &sgd);

} // namespace resnetc::test

#endif // RESNETC_TEST_UNIT_MODELTESTSUPPORT_H
