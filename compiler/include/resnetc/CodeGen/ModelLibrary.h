//===- ModelLibrary.h - The header and archive users link -------*- C++ -*-===//

#ifndef RESNETC_CODEGEN_MODELLIBRARY_H
#define RESNETC_CODEGEN_MODELLIBRARY_H

#include "resnetc/CodeGen/KernelPlan.h"

#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace resnetc::codegen {

/// Writes `<model>.h`: the C API of a generated library, its shapes and sizes
/// as constants, and the status codes.
void writeModelHeader(llvm::raw_ostream &os, const KernelPlan &plan, llvm::StringRef source);

/// Writes lib<model>.a: the orchestration object (member <model>.o), the
/// kernel objects (each compiled as kCachedKernelName, renamed to its name in
/// `kernelNames`), the Halide runtime and the members of the resnetc runtime
/// archive, with a symbol table; each object exports only the library's API
/// (LibrarySymbols.h). Deterministic (no timestamps, uids or modes).
bool writeModelArchive(const std::string &path, llvm::StringRef model,
                       llvm::ArrayRef<char> orchestration,
                       const std::vector<std::string> &kernelObjects,
                       const std::vector<std::string> &kernelNames,
                       const std::string &halideRuntime, const std::string &runtimeArchive,
                       std::string &error);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_MODELLIBRARY_H
