//===- Commands.h - The subcommands that live in their own files -*- C++ -*-===//
//
// resnetc.cpp holds stats, compile, init, targets and train; each later
// subcommand is a <Name>Command.cpp that declares its cl::SubCommand and
// options and defines its run function here. main() dispatches.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_TOOLS_RESNETC_COMMANDS_H
#define RESNETC_TOOLS_RESNETC_COMMANDS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/CommandLine.h"

namespace resnetc {
struct WeightsFile;
} // namespace resnetc

namespace resnetc::tool {

/// A subcommand defined in its own file: main() runs the first whose
/// SubCommand was given on the command line.
struct Command {
  llvm::cl::SubCommand &subCommand;
  int (*run)(mlir::MLIRContext &context);
};

/// The commands of the files below, in --help's order.
extern Command infoCommand;
extern Command importCommand;
extern Command exportCommand;
extern Command evalCommand;
extern Command predictCommand;
extern Command analyzeCommand;

/// The .onnx branches of import and export (OnnxCommands.cpp): an ONNX model
/// becomes `rnOutput` (.rn) and `weightsOutput` (.rnw); a module with its
/// shortcuts expanded and its weights become an ONNX file.
/// `describe` adds the input description and class names the command line
/// gives to the weights before they are written.
int importOnnxModel(mlir::MLIRContext &context, llvm::StringRef input, llvm::StringRef rnOutput,
                    llvm::StringRef weightsOutput,
                    llvm::function_ref<bool(WeightsFile &, std::string &)> describe);
int exportOnnxModel(mlir::ModuleOp module, const WeightsFile &weights, llvm::StringRef input,
                    llvm::StringRef output);

} // namespace resnetc::tool

#endif // RESNETC_TOOLS_RESNETC_COMMANDS_H
