//===- ToolSupport.h - What the resnetc subcommands share -------*- C++ -*-===//
//
// Each subcommand of the resnetc tool lives in its own file (<Name>Command.cpp
// or resnetc.cpp for the original ones) and reads its model through
// LoadedModel, so every command reports .rn errors the same, clang-style way.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TOOLS_RESNETC_TOOLSUPPORT_H
#define RESNETC_TOOLS_RESNETC_TOOLSUPPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"

#include <string>

namespace resnetc::tool {

/// The category whose options --help lists (the others are LLVM's).
llvm::cl::OptionCategory &optionCategory();

/// Prints "resnetc: error: <message>" and returns 1, the exit code of a
/// command that failed.
int fail(const llvm::Twine &message);

/// The options that name a network for a command that reads one besides
/// its main input (import and export: --model, --network, --input). LLVM's
/// options belong to one subcommand each, so every command makes its own.
struct ModelOptions {
  ModelOptions(llvm::cl::SubCommand &subCommand, const char *modelHelp);

  llvm::cl::opt<std::string> model;
  llvm::cl::opt<std::string> network;
  llvm::cl::opt<std::string> inputSize;
};

/// Reads, imports and verifies a model; diagnostics are printed clang-style.
class LoadedModel {
public:
  explicit LoadedModel(mlir::MLIRContext &context);

  /// `network` picks a network of a file with several; `inputOverride` is
  /// CxHxW (empty: the network's own input).
  bool load(llvm::StringRef path, int64_t batchSize, llvm::StringRef network = "",
            llvm::StringRef inputOverride = "");

  mlir::ModuleOp get() { return *module; }

  /// False, with the error said, for a network with named outputs (a
  /// backbone): `command` needs class scores.
  bool requireClassifier(llvm::StringRef command);

  /// Makes the network the probe of its 3x3 layers' responses
  /// (rn-probe-responses), which loads the network's own weights files: it
  /// keeps their architecture hash. Errors are printed.
  bool makeResponsesProbe();

private:
  mlir::MLIRContext &context;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

} // namespace resnetc::tool

#endif // RESNETC_TOOLS_RESNETC_TOOLSUPPORT_H
