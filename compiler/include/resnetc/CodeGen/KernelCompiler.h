//===- KernelCompiler.h - Kernels to objects, in parallel, cached -*- C++ -*-===//

#ifndef RESNETC_CODEGEN_KERNELCOMPILER_H
#define RESNETC_CODEGEN_KERNELCOMPILER_H

#include "resnetc/CodeGen/KernelPlan.h"

#include <string>
#include <vector>

namespace resnetc::codegen {

struct KernelCompileOptions {
  std::string target = "host"; ///< Halide target string.
  std::string kernelgen;       ///< Path of resnetc-kernelgen.
  std::string cacheDir;        ///< Objects by content key; created if missing.
  unsigned jobs = 1;           ///< Kernel compilations at once.
};

/// The function name every kernel is compiled under: objects are cached by
/// spec and target alone, so equal kernels of different models share one.
/// writeModelArchive renames it to the plan's `<model>_k<n>`.
inline constexpr const char *kCachedKernelName = "resnetc_cached_kernel";

struct KernelObjects {
  /// One object per KernelPlan::kernels entry, defining kCachedKernelName.
  std::vector<std::string> kernels;
  std::string halideRuntime; ///< The Halide runtime for the target.
  unsigned built = 0, cached = 0;
};

/// The Halide target `target` means on this machine, as resnetc-kernelgen
/// resolves it (`host` becomes this CPU's features); "" with `error` set if
/// the generator does not answer.
std::string resolveTarget(const std::string &kernelgen, const std::string &target,
                          std::string &error);

/// Compiles every kernel of `plan` and the Halide runtime with
/// resnetc-kernelgen, `jobs` processes at a time. An object is reused from the
/// cache when the kernel's spec, resolved target (so a cache shared by
/// machines with different CPUs never mixes their kernels, whose layouts
/// may depend on the vector width) and the kernelgen binary itself are
/// unchanged. Returns false with a message naming the failing kernel.
bool compileKernels(const KernelPlan &plan, const KernelCompileOptions &options,
                    KernelObjects &objects, std::string &error);

} // namespace resnetc::codegen

#endif // RESNETC_CODEGEN_KERNELCOMPILER_H
