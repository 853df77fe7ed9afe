//===- ObjectEmitter.h - LLVM dialect to a relocatable object ---*- C++ -*-===//

#ifndef RESNETC_CODEGEN_OBJECTEMITTER_H
#define RESNETC_CODEGEN_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace resnetc::codegen {

/// The LLVM target triple of a Halide-style target string (`host`,
/// `x86-64-linux-avx2-fma`, `arm-64-linux`, ...), or an empty string with
/// `error` set for a target resnetc cannot emit orchestration code for.
std::string tripleForTarget(llvm::StringRef target, std::string &error);

/// Whether a Halide target string names `feature` (`cuda` in
/// `x86-64-linux-cuda-cuda_capability_80`).
bool targetHasFeature(llvm::StringRef target, llvm::StringRef feature);

/// Translates an LLVM-dialect module to LLVM IR and compiles it with LLVM 22
/// into a position-independent object for `triple`.
mlir::LogicalResult emitObject(mlir::ModuleOp module, llvm::StringRef triple,
                               llvm::SmallVectorImpl<char> &object, std::string &error);

/// The LLVM IR of the module, as text (`--emit=llvm-ir`).
mlir::LogicalResult emitLlvmIr(mlir::ModuleOp module, llvm::StringRef triple, llvm::raw_ostream &os,
                               std::string &error);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_OBJECTEMITTER_H
