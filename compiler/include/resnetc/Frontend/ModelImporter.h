//===- ModelImporter.h - From .rn source to the rn dialect ------*- C++ -*-===//

#ifndef RESNETC_FRONTEND_MODELIMPORTER_H
#define RESNETC_FRONTEND_MODELIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

#include <string>

namespace resnetc {

struct ImportOptions {
  /// Images per forward pass: the leading dimension of every activation.
  int64_t batch = 1;
  /// The network to build when the file defines several.
  std::string network;
  /// Replaces the network's `input = CxHxW` (e.g. ImageNet networks at 64x64
  /// in tests); empty keeps it.
  llvm::SmallVector<int64_t, 3> inputOverride;
  /// Where an error about the options themselves goes (a `network` the file
  /// does not define): it has no source location. Null: an MLIR diagnostic.
  std::string *optionError = nullptr;
};

/// Parses the main buffer of `sourceMgr` (the prelude is added to it),
/// evaluates it and builds a module holding `func.func @forward` in the rn
/// dialect, every op located at the .rn statement that made it. Errors are
/// reported through MLIR diagnostics (install a SourceMgrDiagnosticHandler to
/// print them clang-style); the result is null after one.
mlir::OwningOpRef<mlir::ModuleOp>
importModel(mlir::MLIRContext &context, llvm::SourceMgr &sourceMgr, const ImportOptions &options);

} // namespace resnetc

#endif // RESNETC_FRONTEND_MODELIMPORTER_H
