//===- ObjectEmitter.h - LLVM dialect to a relocatable object ---*- C++ -*-===//

#ifndef RESNETC_CODEGEN_OBJECTEMITTER_H
#define RESNETC_CODEGEN_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace resnetc::codegen {

/// Translates an LLVM-dialect module to LLVM IR and compiles it with LLVM 22
/// into a position-independent object for `triple`.
mlir::LogicalResult emitObject(mlir::ModuleOp module, llvm::StringRef triple,
                               llvm::SmallVectorImpl<char> &object, std::string &error);

/// The LLVM IR of the module, as text (`--emit=llvm-ir`).
mlir::LogicalResult emitLlvmIr(mlir::ModuleOp module, llvm::StringRef triple, llvm::raw_ostream &os,
                               std::string &error);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_OBJECTEMITTER_H
