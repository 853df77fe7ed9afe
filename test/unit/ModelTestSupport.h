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

} // namespace resnetc::test

#endif // RESNETC_TEST_UNIT_MODELTESTSUPPORT_H
